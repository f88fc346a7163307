"""Throughput benchmark: complete check-in / check-out conversations through the real Application.

W enrolled workers (teams of 20, one supervisor each) run C conversations between them, each
worker one conversation after another, all workers at once. A conversation is 7 updates:

    /checkin -> tap ci:place:1 -> tap ci:partner:alone -> tap ci:dur:60 -> tap ci:loc:skip
    /checkout -> tap co:fine:<check-in id>   (the id read from the buttons the bot sent)

Each update is pushed to the in-process Bot API stand-in; the bot long-polls getUpdates, as
`outreach-bot run` does, and a worker sends its next update once the bot has finished the last
one (a person reads the answer before tapping). Same run, same stand-in, same pacing: a bare
python-telegram-bot echo bot (echoes text, answers button presses) is fed the same number and
shape of updates (the same 7 update bodies, recorded from outreach-bot's first conversation).

Printed for both, and as outreach-bot / bare: updates per second over the whole run, wall and
CPU time per update, p50/p99 handling time (around Application.process_update), p50/p99 time
from the push to the end of handling (mostly queueing), and peak RSS (each bot in its own
process, the high-water mark reset after setup). Targets (issue): >= 1,000 updates/s and at most
3x the bare bot's cost per update, on 2 cores, with full durability.

outreach-bot runs as `bot/telegram/app.py` builds it (its per-chat processor: chats side by side, each in order), with
its real JobQueue (the 1 s escalation tick, the flush after each check-in and check-out), SQLite
WAL with synchronous=FULL in a temporary directory on disk, and its send budget (bot/sendlimit.py, which
every Bot API call goes through) in the path with its limits lifted: Telegram's own 30 messages/s is
what this shows we stay far above (`--no-send-budget`: without it, as measured before issue 14;
bench/urgency.py measures the bot at Telegram's limits).

    .venv/bin/python bench/throughput.py                          # 2,000 conversations, 500 workers
    .venv/bin/python bench/throughput.py --conversations 200 --workers 50     # quick
    .venv/bin/python bench/throughput.py --mode both     # also with concurrent_updates (256)
    .venv/bin/python bench/throughput.py --profile       # + cProfile and DB/Bot API breakdown (slower)
    .venv/bin/python bench/throughput.py --api-latency 30 --mode both   # with a 30 ms network round trip
    .venv/bin/python bench/throughput.py --check --conversations 100 --workers 20   # as tests/ runs it

With --api-latency 0 (the default) the Bot API answers at once, so this measures the bots'
own cost; --api-latency shows what one-update-at-a-time processing does once every call waits
for the network.

Invariants (the "invariant" table, every run): every conversation completed, every update handled
exactly once (one lost for 60 s fails it), no handler error, one closed check-in in the database per
conversation, WAL with synchronous=FULL, no warning logged, the bare bot's run whole. With --check the
exit status is 1, with a one-line reason on stderr, exactly when one fails, whatever the timings (the
targets above included: the machine may be loaded); without, it is 0 (`make bench` measures).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import cProfile
import json
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import (
    Invariants,
    LogCounter,
    Measure,
    add_check_flag,
    emit_result,
    exit_status,
    mib,
    notes,
    percentile,
    profile_text,
    run_child,
    table,
    us,
)
from _probes import DbProbe
from _runner import (
    BareBot,
    BenchBot,
    config_with,
    enrol,
    log_outcome,
    next_user_id,
    ptb_version,
    stand_in_request,
)

STEPS = ("/checkin", "ci:place:1", "ci:partner:alone", "ci:dur:60", "ci:loc:skip", "/checkout", "co:fine:")
CHECKED_IN = "Checked in at"
CHECKED_OUT = "Checked out. Thank you, take care."
CONCURRENT = 256  # concurrent_updates in --mode concurrent
TARGET_RATE = 1000.0  # updates per second
TARGET_RATIO = 3.0  # outreach-bot / bare, cost per update
WARMUP_CONVERSATIONS = 2
UPDATE_TIMEOUT = 60.0  # seconds an update may take from its push to the end of its handling: then it is lost
SYNCHRONOUS = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}


# ---------------------------------------------------------------------------------------------
# shared by both bots: the request layer, update JSON, timing of process_update
# ---------------------------------------------------------------------------------------------


def request_for(args: argparse.Namespace, probe: DbProbe | None = None) -> Callable[[Any], Any]:
    """The stand-in's request layer with --api-latency; with --profile, each Bot API call timed too."""
    on_call = (lambda seconds: probe.add("Bot API call (stand-in)", seconds)) if probe is not None else None
    return lambda api: stand_in_request(api, latency=args.api_latency / 1000, on_call=on_call)


