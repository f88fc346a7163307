"""Deadline benchmark: N open check-ins falling due within the same minute.

Prints, as plain tables, for outreach-bot and for a bare python-telegram-bot bot doing the same
sends from its in-memory JobQueue:
  - the delay between each due time and the hand-off of its message to the (fake) Bot API
    (p50 / p99 / max, and how many arrived);
  - the time to rebuild the schedule at start (outreach-bot: build, open the database, start, first
    tick over N open check-ins with none due; bare bot: build, start, schedule N jobs);
  - catch-up at start: all N check-ins already past their alert time while the bot was down, time
    until every alert is handed over;
  - peak memory (peak RSS of each run, each in its own process);
and the ratio outreach-bot / bare bot for each.

    .venv/bin/python bench/deadlines.py               # N=10000, about 3 minutes
    .venv/bin/python bench/deadlines.py --n 500       # quick
    .venv/bin/python bench/deadlines.py --step alert  # live step = supervisor alert (deadline + grace)
    .venv/bin/python bench/deadlines.py --check --n 200 --window 1 --lead 1 --drain 20   # as tests/ runs it

Both bots run on the real clock; outreach-bot with its real 1 s escalation tick, SQLite with
synchronous=FULL in a temporary directory, and the in-process Bot API stand-in (no network).

Invariants (the "invariant" table, every run): each due message handed off exactly once, to the
right chat, and nothing else, live, at restart and in the catch-up (counted two ticks after the last
one, so that a message sent twice shows); nothing left unsent in the outbox; one open alert per
check-in after the catch-up; no warning logged. With --check the exit status is 1, with a one-line
reason on stderr, exactly when one fails, whatever the timings; without, it is 0 (`make bench`).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import importlib
import random
import re
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from _common import (
    Invariants,
    LogCounter,
    add_check_flag,
    compare_tally,
    current_rss_mb,
    emit_result,
    exit_status,
    mib,
    notes,
    outbox_unsent,
    peak_rss_mb,
    percentile,
    profile_text,
    ratio,
    run_child,
    seconds,
    table,
)
from _probes import DbProbe, JobWatch, TickWatch
from _runner import (
    SETTLE,
    TEAM_SIZE,
    BareBot,
    BenchBot,
    add_checkin,
    enrol,
    log_outcome,
    ptb_version,
    wait_until,
)

NO_MISFIRE = {"misfire_grace_time": None}
CODE_RE = re.compile(r"\bW-[0-9A-Z]{4,6}\b")
PLACES = ("Parque Central", "Bar La Luna", "Calle 5", "Sauna Sol")
CONFIG = {
    "organization": {"name": "Bench CSO", "timezone": "America/Guatemala", "language": "en"},
    "escalation": {"reminder_before": "5m", "grace": "10m", "ack_timeout": "15m", "repeat_every": "5m"},
    "hotspots": [
        {"name": "Parque Central", "kind": "park", "risk": "high", "pairs_required": True},
        {"name": "Bar La Luna", "kind": "bar", "risk": "medium"},
    ],
}


class Clocks:
    """Maps wall-clock due times onto time.monotonic(), the clock of Sent.at."""

    def __init__(self) -> None:
        self.wall0 = time.time()
        self.mono0 = time.monotonic()

    def mono(self, moment: datetime) -> float:
        return self.mono0 + (moment.timestamp() - self.wall0)


class Arrivals:
    """Hand-offs to the fake Bot API, matched to their due times by chat (prompts) or worker code (alerts),
    and counted by chat (prompts) and by (worker code, recipient chat) (alerts)."""

    def __init__(self) -> None:
        self.due_by_chat: dict[int, float] = {}
        self.due_by_code: dict[str, float] = {}
        self.prompt_delays: list[float] = []
        self.alert_delays: list[float] = []
        self.alert_times: list[float] = []
        self.prompt_times: list[float] = []
        self.prompts: Counter[int] = Counter()
        self.alerts: Counter[tuple[str, int]] = Counter()

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]

    def on_sent(self, sent: Any) -> None:
        if sent.method != "sendMessage":
            return
        text = sent.text or ""
        if "Missed check-out" in text:
            match = CODE_RE.search(text)
            code = match.group(0) if match else "?"
            self.alerts[(code, sent.chat_id)] += 1
            due = self.due_by_code.pop(code, None)
            self.alert_times.append(sent.at)
            if due is not None:
                self.alert_delays.append(sent.at - due)
            return
        self.prompts[sent.chat_id] += 1
        due = self.due_by_chat.pop(sent.chat_id, None) if sent.chat_id is not None else None
        self.prompt_times.append(sent.at)
        if due is not None:
            self.prompt_delays.append(sent.at - due)

    def catchup(self, t0: float, cpu0: float) -> dict[str, Any]:
        """Hand-offs since the (re)start at t0 (time.monotonic), CPU since cpu0."""
        alerts, prompts = [t - t0 for t in self.alert_times], [t - t0 for t in self.prompt_times]
        return {
            "alerts": len(alerts),
            "prompts": len(prompts),
            "first_alert": min(alerts, default=float("nan")),
            "p50": percentile(alerts, 50),
            "p99": percentile(alerts, 99),
            "all_alerts": max(alerts, default=float("nan")),
            "all_prompts": max(prompts, default=float("nan")),
            "cpu_s": time.process_time() - cpu0,
            "wall_s": time.monotonic() - t0,
        }

    def sent(self) -> int:
        return self.prompts.total() + self.alerts.total()

    def tally(self, prompts: list[int], alerts: list[tuple[str, int]]) -> dict[str, dict[str, int]]:
        """What was handed off since the last reset against: each of these prompts and alerts exactly once."""
        return {
            "prompts": compare_tally(self.prompts, Counter(prompts)),
            "alerts": compare_tally(self.alerts, Counter(alerts)),
        }


def delay_stats(delays: list[float]) -> dict[str, float]:
    return {
        "p50": percentile(delays, 50),
        "p99": percentile(delays, 99),
        "max": max(delays) if delays else float("nan"),
        "min": min(delays) if delays else float("nan"),
    }


def spread(start: datetime, window: float, n: int) -> list[datetime]:
    """n moments spread evenly over `window` seconds from `start`."""
    return [start + timedelta(seconds=window * i / n) for i in range(n)]


# ---------------------------------------------------------------------------------------------
# outreach-bot
# ---------------------------------------------------------------------------------------------


async def run_ours(args: argparse.Namespace) -> dict[str, Any]:
    from bot.services.ladder import fresh_schedule
    from storage import Storage
    from storage.checkins import STAGE_DUE, STAGE_REMINDED
    from storage.sealing import load_or_create_key

    for module in (
        "bot.telegram.app",
        "tests.auxil.standin",
        "config.org",
    ):  # before the memory baseline, as the bare run does
        importlib.import_module(module)
    logs = LogCounter.install()
    probe, ticks = DbProbe(), TickWatch()
    watch = JobWatch()  # build_application's hooks: the tick's advance_* steps, and every outbox flush
    n, window = args.n, args.window
    result: dict[str, Any] = {"n": n, "rss_after_imports": current_rss_mb()}
    t_setup = time.perf_counter()
    bot = BenchBot(CONFIG, "bench-deadlines-", poll=False, on_open=[probe.attach, ticks.attach], hooks=watch)
    esc, clock, api = bot.config.escalation, bot.clock, bot.api
    arrivals = Arrivals()
    api.listeners.append(arrivals.on_sent)
    rng = random.Random(7)

    def reset_counts() -> None:
        probe.clear()
        watch.clear()

    def counts() -> dict[str, Any]:
        phase = {name: sum(watch.steps[name]) for name in ("advance_checkins", "advance_alerts") if watch.steps[name]}
        if watch.flushes:
            phase["outbox.flush"] = sum(d for d, _, _ in watch.flushes)
        return {
            "phase": phase,
            "transactions": probe.counts["commits"],
            "statements": probe.counts["SQL statements"],
        }

    # -- setup: one organisation, N workers in teams of TEAM_SIZE, one supervisor per team ------
    await bot.start()
    enrolled = await enrol(bot, n)
    workers = enrolled.workers
    supervisor_chat = {t.team.id: t.supervisors[0].chat_id for t in enrolled.teams}  # where a team's alerts go
    prompts = [w.chat_id for w in workers]
    alerts = [(w.code, supervisor_chat[w.team_id]) for w in workers]

    async def settle(prompts_due: list[int], alerts_due: list[tuple[str, int]]) -> dict[str, Any]:
        """Two more ticks (a message sent twice shows), then what was handed off, and what is left unsent."""
        await asyncio.sleep(SETTLE)
        await wait_until(lambda: not ticks.in_tick, args.drain, poll=0.02)
        return {"tally": arrivals.tally(prompts_due, alerts_due), "unsent": await outbox_unsent(bot.storage)}

    async def create_checkins(storage: Any, due_times: list[datetime], kind: str) -> None:
        """One open check-in per worker. kind "due": next step is the deadline (prompt to the worker);
        "alert": the prompt went out already and the next step is deadline + grace (alert to supervisor);
        "down": the bot went down after the reminder, so the check-in still waits for its deadline."""
        created = clock.now()
        for first in range(0, n, 1000):
            async with storage.db.tx() as tx:
                for worker, due in zip(workers[first : first + 1000], due_times[first : first + 1000], strict=True):
                    if kind == "due":
                        deadline = due
                        stage, next_at = fresh_schedule(deadline, esc, created)
                    elif kind == "alert":
                        deadline = due - esc.grace
                        stage, next_at = STAGE_DUE, due
                    else:
                        deadline = due - esc.grace
                        stage, next_at = STAGE_REMINDED, deadline
                    started = min(created, deadline) - timedelta(hours=2)
                    await add_checkin(
                        storage, tx, worker, place=rng.choice(PLACES), started_at=started, deadline=deadline,
                        stage=stage, next_at=next_at,
                    )  # fmt: skip

    # -- live: N check-ins whose step falls due within one real minute, the 1 s tick running ----
    clocks = Clocks()
    t0 = clock.now() + timedelta(seconds=args.lead)
    due_times = spread(t0, window, n)
    await create_checkins(bot.storage, due_times, args.step)
    result["setup_s"] = time.perf_counter() - t_setup
    result["slack_s"] = (t0 - clock.now()).total_seconds()
    for worker, due in zip(workers, due_times, strict=True):
        if args.step == "due":
            arrivals.due_by_chat[worker.chat_id] = clocks.mono(due)
        else:
            arrivals.due_by_code[worker.code] = clocks.mono(due)
    api.clear()
    reset_counts()
    live_start = time.monotonic()
    cpu0 = time.process_time()
    delays = arrivals.prompt_delays if args.step == "due" else arrivals.alert_delays
    last_due = clocks.mono(due_times[-1])
    await wait_until(lambda: len(delays) >= n, (last_due - time.monotonic()) + args.drain, poll=0.02)
    await wait_until(lambda: not ticks.in_tick, args.drain, poll=0.02)  # the outbox rows are marked sent
    live_ticks = [d for _, d in ticks.since(live_start)]
    result["live"] = {
        "delivered": len(delays),
        **delay_stats(delays),
        "ticks": len(live_ticks),
        "tick_max": max(live_ticks, default=0.0),
        "cpu_s": time.process_time() - cpu0,
        "wall_s": time.monotonic() - live_start,
        **counts(),
    }
    due = args.step == "due"
    result["live"] |= await settle(prompts if due else [], [] if due else alerts)

    # -- restart: N open check-ins, none due: how long until the first tick has looked at them ---
    await bot.stop()
    api.clear()
    sent_before = arrivals.sent()
    t_restart = time.monotonic()
    await bot.start()  # a new Application on the same data
    t_started = time.monotonic()
    await wait_until(lambda: bool(ticks.since(t_restart)), 60, poll=0.02)
    first = ticks.since(t_restart)[:1]
    result["restart"] = {
        "start_s": t_started - t_restart,
        "first_tick_s": first[0][1] if first else float("nan"),
        "ready_s": first[0][0] + first[0][1] - t_restart if first else float("nan"),
    }
    async with bot.storage.db.read() as tx:
        result["restart"]["open"] = len(await bot.storage.checkins.open_in_org(tx, bot.org.id))
    await asyncio.sleep(SETTLE)  # none due: two ticks that must send nothing
    result["restart"]["sent"] = arrivals.sent() - sent_before

    # -- catch-up: the bot was down while all N check-ins passed deadline + grace ---------------
    org = bot.org
    await bot.stop()
    key = load_or_create_key(bot.settings.key_b64, bot.settings.key_path, create=False)
    storage = await Storage.open(bot.settings.db_path, key)
    past = clock.now() - timedelta(seconds=window + 5)
    async with storage.db.tx() as tx:  # close the live run's check-ins and alerts
        for alert in await storage.alerts.active_in_org(tx, org.id):
            await storage.alerts.resolve(tx, alert.id, None, "bench", clock.now())
        for checkin in await storage.checkins.open_in_org(tx, org.id):
            await storage.checkins.close(tx, checkin.id, "fine", clock.now())
    catchup_due = spread(past, window, n)  # alert times, all in the past
    await create_checkins(storage, catchup_due, "down")
    await storage.close()
    arrivals.reset()
    for worker in workers:
        arrivals.due_by_chat[worker.chat_id] = 0.0
        arrivals.due_by_code[worker.code] = 0.0
    api.clear()
    reset_counts()
    profiler = cProfile.Profile() if args.profile else None
    if profiler is not None:
        profiler.enable()
    cpu0 = time.process_time()
    t_catchup = time.monotonic()
    await bot.start()
    await wait_until(lambda: len(arrivals.alert_times) >= n and len(arrivals.prompt_times) >= n, args.drain, poll=0.02)
    await wait_until(lambda: not ticks.in_tick, args.drain, poll=0.02)
    if profiler is not None:
        profiler.disable()
        sys.stderr.write("cProfile of the catch-up (event-loop thread only; SQLite runs in aiosqlite's thread)\n")
        sys.stderr.write(profile_text(profiler, 25, 40))
    first = ticks.since(t_catchup)[:1]
    result["catchup"] = arrivals.catchup(t_catchup, cpu0) | {
        "first_tick_at": first[0][0] - t_catchup if first else float("nan"),
        "first_tick_s": first[0][1] if first else float("nan"),
        **counts(),
    }
    result["catchup"] |= await settle(prompts, alerts)
    async with bot.storage.db.read() as tx:
        open_alerts = await bot.storage.alerts.active_in_org(tx, org.id)
    result["catchup"] |= {"open_alerts": len(open_alerts), "alerted": len({a.checkin_id for a in open_alerts})}
    await bot.close()
    result["peak_rss"] = peak_rss_mb()
    return result | bot.outcome(logs)


# ---------------------------------------------------------------------------------------------
# bare python-telegram-bot: an echo bot that keeps its deadlines as JobQueue jobs in memory
# ---------------------------------------------------------------------------------------------


async def run_bare(args: argparse.Namespace) -> dict[str, Any]:
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
    from telegram.ext import ContextTypes, MessageHandler, filters

    from tests.auxil.standin import FakeBotApi

    logs = LogCounter.install()
    n, window = args.n, args.window
    result: dict[str, Any] = {"n": n, "rss_after_imports": current_rss_mb()}
    api = FakeBotApi()
    arrivals = Arrivals()
    api.listeners.append(arrivals.on_sent)
    rng = random.Random(7)

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.effective_message is not None and update.effective_message.text:
            await update.effective_message.reply_text(update.effective_message.text)

    async def send(context: ContextTypes.DEFAULT_TYPE) -> None:
        job = context.job
        assert job is not None and job.chat_id is not None
        text, buttons = job.data
        markup = InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data)] for label, data in buttons])
        await context.bot.send_message(chat_id=job.chat_id, text=text, reply_markup=markup)

    workers = [(600_000_001 + i, f"W-{i:05d}", 650_000_001 + i // TEAM_SIZE) for i in range(n)]

    def prompt(code: str) -> tuple[str, list[tuple[str, str]]]:
        text = f"Your time at {rng.choice(PLACES)} is over (21:30). Check out, or extend?"
        return text, [("Check out", f"co:ask:{code}"), ("Extend", f"ext:ask:{code}")]

    def alert(code: str) -> tuple[str, list[tuple[str, str]]]:
        text = f"Missed check-out: {code} at {rng.choice(PLACES)}.\nWith: alone\nExpected back: 21:30"
        return text, [("I'm handling it", f"ack:{code}"), ("Reached them, they are safe", f"safe:{code}")]

    # -- live: the same N due times, as N run_once jobs -----------------------------------------
    clocks = Clocks()
    t_start = time.monotonic()
    bot = BareBot([MessageHandler(filters.TEXT & ~filters.COMMAND, echo)], poll=False, api=api)
    await bot.start()
    t0 = datetime.now(UTC) + timedelta(seconds=args.lead)
    due_times = spread(t0, window, n)
    t_sched = time.monotonic()
    for (chat, code, supervisor), due in zip(workers, due_times, strict=True):
        if args.step == "due":
            bot.app.job_queue.run_once(send, when=due, chat_id=chat, data=prompt(code), job_kwargs=NO_MISFIRE)
            arrivals.due_by_chat[chat] = clocks.mono(due)
        else:
            bot.app.job_queue.run_once(send, when=due, chat_id=supervisor, data=alert(code), job_kwargs=NO_MISFIRE)
            arrivals.due_by_code[code] = clocks.mono(due)
    t_done = time.monotonic()
    result["restart"] = {"start_s": t_sched - t_start, "schedule_s": t_done - t_sched, "ready_s": t_done - t_start}
    live_start = time.monotonic()
    cpu0 = time.process_time()
    delays = arrivals.prompt_delays if args.step == "due" else arrivals.alert_delays
    last_due = clocks.mono(due_times[-1])
    await wait_until(lambda: len(delays) >= n, (last_due - time.monotonic()) + args.drain, poll=0.02)
    result["live"] = {
        "delivered": len(delays),
        **delay_stats(delays),
        "cpu_s": time.process_time() - cpu0,
        "wall_s": time.monotonic() - live_start,
    }
    await bot.stop()

    # -- catch-up: N prompts + N alerts all due now (what it would have to send after a restart) -
    arrivals.reset()
    for chat, code, _ in workers:
        arrivals.due_by_chat[chat] = 0.0
        arrivals.due_by_code[code] = 0.0
    api.clear()
    cpu0 = time.process_time()
    t_catchup = time.monotonic()
    await bot.start()  # a new Application
    for chat, code, supervisor in workers:
        # APScheduler's default misfire_grace_time (1 s) silently drops jobs that start late: with 2N due at
        # once it dropped 90% of them. A bare bot that means to deliver everything turns that off.
        bot.app.job_queue.run_once(send, when=0, chat_id=chat, data=prompt(code), job_kwargs=NO_MISFIRE)
        bot.app.job_queue.run_once(send, when=0, chat_id=supervisor, data=alert(code), job_kwargs=NO_MISFIRE)
    await wait_until(lambda: len(arrivals.alert_times) >= n and len(arrivals.prompt_times) >= n, args.drain, poll=0.02)
    result["catchup"] = arrivals.catchup(t_catchup, cpu0)
    await bot.stop()
    result["peak_rss"] = peak_rss_mb()
    return result | log_outcome(logs)


# ---------------------------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------------------------


def compare(label: str, ours: dict[str, Any], bare: dict[str, Any], key: str) -> tuple[str, str, str, str]:
    return label, seconds(ours[key]), seconds(bare[key]), ratio(ours[key], bare[key])


def invariants(args: argparse.Namespace, ours: dict[str, Any]) -> Invariants:
    """outreach-bot's, whatever the timings (the bare bot is the baseline for the ratios only)."""
    n, lo, ro, co = args.n, ours["live"], ours["restart"], ours["catchup"]
    due, other = ("prompts", "alerts") if args.step == "due" else ("alerts", "prompts")
    inv = Invariants()
    inv.tally(f"live: each check-in's {due[:-1]} handed off exactly once", lo["tally"][due])
    inv.tally(f"live: {other} sent (none due)", lo["tally"][other])
    inv.equal("live: outbox messages left unsent", lo["unsent"], 0)
    inv.equal("restart: check-ins still open", ro["open"], n)
    inv.equal("restart: messages sent (none due)", ro["sent"], 0)
    inv.tally("catch-up: each worker's prompt exactly once", co["tally"]["prompts"])
    inv.tally("catch-up: each alert exactly once, to the team's supervisor", co["tally"]["alerts"])
    alerted = f"{co['open_alerts']} for {co['alerted']}"
    inv.equal("catch-up: open alerts in the database, one per check-in", alerted, f"{n} for {n}")
    inv.equal("catch-up: outbox messages left unsent", co["unsent"], 0)
    inv.equal("warnings logged (outreach-bot)", ours["warnings"], 0)
    return inv


