"""Summary benchmark (issue 5): with 100,000 incidents over two years, the weekly summary and chart
are ready in under 2 s and a timeline page in under 100 ms.

The incidents (and one alert for every 20 incidents) are written in the order they were reported,
through storage.incidents.create and storage.alerts (their own code and sealing; 10,000 incidents
per storage.db transaction, before the bot starts), spread over 104 weeks, 20 hotspots, every
category, perpetrator and severity, 200 reporters in 10 teams. Then, each the median of --runs runs:
  - bot.services.summary.build for the latest full week (what the Monday job sends), org-wide and
    for one team, summary_text, bot.chart.weekly_chart (the first chart of a process is timed in a
    fresh process: it includes importing matplotlib);
  - /summary from a manager through the real Application (long polling on the in-process Bot API
    stand-in, real clock, 1 s tick running): update pushed -> sendMessage and sendPhoto handed over;
  - /timeline through the Application: the first page, and the pages at offsets 5000 and 50000
    (the "Next" button's callback, the page edited in place; the manager's stored conversation is
    first put on the page whose button leads there), and storage.incidents.page at the same offsets;
and the same commands answered by a bare python-telegram-bot bot with the same text and PNG ready in
memory (the framework's floor), for ratios.

    .venv/bin/python bench/summary.py              # 100,000 incidents, about 45 s
    .venv/bin/python bench/summary.py --n 10000    # quick
    .venv/bin/python bench/summary.py --check --n 10000 --runs 1   # as tests/ runs it

Invariants (the "invariant" table, every run), against counts kept while filling (not read back
from the database): the database holds every incident and alert; build() for the latest full week,
org-wide and for one team, has the right total, counts by type, severity, place and perpetrator,
12 weeks of counts by type, and alerts and missed check-outs; /summary through the bot says this
week's total; every timeline page, through the bot and from incidents.page, says the right total
and shows the right number of rows; no handler error; no warning logged. With --check the exit
status is 1, with a one-line reason on stderr, exactly when one fails, whatever the timings (the
2 s and 100 ms targets included); without, it is 0 (`make bench` measures).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from contextlib import suppress
from datetime import date, datetime, timedelta
from datetime import time as dtime
from typing import Any

from _common import (
    Invariants,
    LogCounter,
    add_check_flag,
    emit_result,
    exit_status,
    notes,
    ratio,
    run_child,
    seconds,
    table,
)
from _runner import BareBot, BenchBot, config_with, median, next_user_id, ptb_version, sent_after

WEEKS = 104
TEAMS = 10
REPORTERS = 200
SUMMARY_TARGET = 2.0
PAGE_TARGET = 0.1
BATCH = 10_000  # incidents per transaction while filling the database
ACCOUNT_WORDS = (
    "two men", "followed us", "from the park", "took the condoms", "threatened to call the police",
    "said they know where I live", "pushed my colleague", "asked for money", "took photos", "shouted insults",
)  # fmt: skip
CATEGORY_WEIGHTS = {
    "threat": 22, "physical": 9, "sexual": 5, "arrest": 6, "police": 12, "theft": 10, "blackmail": 4,
    "outing": 3, "materials": 7, "online": 6, "office": 1, "stalking": 6, "discrimination": 7, "other": 2,
}  # fmt: skip
PERPETRATOR_WEIGHTS = {
    "police": 20, "client": 18, "venue": 8, "community": 16, "family": 5, "gang": 9, "official": 4,
    "unknown": 15, "other": 5,
}  # fmt: skip
CUSTOM_PLACES = ("Behind the market", "Bus stop 14", "Hotel Rex", "Corner of 6th and 9th")
TIMELINES = {
    "tl_12w": "/timeline (12 weeks, page 1)",
    "tl_all": "/timeline all (page 1)",
    "tl_5000": "Next button at offset 5000 (all)",
    "tl_50000": "Next button at offset 50000 (all)",
    "tl_filtered": "/timeline all physical parque central",
}


def weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


async def fill(bot: BenchBot, n: int, rng: random.Random) -> dict[str, Any]:
    """n incidents over WEEKS weeks ending today, and n // 20 alerts over the same time (all resolved)."""
    from bot.services.incidents import week_of

    storage, org, tz = bot.storage, bot.org, bot.config.tz
    now = bot.clock.now()
    today = now.astimezone(tz).date()
    hotspots = [h.name for h in bot.config.hotspots]
    t0 = time.perf_counter()
    async with storage.db.tx() as tx:
        teams = [await storage.orgs.team_get_or_create(tx, org.id, f"team {t}", now) for t in range(TEAMS)]
        reporters = [await bot.add_person(tx, "worker", teams[i % TEAMS].id) for i in range(REPORTERS)]
        supervisors = {team.id: await bot.add_person(tx, "supervisor", team.id) for team in teams}
    days = WEEKS * 7
    reports = []  # (reported at, reporter, day, fields), then written in the order they were reported
    for _ in range(n):
        reporter = rng.choice(reporters)
        day = today - timedelta(days=rng.randrange(days))
        roll = rng.random()
        if roll < 0.85:
            place_kind, place = "hotspot", hotspots[min(int(rng.paretovariate(1.2)) - 1, len(hotspots) - 1)]
        elif roll < 0.90:
            place_kind, place = "other", rng.choice(CUSTOM_PLACES)
        else:
            place_kind, place = rng.choice(("online", "office", "transport")), None
        account = None
        if rng.random() < 0.6:
            account = " ".join(rng.choice(ACCOUNT_WORDS) for _ in range(rng.randrange(4, 30)))
        reported = datetime.combine(day, dtime(rng.randrange(24), rng.randrange(60)), tzinfo=tz)
        reported = min(reported + timedelta(hours=rng.randrange(48)), now)
        fields = {
            "category": weighted(rng, CATEGORY_WEIGHTS),
            "affected": rng.choice(("me", "me", "colleague", "beneficiary", "organization")),
            "place_kind": place_kind,
            "place": place,
            "perpetrator": weighted(rng, PERPETRATOR_WEIGHTS),
            "severity": rng.choice((1, 1, 1, 2, 2, 2, 3, 3, 4, None)),
            "account": account,
            "support": rng.choice(("medical", "legal", "psychological", "relocation", "none", None)),
            "authorities": rng.choice(("yes", "no", "afraid", None)),
        }
        reports.append((reported, reporter, day, fields))
    reports.sort(key=lambda r: r[0])
    for first in range(0, n, BATCH):
        async with storage.db.tx() as tx:
            for reported, reporter, day, fields in reports[first : first + BATCH]:
                await storage.incidents.create(
                    tx,
                    org_id=org.id,
                    reporter_id=reporter.id,
                    team_id=reporter.team_id,
                    fields=fields,
                    occurred_on=day,
                    week=week_of(day),
                    now=reported,
                )
    t_incidents = time.perf_counter() - t0
    alerts = []  # (raised at, kind, team id): what the summaries must count
    async with storage.db.tx() as tx:
        for _ in range(n // 20):
            reporter = rng.choice(reporters)
            raised = now - timedelta(seconds=rng.randrange(days * 86400))
            kind = rng.choice(("missed_checkout", "missed_checkout", "red", "yellow"))
            alerts.append((raised, kind, reporter.team_id))
            alert_id = await storage.alerts.create(
                tx,
                org_id=org.id,
                person_id=reporter.id,
                team_id=reporter.team_id,
                checkin_id=None,
                kind=kind,
                raised_at=raised,
                managers_due_at=None,
                next_repeat_at=None,
            )
            supervisor = supervisors[reporter.team_id]
            if rng.random() < 0.7:
                acked = raised + timedelta(seconds=rng.randrange(30, 1800))
                await storage.alerts.acknowledge(tx, alert_id, supervisor.id, acked)
            await storage.alerts.resolve(tx, alert_id, supervisor.id, "reached_safe", raised + timedelta(hours=1))
    written = [(reporter.team_id, day, fields) for _, reporter, day, fields in reports]
    elapsed = time.perf_counter() - t0
    return {"fill_s": elapsed, "incidents_s": t_incidents, "teams": teams, "written": written, "alerts": alerts}


def expected_summary(filled: dict[str, Any], week: date, tz: Any, team_id: str | None = None) -> dict[str, Any]:
    """What build() must find for `week`, counted from what fill() wrote (not read back from the database)."""
    from bot.services.incidents import week_of
    from bot.services.summary import WEEKS_OF_HISTORY, weeks_back

    history = set(weeks_back(week, WEEKS_OF_HISTORY))
    mine = [(week_of(day), f) for team, day, f in filled["written"] if team_id in (None, team)]
    this = [f for w, f in mine if w == week.isoformat()]
    start = datetime.combine(week, dtime(), tzinfo=tz)
    end = start + timedelta(weeks=1)
    raised = [kind for at, kind, team in filled["alerts"] if team_id in (None, team) and start <= at < end]
    return {
        "total": len(this),
        "by type": Counter(f["category"] for f in this),
        "by severity": Counter(f["severity"] for f in this if f["severity"]),
        "by place": Counter(f["place"] for f in this if f["place"]),
        "by perpetrator": Counter(f["perpetrator"] for f in this if f["perpetrator"]),
        "12 weeks by type": Counter((w, f["category"]) for w, f in mine if w in history),
        "alerts": len(raised),
        "missed check-outs": raised.count("missed_checkout"),
    }


def summary_counts(summary: Any) -> dict[str, Any]:
    """The same numbers as expected_summary, from a Summary."""
    return {
        "total": summary.total,
        "by type": summary.by_category,
        "by severity": summary.by_severity,
        "by place": summary.by_place,
        "by perpetrator": summary.by_perpetrator,
        "12 weeks by type": Counter({(w, c): n for w, counts in summary.weekly.items() for c, n in counts.items()}),
        "alerts": summary.alerts_raised,
        "missed check-outs": summary.missed_checkouts,
    }


def differences(got: dict[str, Any], expected: dict[str, Any]) -> str:
    """ "" when they agree, else which counts differ."""
    return ", ".join(f"{key} differs" for key in expected if got.get(key) != expected[key])


async def timed(fn: Callable[[], Awaitable[Any]], runs: int) -> tuple[float, Any]:
    """Median seconds of `runs` awaits of fn(), and the last result."""
    durations, value = [], None
    for _ in range(runs):
        t = time.perf_counter()
        value = await fn()
        durations.append(time.perf_counter() - t)
    return median(durations), value


class Replies:
    """Waits for what the bot sends one chat after an update: the first message of each wanted method."""

    def __init__(self, api: Any, chat_id: int) -> None:
        self.api, self.chat_id = api, chat_id

    async def after(self, push: Callable[[], float], methods: tuple[str, ...], within: float = 30) -> tuple[float, Any]:
        def key(sent: Any) -> str | None:
            return sent.method if sent.chat_id == self.chat_id and sent.method in methods else None

        return await sent_after(self.api, push, key, len(methods), within, poll=0.001)


class StallWatch:
    """The longest time the event loop could not run anything else (a tick, an alert flush, an update)."""

    STEP = 0.005

    def __init__(self) -> None:
        self.longest = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _watch(self) -> None:
        while True:
            t = time.perf_counter()
            await asyncio.sleep(self.STEP)
            self.longest = max(self.longest, time.perf_counter() - t - self.STEP)

    async def __aenter__(self) -> StallWatch:
        self._task = asyncio.create_task(self._watch())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with suppress(asyncio.CancelledError):
            await self._task


async def through_bot(
    push: Callable[[dict[str, Any]], float],
    replies: Replies,
    factory: Any,
    runs: int,
    turn_to: Callable[[int, int], Awaitable[None]] | None = None,
) -> dict[str, Any]:
    """The same commands, through whichever Application listens on `push`. A page button edits its
    page in place; `turn_to(offset, message_id)` first puts that page where its button leads to `offset`."""
    both = ("sendMessage", "sendPhoto")
    result: dict[str, Any] = {}
    cold, got = await replies.after(lambda: push(factory.text("/summary")), both)
    result["summary_cold"] = cold
    result["summary_text"] = got["sendMessage"].text
    first_lines = result["first_lines"] = {"summary": got["sendMessage"].text.splitlines()[0]}
    async with StallWatch() as watch:
        durations = [(await replies.after(lambda: push(factory.text("/summary")), both))[0] for _ in range(runs)]
    result["summary_warm"] = median(durations)
    result["summary_stall"] = watch.longest

    async def page(make: Callable[[], dict[str, Any]], method: str = "sendMessage") -> tuple[float, Any]:
        samples, got = [], None
        for _ in range(runs):
            if turn_to is not None and method == "editMessageText":
                await turn_to(int(make()["callback_query"]["data"].split(":")[1]), message["message_id"])
            delay, got = await replies.after(lambda: push(make()), (method,))
            samples.append(delay)
        return median(samples), got[method] if got else None

    result["tl_12w"], sent = await page(lambda: factory.text("/timeline"))
    result["tl_12w_text"] = sent.text if sent else None
    first_lines["tl_12w"] = sent.text.splitlines()[0]
    result["tl_all"], sent = await page(lambda: factory.text("/timeline all"))
    first_lines["tl_all"] = sent.text.splitlines()[0]
    message = {"message_id": sent.message_id, "date": 0, "chat": factory.chat, "text": sent.text}
    for offset in (5000, 50000):
        key = f"tl_{offset}"
        result[key], sent = await page(lambda o=offset: factory.tap(message, f"tl:{o}:all:-:-"), "editMessageText")
        first_lines[key] = sent.text.splitlines()[0]
    result["tl_filtered"], sent = await page(lambda: factory.text("/timeline all physical parque central"))
    first_lines["tl_filtered"] = sent.text.splitlines()[0]
    return result


async def run_ours(args: argparse.Namespace) -> dict[str, Any]:
    from bot.chart import ChartTexts, weekly_chart
    from bot.i18n import tr
    from bot.services import incidents as inc
    from bot.services.summary import build, this_week
    from bot.services.summary_message import summary_text
    from storage.incidents import Filters
    from tests.auxil.standin import UpdateFactory

    logs = LogCounter.install()
    rng = random.Random(5)
    bot = BenchBot(config_with(), prefix="bench-summary-")
    await bot.open_storage()  # filled before the bot starts: no tick waiting behind the big transactions
    filled = await fill(bot, args.n, rng)
    async with bot.storage.db.tx() as tx:
        uid = next_user_id()
        manager = await bot.add_person(tx, "manager", None, uid)
    await bot.start()
    storage, org, tz, runs = bot.storage, bot.org, bot.config.tz, args.runs
    result: dict[str, Any] = {"fill_s": filled["fill_s"], "incidents_s": filled["incidents_s"]}
    async with storage.db.read() as tx:
        result["count"] = (await tx.one("SELECT count(*) FROM incidents"))[0]

    # -- through the Application (the first /summary of the process imports matplotlib) ----------
    factory = UpdateFactory(manager.chat_id)

    async def turn_to(offset: int, message_id: int) -> None:
        """Where pressing Next offset/10 - 1 times would have left the manager: the timeline's current
        page, message `message_id`, offers the button to `offset` (stored as the engine stores it)."""
        from bot.flows.model import Conversation

        async with storage.db.tx() as tx:
            found = await storage.conversations.get(tx, manager.id)
            conv = Conversation.load(*found) if found else Conversation()
            conv.flow, conv.step, conv.screen = "timeline", "page", message_id
            conv.codes, conv.answers = [f"tl:{offset}:all:-:-"], {"_takes": "choice"}
            await storage.conversations.put(tx, manager.id, conv.dump(), conv.flow, bot.clock.now())

    result["app"] = await through_bot(bot.push, Replies(bot.api, manager.chat_id), factory, runs, turn_to)

    # -- the parts, called directly ---------------------------------------------------------------
    week = this_week(bot.clock.now(), tz) - timedelta(weeks=1)
    result["week"] = week.isoformat()
    team_id = filled["teams"][0].id
    result["build"], summary = await timed(lambda: build(storage, org.id, week, tz), runs)
    result["build_team"], team_summary = await timed(lambda: build(storage, org.id, week, tz, team_id=team_id), runs)
    result["week_total"] = summary.total
    result["text"], text = await timed(_sync(lambda: summary_text(summary, "en")), runs)
    labels = {k: tr("en", v) for k, v in inc.CATEGORIES.items()}
    texts = ChartTexts(tr("en", "Incidents per week, by type"), tr("en", "Week starting"), tr("en", "Incidents"))
    chart = _sync(lambda: weekly_chart(summary.weekly, labels, texts))
    result["chart"], png = await timed(chart, runs)
    result["png_bytes"], result["text_chars"] = len(png), len(text)
    result["bare_payload"] = {"text": text, "png": png.hex(), "page": result["app"].pop("tl_12w_text")}
    result["app"].pop("summary_text")

    pages = []
    everything = Filters(org_id=org.id)
    since = inc.week_of(bot.clock.now().astimezone(tz).date() - timedelta(weeks=12))
    place_key = storage.incidents.place_key("Parque Central")
    for label, filters, offset in (
        ("12 weeks, offset 0 (/timeline)", Filters(org_id=org.id, since_week=since), 0),
        ("all, offset 0", everything, 0),
        ("all, offset 5000", everything, 5000),
        ("all, offset 50000", everything, 50000),
        ("all, physical at Parque Central, offset 0", Filters(org.id, category="physical", place_key=place_key), 0),
    ):

        async def one_page(filters: Filters = filters, offset: int = offset) -> Any:
            async with storage.db.read() as tx:
                return await storage.incidents.page(tx, filters, offset, 10)

        duration, (items, total) = await timed(one_page, runs)
        pages.append((label, duration, len(items), total))
    result["pages"] = pages

    # -- invariants: what was read against what fill() wrote ---------------------------------------
    inv = result["invariants"] = Invariants()
    inv.equal("incidents in the database", result["count"], args.n)
    async with storage.db.read() as tx:
        inv.equal("alerts in the database", (await tx.one("SELECT count(*) FROM alerts"))[0], args.n // 20)
    for scope, built, team in (("org-wide", summary, None), ("one team", team_summary, team_id)):
        got, expected = summary_counts(built), expected_summary(filled, week, tz, team)
        measured = differences(got, expected) or f"{got['total']} incidents, {got['alerts']} alerts"
        inv.check(f"build(), {scope}, week of {week}: every count as written", measured, got == expected)
    lines = result["app"].pop("first_lines")
    now_week = this_week(bot.clock.now(), tz)
    said = f"Week of {now_week}. Incidents: {expected_summary(filled, now_week, tz)['total']}."
    inv.equal("/summary through the bot: this week's total", lines["summary"], said)
    weeks = [inc.week_of(day) for _, day, _ in filled["written"]]
    physical = sum(f["category"] == "physical" and f["place"] == "Parque Central" for _, _, f in filled["written"])
    totals = {"tl_12w": sum(w >= since for w in weeks), "tl_all": args.n, "tl_filtered": physical}
    offsets = {"tl_12w": 0, "tl_all": 0, "tl_5000": 5000, "tl_50000": 50000, "tl_filtered": 0}
    for key, offset in offsets.items():
        inv.equal(f"{TIMELINES[key]} through the bot", lines[key], page_line(offset, totals.get(key, args.n)))
    for (label, _, shown, total), key in zip(
        pages, ("tl_12w", "tl_all", "tl_5000", "tl_50000", "tl_filtered"), strict=True
    ):
        want = totals.get(key, args.n)
        inv.equal(
            f"incidents.page(): {label}", f"{shown} of {total}", f"{min(10, max(0, want - offsets[key]))} of {want}"
        )
    await bot.close()
    inv.equal("handler errors (outreach-bot)", len(bot.errors), 0)
    inv.equal("warnings logged (outreach-bot)", logs.count, 0)
    return result | bot.outcome(logs)


def page_line(offset: int, total: int) -> str:
    """The first line of the timeline page at `offset` of `total` incidents, as the bot writes it in English."""
    if offset >= total:
        return "No incidents for this choice."
    return f"Incidents {offset + 1}–{min(offset + 10, total)} of {total}:"


def _sync(fn: Callable[[], Any]) -> Callable[[], Awaitable[Any]]:
    async def call() -> Any:
        return fn()

    return call


async def run_bare(args: argparse.Namespace, payload: dict[str, Any]) -> dict[str, Any]:
    """/summary and /timeline answered from memory with the same text, PNG and page text."""
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
    from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes

    from tests.auxil.standin import UpdateFactory

    png = bytes.fromhex(payload["png"])
    page_text = payload["page"] or "Incidents 1–10 of 11000:"
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Next ▶", callback_data="tl:10:all:-:-")]])

    async def summary(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        await update.effective_chat.send_message(payload["text"])
        await update.effective_chat.send_photo(photo=png, filename="incidents.png")

    async def timeline(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.callback_query is not None:  # a page button: the page in place, as outreach-bot does
            await update.callback_query.answer()
            await update.callback_query.edit_message_text(page_text, reply_markup=markup)
            return
        assert update.effective_chat is not None
        await update.effective_chat.send_message(page_text, reply_markup=markup)

    bot = BareBot(
        [
            CommandHandler("summary", summary),
            CommandHandler("timeline", timeline),
            CallbackQueryHandler(timeline, pattern=r"^tl:"),
        ]
    )
    await bot.start()
    factory = UpdateFactory(next_user_id())
    result = await through_bot(bot.push, Replies(bot.api, factory.user_id), factory, args.runs)
    await bot.stop()
    return result


def cold_chart() -> dict[str, Any]:
    """In a fresh process: the first weekly_chart, matplotlib import included."""
    from collections import Counter

    t = time.perf_counter()
    from bot.chart import ChartTexts, weekly_chart

    weeks = [(date(2026, 1, 5) + timedelta(weeks=i)).isoformat() for i in range(12)]
    weekly = {w: Counter({"threat": 20 + i, "police": 11, "theft": 9, "physical": 8}) for i, w in enumerate(weeks)}
    weekly_chart(weekly, {}, ChartTexts("Incidents per week, by type", "Week starting", "Incidents"))
    return {"cold_chart": time.perf_counter() - t}


def meets(value: float, target: float) -> str:
    return "-" if math.isnan(value) else ("yes" if value < target else "NO")


def report(args: argparse.Namespace, ours: dict[str, Any], bare: dict[str, Any], cold: float) -> str:
    app = ours["app"]
    warm = ours["build"] + ours["text"] + ours["chart"]
    cold_parts = ours["build"] + ours["text"] + cold
    out = [
        f"summary: {ours['count']:,} incidents over {WEEKS} weeks ({ours['count'] / WEEKS:,.0f} a week), "
        f"{args.n // 20:,} alerts, 20 hotspots, {REPORTERS} reporters in {TEAMS} teams; "
        f"SQLite synchronous=FULL in a temporary directory; median of {args.runs} runs",
        f"bare = python-telegram-bot {ptb_version()} bot answering the same commands with the same text and PNG "
        "from memory (the framework's floor); 'through the bot' = update pushed to the Bot API stand-in -> "
        "reply handed over (long polling, 1 s tick running)",
        "",
    ]

    def part(label: str, value: float) -> tuple[str, ...]:
        return (label, seconds(value), "", "", "", "")

    def total(label: str, value: float) -> tuple[str, ...]:
        return (label, seconds(value), "", "< 2 s", meets(value, SUMMARY_TARGET), "")

    def via_bot(label: str, key: str, target: float, target_text: str) -> tuple[str, ...]:
        ours_s, bare_s = app[key], bare[key]
        return (label, seconds(ours_s), seconds(bare_s), target_text, meets(ours_s, target), ratio(ours_s, bare_s))

    rows = [
        part(f"build(), org-wide, week of {ours['week']} ({ours['week_total']} incidents)", ours["build"]),
        part("build(), one team", ours["build_team"]),
        part("summary_text()", ours["text"]),
        part("weekly_chart(), first in a fresh process (imports matplotlib)", cold),
        part(f"weekly_chart(), warm ({ours['png_bytes'] // 1024} KiB PNG)", ours["chart"]),
        total("build + text + chart, warm", warm),
        total("build + text + chart, cold chart", cold_parts),
        via_bot("/summary through the bot, first (cold)", "summary_cold", SUMMARY_TARGET, "< 2 s"),
        via_bot("/summary through the bot, warm", "summary_warm", SUMMARY_TARGET, "< 2 s"),
        (
            "longest event-loop stall during a warm /summary",
            seconds(app["summary_stall"]),
            seconds(bare["summary_stall"]),
            "",
            "",
            ratio(app["summary_stall"], bare["summary_stall"]),
        ),
    ]
    out += [table(("weekly summary", "outreach-bot", "bare PTB", "target", "meets", "ratio"), rows), ""]

    rows = [via_bot(label, key, PAGE_TARGET, "< 100 ms") for key, label in TIMELINES.items()]
    for label, duration, shown, count in ours["pages"]:
        name = f"incidents.page(): {label} [{shown} of {count:,}]"
        rows.append((name, seconds(duration), "", "< 100 ms", meets(duration, PAGE_TARGET), ""))
    out += [table(("timeline page", "outreach-bot", "bare PTB", "target", "meets", "ratio"), rows), ""]
    rows = [
        ("fill: incidents through incidents.create", seconds(ours["incidents_s"])),
        ("fill: everything (people, incidents, alerts)", seconds(ours["fill_s"])),
        ("handler errors (outreach-bot)", ours["n_errors"]),
        ("warnings logged (outreach-bot)", ours["warnings"]),
    ]
    out.append(notes(rows, ("  ", ours["errors"] + ours["first_warnings"])))
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="incidents (default 100000)")
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement; the median is shown (default 5)")
    add_check_flag(parser)
    parser.add_argument("--role", choices=("cold-chart",), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role == "cold-chart":
        emit_result(cold_chart())
        return 0
    if args.n < 1000 or args.runs < 1:
        parser.error("--n must be at least 1000 and --runs at least 1")
    cold = run_child([__file__, "--role", "cold-chart"], timeout=120)["cold_chart"]
    ours = asyncio.run(run_ours(args))
    bare = asyncio.run(run_bare(args, ours.pop("bare_payload")))
    checked = ours.pop("invariants")
    print(f"{report(args, ours, bare, cold)}\n\n{checked.table()}\n")
    return exit_status(args.check, checked)


if __name__ == "__main__":
    sys.exit(main())