def timed_around(do_process_update: Any, on_done: Callable[[Any, float], None]) -> Any:
    """do_process_update, timing each update from its call to the end of its handling."""

    async def timed_process_update(update: object, coroutine: Any) -> None:
        start = time.perf_counter()

        async def timed() -> None:
            try:
                await coroutine
            finally:
                on_done(update, time.perf_counter() - start)

        await do_process_update(update, timed())

    return timed_process_update


def make_timed_processor(max_concurrent: int, on_done: Callable[[Any, float], None], unconfirmed: Any = None) -> Any:
    """An update processor that behaves as PTB's default one and times each process_update
    (telling outreach-bot's getUpdates when an update is handled, as its own processor does)."""
    from telegram.ext import SimpleUpdateProcessor

    class TimedProcessor(SimpleUpdateProcessor):
        async def do_process_update(self, update: object, coroutine: Any) -> None:
            try:
                await timed_around(super().do_process_update, on_done)(update, coroutine)
            finally:
                if unconfirmed is not None:
                    unconfirmed.done(getattr(update, "update_id", -1))

    return TimedProcessor(max_concurrent)


def timed_processor(mode: str, on_done: Callable[[Any, float], None]) -> Callable[[Any], Any]:
    """build_application's update_processor: as bot/telegram/app.py builds it, its own PerChatUpdateProcessor
    (chats side by side, each in order) with each process_update timed; --mode concurrent: PTB's plain
    concurrent_updates=256, timed."""
    if mode == "concurrent":
        return lambda unconfirmed: make_timed_processor(CONCURRENT, on_done, unconfirmed)
    from bot.telegram.updates import PerChatUpdateProcessor

    class TimedPerChat(PerChatUpdateProcessor):
        async def do_process_update(self, update: object, coroutine: Any) -> None:
            await timed_around(super().do_process_update, on_done)(update, coroutine)

    return lambda unconfirmed: TimedPerChat(unconfirmed=unconfirmed)


class Failed(Exception):
    pass


class Person:
    """One worker's private chat, and what the bot last showed it."""

    __slots__ = ("factory", "last_keyboard", "last_text")

    def __init__(self, user_id: int) -> None:
        from tests.auxil.standin import UpdateFactory

        self.factory = UpdateFactory(user_id, first_name="Bench")
        self.last_keyboard: Any = None  # the last Sent with an inline keyboard
        self.last_text: str | None = None