def report(args: argparse.Namespace, ours: dict[str, Any], bare: dict[str, Any]) -> str:
    n = args.n
    step = "worker prompt at the deadline" if args.step == "due" else "supervisor alert at deadline + grace"
    out = [
        f"deadlines: {n} open check-ins falling due within {args.window:g} s ({step}); "
        f"teams of {TEAM_SIZE} workers + 1 supervisor; real clock, 1 s tick, SQLite synchronous=FULL",
        f"bare = python-telegram-bot {ptb_version()} echo bot keeping the same deadlines as JobQueue jobs in memory",
        "",
    ]
    lo, lb = ours["live"], bare["live"]
    rows = [
        ("check-ins due", n, n, ""),
        ("handed off to Bot API", lo["delivered"], lb["delivered"], ""),
        compare("due -> hand-off p50", lo, lb, "p50"),
        compare("due -> hand-off p99", lo, lb, "p99"),
        compare("due -> hand-off max", lo, lb, "max"),
        compare("CPU during the minute", lo, lb, "cpu_s"),
    ]
    out += [table(("live minute", "outreach-bot", "bare PTB", "ratio"), rows), ""]

    ro, rb = ours["restart"], bare["restart"]
    rows = [
        ("open check-ins at start", ro["open"], n, ""),
        compare("build + open + start", ro, rb, "start_s"),
        ("first tick / schedule N jobs", seconds(ro["first_tick_s"]), seconds(rb["schedule_s"]), ""),
        compare("start -> schedule rebuilt", ro, rb, "ready_s"),
    ]
    out += [table(("rebuild at start (none due)", "outreach-bot", "bare PTB", "ratio"), rows), ""]

    co, cb = ours["catchup"], bare["catchup"]
    rows = [
        ("alerts handed off", co["alerts"], cb["alerts"], ""),
        ("worker prompts handed off", co["prompts"], cb["prompts"], ""),
        compare("start -> first alert", co, cb, "first_alert"),
        compare("start -> alert p50", co, cb, "p50"),
        compare("start -> alert p99", co, cb, "p99"),
        compare("start -> all alerts", co, cb, "all_alerts"),
        compare("start -> all prompts", co, cb, "all_prompts"),
        compare("CPU", co, cb, "cpu_s"),
    ]
    title = f"catch-up at start ({n} past alert time)"
    out += [table((title, "outreach-bot", "bare PTB", "ratio"), rows), ""]

    rows = [
        ("peak RSS", mib(ours["peak_rss"]), mib(bare["peak_rss"]), ratio(ours["peak_rss"], bare["peak_rss"])),
        ("RSS after imports", mib(ours["rss_after_imports"]), mib(bare["rss_after_imports"]), ""),
        (
            "peak RSS - after imports",
            mib(ours["peak_rss"] - ours["rss_after_imports"]),
            mib(bare["peak_rss"] - bare["rss_after_imports"]),
            ratio(ours["peak_rss"] - ours["rss_after_imports"], bare["peak_rss"] - bare["rss_after_imports"]),
        ),
    ]
    out += [table(("memory (each run in its own process)", "outreach-bot", "bare PTB", "ratio"), rows), ""]

    rows = [
        (name, *(seconds(part["phase"].get(k)) for k in ("advance_checkins", "advance_alerts", "outbox.flush")),
         part["transactions"], part["statements"], f"{part['statements'] / n:.1f}")
        for name, part in (("live minute", lo), ("catch-up", co))
    ]  # fmt: skip
    header = ("outreach-bot time in", "advance_checkins", "advance_alerts", "outbox.flush", "commits", "DB calls",
              "per check-in")  # fmt: skip
    out += [table(header, rows), ""]
    rows = [
        ("setup (people, check-ins)", seconds(ours["setup_s"])),
        ("slack before the first due time", seconds(ours["slack_s"])),
        ("ticks in the live minute / longest", f"{lo['ticks']} / {seconds(lo['tick_max'])}"),
        (
            "first catch-up tick: starts after / lasts",
            f"{seconds(co['first_tick_at'])} / {seconds(co['first_tick_s'])}",
        ),
        ("warnings logged (ours / bare)", f"{ours['warnings']} / {bare['warnings']}"),
    ]
    sides = (("outreach-bot", ours), ("bare PTB", bare))
    out.append(notes(rows, *((f"  {side} warning: ", res["first_warnings"]) for side, res in sides)))
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="open check-ins (default 10000)")
    parser.add_argument(
        "--window", type=float, help="seconds over which they fall due (default 60 s per 10000, at least 3 s)"
    )
    parser.add_argument("--lead", type=float, help="seconds from setup to the first due time (default 5, 3 if n<5000)")
    parser.add_argument("--drain", type=float, default=90.0, help="seconds to wait for stragglers")
    parser.add_argument("--step", choices=("due", "alert"), default="due", help="which step falls due live")
    parser.add_argument("--profile", action="store_true", help="cProfile outreach-bot's catch-up, to stderr")
    add_check_flag(parser)
    parser.add_argument("--role", choices=("ours", "bare"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.window is None:  # the same rate as 10,000 in a minute, so that a small --n finishes in seconds
        args.window = max(3.0, 60.0 * min(args.n, 10_000) / 10_000)
    if args.lead is None:
        args.lead = 5.0 if args.n >= 5000 else 3.0
    if args.role:
        runner = run_ours if args.role == "ours" else run_bare
        emit_result(asyncio.run(runner(args)))
        return 0
    common = ["--n", str(args.n), "--window", str(args.window), "--lead", str(args.lead)]
    common += ["--drain", str(args.drain), "--step", args.step] + (["--profile"] if args.profile else [])
    budget = args.lead + args.window + 3 * args.drain + 120
    bare = run_child([__file__, "--role", "bare", *common], timeout=budget)
    ours = run_child([__file__, "--role", "ours", *common], timeout=budget)
    checked = invariants(args, ours)
    print(f"{report(args, ours, bare)}\n\n{checked.table()}\n")
    return exit_status(args.check, checked)


if __name__ == "__main__":
    sys.exit(main())