class Feeder:
    """Pushes update JSON to the stand-in, and waits until the bot has handled it."""

    def __init__(self, api: Any) -> None:
        self.api = api
        self.waiters: dict[int, asyncio.Future[float]] = {}
        self.handling: list[float] = []
        self.latency: list[float] = []
        self.by_step: dict[int, list[float]] = collections.defaultdict(list)
        self.recording = False
        self.unmatched = 0  # updates handled with nobody waiting for them: handled twice
        self.people: dict[int, Person] = {}
        # Keep the stand-in's records short: what it keeps for tests is not the bot's memory.
        api.sent = collections.deque(maxlen=64)
        api.calls = collections.deque(maxlen=64)
        api.listeners.append(self.on_sent)

    def on_sent(self, sent: Any) -> None:
        person = self.people.get(sent.chat_id) if sent.chat_id is not None else None
        if person is None or sent.method not in ("sendMessage", "editMessageText"):
            return
        person.last_text = sent.text
        markup = sent.params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            person.last_keyboard = sent

    def on_done(self, update: Any, seconds: float) -> None:
        waiter = self.waiters.pop(getattr(update, "update_id", -1), None)
        if waiter is None or waiter.done():
            self.unmatched += 1
        else:
            waiter.set_result(seconds)

    def person(self, user_id: int) -> Person:
        person = self.people[user_id] = Person(user_id)
        return person

    def tap(self, person: Person, message_id: int, text: str | None, markup: Any, data: str) -> dict[str, Any]:
        chat, bot_user = person.factory.chat, self.api.bot_user
        message = {"message_id": message_id, "date": int(time.time()), "chat": chat, "from": bot_user}
        return person.factory.tap(message | {"text": text or "", "reply_markup": markup}, data)

    async def feed(self, update: dict[str, Any], step: int) -> None:
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[float] = loop.create_future()
        self.waiters[update["update_id"]] = waiter
        pushed = time.perf_counter()
        self.api.push_update(update)
        try:
            handling = await asyncio.wait_for(waiter, UPDATE_TIMEOUT)
        except TimeoutError:
            raise Failed(f"{STEPS[step]!r} not handled within {UPDATE_TIMEOUT:g} s") from None
        if self.recording:
            self.handling.append(handling)
            self.latency.append(time.perf_counter() - pushed)
            self.by_step[step].append(handling)


def spread(conversations: int, workers: int) -> list[int]:
    """How many conversations each worker runs (they differ by at most one)."""
    return [conversations // workers + (1 if i < conversations % workers else 0) for i in range(workers)]


async def measure_run(
    args: argparse.Namespace, feeder: Feeder, workers: list[Person], conversation: Callable[[Person], Any]
) -> tuple[dict[str, Any], Measure]:
    """Every worker runs its share of the conversations, all at once; what the feeder timed, and the run."""
    failures: list[str] = []
    completed = 0

    async def worker(person: Person, n: int) -> None:
        nonlocal completed
        for _ in range(n):
            try:
                await conversation(person)
                completed += 1
            except Failed as exc:
                failures.append(str(exc))
                return

    profiler = cProfile.Profile() if args.profile else None
    feeder.recording = True
    counts = spread(args.conversations, args.workers)
    with Measure(args.tracemalloc) as measure:
        if profiler is not None:
            profiler.enable()
        await asyncio.gather(*(worker(p, n) for p, n in zip(workers, counts, strict=True)))
        if profiler is not None:
            profiler.disable()
    feeder.recording = False
    await asyncio.sleep(0.2)  # an update handled twice would be handled by now (counted in "unmatched")
    n_updates, handling = len(feeder.handling), feeder.handling
    result = measure.result() | {
        "updates": n_updates,
        "unmatched": feeder.unmatched,
        "wall_s": measure.wall,
        "cpu_s": measure.cpu,
        "rate": n_updates / measure.wall if measure.wall > 0 else math.nan,
        "handle_p50": percentile(handling, 50),
        "handle_p99": percentile(handling, 99),
        "handle_mean": sum(handling) / len(handling) if handling else math.nan,
        "latency_p50": percentile(feeder.latency, 50),
        "latency_p99": percentile(feeder.latency, 99),
        "by_step": {
            STEPS[s]: {"p50": percentile(v, 50), "p99": percentile(v, 99), "mean": sum(v) / len(v)}
            for s, v in sorted(feeder.by_step.items())
        },
        "completed": completed,
        "failures": failures[:3],
        "n_failures": len(failures),
    }
    if profiler is not None:
        result["profile"] = profile_text(profiler, args.profile_top)
    return result, measure


# ---------------------------------------------------------------------------------------------
# outreach-bot
# ---------------------------------------------------------------------------------------------


async def conversation_ours(feeder: Feeder, person: Person, template: list[dict[str, Any]] | None) -> None:
    """One check-in and check-out, reading each button from what the bot sent."""

    def tap_from_last(step: int, data: str) -> dict[str, Any]:
        sent = person.last_keyboard
        if sent is None:
            raise Failed(f"no buttons before {data!r}; last text {person.last_text!r}")
        buttons = [d for _, d in sent.buttons]
        if data.endswith(":"):  # co:fine:<id>: the id comes from the button
            data = next((d for d in buttons if d.startswith(data)), data)
        if data not in buttons:
            raise Failed(f"no button {data!r} in {buttons[:4]}...; last text {person.last_text!r}")
        markup = sent.params.get("reply_markup")
        if template is not None:
            template.append({"kind": "tap", "text": sent.text, "markup": markup, "data": data})
        return feeder.tap(person, sent.message_id, sent.text, markup, data)

    for step, action in enumerate(STEPS):
        if action.startswith("/"):
            if template is not None:
                template.append({"kind": "text", "text": action})
            person.last_keyboard = None
            await feeder.feed(person.factory.text(action), step)
        else:
            update = tap_from_last(step, action)
            person.last_keyboard = None
            await feeder.feed(update, step)
        if step == 4 and not (person.last_text or "").startswith(CHECKED_IN):
            raise Failed(f"check-in not confirmed: {person.last_text!r}")
    if person.last_text != CHECKED_OUT:
        raise Failed(f"check-out not confirmed: {person.last_text!r}")


async def run_ours(args: argparse.Namespace) -> dict[str, Any]:
    from tests.auxil.standin import FakeBotApi

    logs = LogCounter.install()
    probe = DbProbe() if args.profile else None  # --profile: where a handled update's time goes
    feeder = Feeder(FakeBotApi())
    on_open = [probe.attach] if probe is not None else []
    from bot.sendlimit import UNLIMITED

    bot = BenchBot(
        config_with(),
        "bench-throughput-",
        api=feeder.api,
        request=request_for(args, probe),
        on_open=on_open,
        update_processor=timed_processor(args.mode, feeder.on_done),
        rate_limit=False if args.no_send_budget else UNLIMITED,
    )
    await bot.start()
    t_setup = time.perf_counter()
    people = [feeder.person(w.chat_id) for w in (await enrol(bot, args.workers + 1)).workers]
    warm, workers = people[0], people[1:]
    template: list[dict[str, Any]] = []
    await conversation_ours(feeder, warm, template)
    for _ in range(WARMUP_CONVERSATIONS - 1):
        await conversation_ours(feeder, warm, None)
    await asyncio.sleep(1.2)  # let the warm-up's flush jobs and a tick run
    setup_s = time.perf_counter() - t_setup
    if probe is not None:
        probe.clear()
    result, _ = await measure_run(args, feeder, workers, lambda person: conversation_ours(feeder, person, None))
    async with bot.storage.db.read() as tx:
        row = await tx.one("SELECT count(*), coalesce(sum(status = 'closed'), 0) FROM checkins")
        pragmas = {name: (await tx.one(f"PRAGMA {name}") or [None])[0] for name in ("journal_mode", "synchronous")}
    result |= {
        "setup_s": setup_s,
        "checkins_in_db": row[0] if row else 0,
        "closed_in_db": row[1] if row else 0,
        "template": template,
        "pragmas": pragmas,
    }
    await bot.close()
    if probe is not None:
        result["breakdown"] = {"totals": dict(probe.totals), "counts": dict(probe.counts)}
    return result | bot.outcome(logs)


# ---------------------------------------------------------------------------------------------
# bare python-telegram-bot
# ---------------------------------------------------------------------------------------------


async def run_bare(args: argparse.Namespace) -> dict[str, Any]:
    from telegram import Update
    from telegram.ext import CallbackQueryHandler, ContextTypes, MessageHandler, filters

    from tests.auxil.standin import FakeBotApi

    logs = LogCounter.install()
    template: list[dict[str, Any]] = args.template_data

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None and update.effective_message is not None
        await update.effective_chat.send_message(update.effective_message.text or "")

    async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.callback_query is not None
        await update.callback_query.answer()

    feeder = Feeder(FakeBotApi())
    processor = make_timed_processor(CONCURRENT if args.mode == "concurrent" else 1, feeder.on_done)
    handlers = [MessageHandler(filters.TEXT, echo), CallbackQueryHandler(answer)]
    bot = BareBot(handlers, api=feeder.api, request=request_for(args), processor=processor)
    await bot.start()

    async def conversation(person: Person) -> None:
        """The same 7 update bodies as outreach-bot's conversation, for this worker."""
        for step, item in enumerate(template):
            if item["kind"] == "text":
                update = person.factory.text(item["text"])
            else:
                update = feeder.tap(person, 1000 + step, item["text"], item["markup"], item["data"])
            await feeder.feed(update, step)

    t_setup = time.perf_counter()
    warm = feeder.person(next_user_id())
    workers = [feeder.person(next_user_id()) for _ in range(args.workers)]
    for _ in range(WARMUP_CONVERSATIONS):
        await conversation(warm)
    await asyncio.sleep(1.2)
    setup_s = time.perf_counter() - t_setup
    result, _ = await measure_run(args, feeder, workers, conversation)
    await bot.stop()
    return result | {"setup_s": setup_s} | log_outcome(logs)


# ---------------------------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------------------------


def x(ours: float, bare: float) -> str:
    if math.isnan(ours) or math.isnan(bare) or bare <= 0:
        return "-"
    return f"{ours / bare:.2f}x"


def invariants(args: argparse.Namespace, mode: str, ours: dict[str, Any], bare: dict[str, Any]) -> Invariants:
    """What must hold however fast or slow the run was."""
    n_updates = args.conversations * len(STEPS)
    n_checkins = args.conversations + WARMUP_CONVERSATIONS
    inv = Invariants("invariant" if args.mode != "both" else f"invariant ({mode})")
    inv.equal("every conversation completed (check-in and check-out confirmed)", ours["completed"], args.conversations)
    handled = ours["updates"] if not ours["unmatched"] else f"{ours['updates']} + {ours['unmatched']} twice"
    inv.check("every update handled exactly once", handled, ours["updates"] == n_updates and not ours["unmatched"])
    inv.equal("handler errors", ours["n_errors"], 0)
    inv.equal(f"check-ins in the database (incl. {WARMUP_CONVERSATIONS} warm-up)", ours["checkins_in_db"], n_checkins)
    inv.equal("of them closed", ours["closed_in_db"], n_checkins)
    pragmas = ours["pragmas"]
    durable = f"{pragmas.get('journal_mode')}, synchronous={SYNCHRONOUS.get(pragmas.get('synchronous'), '?')}"
    inv.equal("SQLite journal and durability", durable, "wal, synchronous=FULL")
    inv.equal("warnings logged (outreach-bot)", ours["warnings"], 0)
    bare_ok = bare["completed"] == args.conversations and bare["updates"] == n_updates and not bare["unmatched"]
    inv.check("bare PTB handled every update once (the baseline is whole)", bare["updates"], bare_ok)
    return inv


def report(args: argparse.Namespace, mode: str, ours: dict[str, Any], bare: dict[str, Any]) -> tuple[str, bool]:
    n_updates = args.conversations * len(STEPS)
    label = (
        "chats side by side, each chat in order, as bot/telegram/app.py builds it"
        if mode == "sequential"
        else f"concurrent_updates={CONCURRENT} (not how bot/telegram/app.py builds it)"
    )
    out = [
        f"throughput [{mode}: {label}]: {args.conversations} check-in/check-out conversations "
        f"({n_updates} updates) from {args.workers} workers at once, {os.cpu_count()} CPUs",
        f"outreach-bot: SQLite journal_mode={ours['pragmas'].get('journal_mode')}, "
        f"synchronous={SYNCHRONOUS.get(ours['pragmas'].get('synchronous'), '?')}, "
        f"real 1 s tick; bare = python-telegram-bot {ptb_version()} echo bot; both long-polling the same stand-in",
    ]
    if args.api_latency:
        out.append(f"every Bot API call but getUpdates waits {args.api_latency:g} ms (a network round trip)")
    out.append("")
    wall_per_o = ours["wall_s"] / max(1, ours["updates"])
    wall_per_b = bare["wall_s"] / max(1, bare["updates"])
    cpu_per_o = ours["cpu_s"] / max(1, ours["updates"])
    cpu_per_b = bare["cpu_s"] / max(1, bare["updates"])

    def row(name: str, key: str, fmt: Callable[[float], str]) -> tuple[str, str, str, str]:
        return (name, fmt(ours[key]), fmt(bare[key]), x(ours[key], bare[key]))

    rate = ("updates per second", f"{ours['rate']:.0f}", f"{bare['rate']:.0f}", x(bare["rate"], ours["rate"]))
    rows = [
        ("updates handled", ours["updates"], bare["updates"], ""),
        ("conversations completed", ours["completed"], bare["completed"], ""),
        row("wall time", "wall_s", us),
        (rate[0], rate[1], rate[2], rate[3] + " (bare/ours)"),
        ("wall time per update", us(wall_per_o), us(wall_per_b), x(wall_per_o, wall_per_b)),
        ("CPU time per update (all threads)", us(cpu_per_o), us(cpu_per_b), x(cpu_per_o, cpu_per_b)),
        row("handling p50 (process_update)", "handle_p50", us),
        row("handling p99 (process_update)", "handle_p99", us),
        row("handling mean", "handle_mean", us),
        row("push -> handled p50 (queueing incl.)", "latency_p50", us),
        row("push -> handled p99 (queueing incl.)", "latency_p99", us),
        row("peak RSS during the run", "peak_rss", mib),
        ("RSS growth during the run", mib(ours["rss_growth"]), mib(bare["rss_growth"]), ""),
    ]
    if args.tracemalloc:
        rows.append(row("tracemalloc peak (slows the run)", "traced_peak", mib))
    out.append(table(("", "outreach-bot", "bare PTB", "ours/bare"), rows))
    out.append("")
    cost_ratio = wall_per_o / wall_per_b if wall_per_b > 0 else math.inf
    rate_ok = ours["rate"] >= TARGET_RATE
    ratio_ok = cost_ratio <= TARGET_RATIO
    verdict = [
        ("outreach-bot updates/s >= 1,000", f"{ours['rate']:.0f}", "PASS" if rate_ok else "FAIL"),
        ("cost per update <= 3x bare (wall/update)", f"{cost_ratio:.2f}x", "PASS" if ratio_ok else "FAIL"),
    ]
    out.append(table(("target (timing; never decides the exit status)", "measured", ""), verdict))
    out.append("")
    rows = [
        (step, us(v["p50"]), us(v["p99"]), us(v["mean"]), us(bare["by_step"].get(step, {}).get("p50", math.nan)))
        for step, v in ours["by_step"].items()
    ]
    out.append(table(("outreach-bot handling by step", "p50", "p99", "mean", "bare p50"), rows))
    out.append("")
    rows = [
        ("setup (not timed): enrol, warm-up", f"{ours['setup_s']:.1f} s / {bare['setup_s']:.1f} s"),
        ("warnings logged (ours / bare)", f"{ours['warnings']} / {bare['warnings']}"),
    ]
    ours_lines = ours.get("failures", []) + ours.get("errors", []) + ours.get("first_warnings", [])
    out.append(notes(rows, ("  outreach-bot: ", ours_lines), ("  bare: ", bare.get("first_warnings", []))))
    if "breakdown" in ours:
        out.append("")
        out.append(breakdown_table(ours))
    if "profile" in ours:
        out.append("")
        out.append(
            "cProfile of outreach-bot during the run (event-loop thread only; SQLite runs in aiosqlite's thread):"
        )
        out.append(ours["profile"])
    return "\n".join(out), rate_ok and ratio_ok


def breakdown_table(ours: dict[str, Any]) -> str:
    totals, counts = ours["breakdown"]["totals"], ours["breakdown"]["counts"]
    n = max(1, ours["updates"])
    rows = [
        (name, counts.get(name, 0), f"{counts.get(name, 0) / n:.2f}", us(total), us(total / n))
        for name, total in sorted(totals.items(), key=lambda kv: -kv[1])
    ]
    for name in ("SQL statements", "commits"):
        rows.append((name, counts.get(name, 0), f"{counts.get(name, 0) / n:.2f}", "", ""))
    rows.append(("wall time of the run", "", "", us(ours["wall_s"]), us(ours["wall_s"] / n)))
    return table(("outreach-bot breakdown (--profile)", "count", "per update", "total", "per update"), rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=2000, help="check-in/check-out conversations (2000)")
    parser.add_argument("--workers", type=int, default=500, help="workers talking at once (500)")
    parser.add_argument(
        "--mode",
        choices=("sequential", "concurrent", "both"),
        default="sequential",
        help="sequential = as bot/telegram/app.py builds it (default); concurrent = concurrent_updates=256",
    )
    parser.add_argument(
        "--api-latency", type=float, default=0.0, help="ms of network round trip per Bot API call (default 0)"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile outreach-bot (slower; timings inflated)")
    parser.add_argument("--profile-top", type=int, default=30, help="functions to list with --profile")
    parser.add_argument("--tracemalloc", action="store_true", help="also trace Python allocations (slower)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds allowed per child process")
    parser.add_argument(
        "--no-send-budget", action="store_true", help="outreach-bot without its send budget (as before issue 14)"
    )
    add_check_flag(parser)
    parser.add_argument("--role", choices=("ours", "bare"), help=argparse.SUPPRESS)
    parser.add_argument("--template", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.workers < 1 or args.conversations < 1:
        parser.error("need at least one worker and one conversation")
    if args.role:
        args.template_data = json.loads(Path(args.template).read_text()) if args.template else None
        runner = run_ours if args.role == "ours" else run_bare
        emit_result(asyncio.run(runner(args)))
        return 0
    modes = ("sequential", "concurrent") if args.mode == "both" else (args.mode,)
    common = ["--conversations", str(args.conversations), "--workers", str(args.workers)]
    common += ["--api-latency", str(args.api_latency)]
    if args.tracemalloc:
        common.append("--tracemalloc")
    if args.no_send_budget:
        common.append("--no-send-budget")
    verdicts: list[str] = []
    checked: list[Invariants] = []
    with tempfile.TemporaryDirectory(prefix="bench-throughput-") as tmp:
        for mode in modes:
            extra = ["--profile", "--profile-top", str(args.profile_top)] if args.profile else []
            ours = run_child([__file__, "--role", "ours", "--mode", mode, *common, *extra], timeout=args.timeout)
            template = Path(tmp) / "template.json"
            template.write_text(json.dumps(ours.pop("template")))
            bare = run_child(
                [__file__, "--role", "bare", "--mode", mode, "--template", str(template), *common], timeout=args.timeout
            )
            text, ok = report(args, mode, ours, bare)
            checked.append(invariants(args, mode, ours, bare))
            print(f"{text}\n\n{checked[-1].table()}\n")
            verdicts.append(f"{mode}: {'PASS' if ok else 'FAIL'}")
    print("targets:", ", ".join(verdicts))
    return exit_status(args.check, *checked)


if __name__ == "__main__":
    sys.exit(main())
