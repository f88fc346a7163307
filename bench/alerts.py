"""Alert benchmark (issue 4): red codes and duress check-outs reaching every recipient within 10 s.

A red alert or a duress alert goes to the worker's team supervisors and to every manager. This
measures, for every such recipient message, the time from the worker's update reaching the Bot API
(pushed to the in-process stand-in, which the bot long-polls) to the bot handing the message to the
Bot API (FakeBotApi's Sent.at), with N active, checked-in workers in teams of 20 (1 or 2 supervisors
each) and 3 managers. BS 8484's target for lone-worker alarms: 80 % verified within 10 s.

Scenarios, each in the same running bot (real clock, real 1 s escalation tick flushing the outbox,
SQLite synchronous=FULL in a temporary directory, no network):
  - a burst: 50 workers send the red code word at the same moment;
  - a burst: all N workers send it at the same moment;
  - duress: a worker checks out and types the duress PIN (/checkout, "Yes, all fine", PIN), alone.
The same updates go through a bare python-telegram-bot bot on the same stand-in, which sends the
same messages straight from its handler (no database, no outbox): the ratios are against it.

    .venv/bin/python bench/alerts.py            # N=500, about 20 s
    .venv/bin/python bench/alerts.py --n 100    # quick
    .venv/bin/python bench/alerts.py --check --n 100 --burst 20 --duress 2   # as tests/ runs it

Invariants (the "invariant" table, every run), for outreach-bot: in each scenario every recipient
handed its message once, nothing to anyone else, and every worker its reply; over the whole run,
counted two ticks after the last scenario (so that a message sent twice by a later flush shows),
each (alert, recipient) exactly once; one alert in the database per red code and duress PIN; nothing
left unsent in the outbox; no handler error; no warning logged. With --check the exit status is 1,
with a one-line reason on stderr, exactly when one fails, whatever the timings (the 10 s target
included); without, it is 0 (`make bench` measures).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from _common import (
    Invariants,
    LogCounter,
    add_check_flag,
    compare_tally,
    exit_status,
    notes,
    outbox_unsent,
    percentile,
    ratio,
    seconds,
    table,
)
from _probes import DbProbe, JobWatch
from _runner import (
    SETTLE,
    TEAM_SIZE,
    BareBot,
    BenchBot,
    add_checkin,
    config_with,
    dist,
    enrol,
    next_user_id,
    ptb_version,
    sent_after,
    wait_until,
)

MANAGERS = 3
TARGET = 10.0  # seconds
RED_WORD = "buy bread"
SAFE_PIN, DURESS_PIN = "4821", "1379"
RED_REPLY = "OK, noted."
CHECKOUT_REPLY = "Checked out. Thank you, take care."
CODE_RE = re.compile(r"\bW-[0-9A-Z]{4}\b")
T = TypeVar("T")


class Probe:
    """Matches each recipient message and each worker reply to the update that caused it."""

    def __init__(self, reply_text: str) -> None:
        self.reply_text = reply_text
        self.arrival: dict[str, float] = {}  # worker code -> when the update reached the Bot API
        self.chat_code: dict[int, str] = {}  # worker chat -> code
        self.expected: dict[str, set[int]] = {}  # worker code -> recipient chats
        self.delivered: dict[tuple[str, int], float] = {}
        self.replies: dict[str, float] = {}
        self.duplicates = 0
        self.unexpected = 0
        self.n_expected = 0
        self.last = math.nan

    def expect(self, code: str, chat: int, recipients: set[int], arrival: float) -> None:
        self.arrival[code] = arrival
        self.chat_code[chat] = code
        self.expected[code] = recipients
        self.n_expected += len(recipients)

    def done(self) -> bool:
        return len(self.delivered) >= self.n_expected and len(self.replies) >= len(self.expected)

    def on_sent(self, sent: Any) -> None:
        if sent.method != "sendMessage":
            return
        text = sent.text or ""
        if text.startswith("URGENT:"):
            match = CODE_RE.search(text)
            code = match.group(0) if match else None
            if code not in self.arrival or sent.chat_id not in self.expected[code]:
                self.unexpected += 1
                return
            key = (code, sent.chat_id)
            if key in self.delivered:
                self.duplicates += 1
                return
            self.delivered[key] = sent.at - self.arrival[code]
            self.last = sent.at
        elif text == self.reply_text and sent.chat_id in self.chat_code:
            code = self.chat_code[sent.chat_id]
            self.replies.setdefault(code, sent.at - self.arrival[code])

    def result(self, cpu: float) -> dict[str, Any]:
        delays = list(self.delivered.values())
        per_alert: dict[str, float] = {}
        for (code, _), delay in self.delivered.items():
            per_alert[code] = max(per_alert.get(code, 0.0), delay)
        first_arrival = min(self.arrival.values(), default=math.nan)
        return {
            "alerts": len(self.expected),
            "expected": self.n_expected,
            "delivered": len(delays),
            "within": sum(1 for d in delays if d <= TARGET),
            "duplicates": self.duplicates,
            "unexpected": self.unexpected,
            "delay": dist(delays),
            "all_told": dist(list(per_alert.values())),
            "reply": dist(list(self.replies.values())),
            "replies": len(self.replies),
            "drain": self.last - first_arrival,
            "cpu": cpu,
        }


async def burst(
    push: Callable[[dict[str, Any]], float],
    listeners: list[Callable[[Any], None]],
    senders: list[tuple[Any, str, int, set[int]]],
    within: float,
    reply_text: str = RED_REPLY,
) -> dict[str, Any]:
    """Every sender sends the red code word at once. senders: (UpdateFactory, code, chat, recipient chats)."""
    probe = Probe(reply_text)
    listeners.append(probe.on_sent)
    updates = [(factory.text(RED_WORD), code, chat, recipients) for factory, code, chat, recipients in senders]
    cpu0 = time.process_time()
    for update, code, chat, recipients in updates:
        probe.expect(code, chat, recipients, push(update))
    await wait_until(probe.done, within)
    cpu = time.process_time() - cpu0
    await asyncio.sleep(0.3)  # stragglers: duplicates would show up here
    listeners.remove(probe.on_sent)
    return probe.result(cpu)


# ---------------------------------------------------------------------------------------------
# outreach-bot
# ---------------------------------------------------------------------------------------------


class Instruments:
    """Inside outreach-bot: each alert's write transaction (the one that inserts the alert: raise_code_alert's,
    whichever flow calls it), timed by a DbProbe on storage.db; each outbox flush (the tick's and
    request_flush's), told by build_application's hooks (a JobWatch)."""

    def __init__(self) -> None:
        self.db = DbProbe()
        self.db.mark("alert tx", "INSERT INTO alerts")
        self.jobs = JobWatch()

    def reset(self) -> None:
        self.db.clear()
        self.jobs.clear()

    def summary(self) -> dict[str, Any]:
        raise_s = self.db.marked["alert tx"]
        flushes = [(d, sent) for d, sent, _ in self.jobs.flushes if sent]  # (duration, messages sent)
        return {
            "raise_p50": percentile(raise_s, 50),
            "raise_max": max(raise_s, default=math.nan),
            "flushes": len(flushes),
            "flush_max": max((d for d, _ in flushes), default=math.nan),
            "flush_sent_max": max((n for _, n in flushes), default=0),
            "flush_skipped": sum(1 for _, _, skipped in self.jobs.flushes if skipped),
        }


async def setup_people(bot: BenchBot, n: int) -> tuple[list[Any], dict[str, set[int]]]:
    """N workers in teams of TEAM_SIZE (1 or 2 supervisors each), MANAGERS managers, all workers checked in.
    Returns the workers and each team's recipient chats (supervisors + managers)."""
    enrolled = await enrol(bot, n, supervisors=lambda t: 1 + t % 2, managers=MANAGERS)
    recipients = {t.team.id: {p.chat_id for p in t.supervisors + enrolled.managers} for t in enrolled.teams}
    await check_in(bot, enrolled.workers, bot.clock.now())
    return enrolled.workers, recipients


async def check_in(bot: BenchBot, workers: list[Any], now: Any) -> None:
    from bot.services.ladder import fresh_schedule

    deadline = now + timedelta(hours=4)
    stage, next_at = fresh_schedule(deadline, bot.config.escalation, now)
    hotspots = bot.config.hotspots
    async with bot.storage.db.tx() as tx:
        for i, worker in enumerate(workers):
            place = hotspots[i % len(hotspots)].name
            await add_checkin(
                bot.storage, tx, worker, place=place, started_at=now, deadline=deadline, stage=stage, next_at=next_at
            )


async def run_ours(args: argparse.Namespace) -> dict[str, Any]:
    from bot.services.alerts import set_pins
    from tests.auxil.standin import UpdateFactory

    logs = LogCounter.install()
    inst = Instruments()
    bot = BenchBot(
        config_with(checkout={"pin": True}), prefix="bench-alerts-", on_open=[inst.db.attach], hooks=inst.jobs
    )
    await bot.start()
    t_setup = time.perf_counter()
    workers, recipients = await setup_people(bot, args.n)
    factories = {w.id: UpdateFactory(w.chat_id) for w in workers}
    result: dict[str, Any] = {"setup_s": time.perf_counter() - t_setup, "n": len(workers)}
    listeners = bot.api.listeners
    seen: Counter[tuple[str, int]] = Counter()  # (worker code, recipient chat) -> urgent messages, whole run
    expected: Counter[tuple[str, int]] = Counter()

    def count(sent: Any) -> None:
        if sent.method == "sendMessage" and (sent.text or "").startswith("URGENT:"):
            match = CODE_RE.search(sent.text)
            seen[(match.group(0) if match else "?", sent.chat_id)] += 1

    def expect(chosen: list[Any]) -> None:
        expected.update((w.code, chat) for w in chosen for chat in recipients[w.team_id])

    listeners.append(count)

    def senders(chosen: list[Any]) -> list[tuple[Any, str, int, set[int]]]:
        return [(factories[w.id], w.code, w.chat_id, recipients[w.team_id]) for w in chosen]

    # -- duress first, on a quiet bot (then the worker checks in again for the bursts) -------------
    duress_workers = workers[:: max(1, len(workers) // args.duress)][: args.duress]
    for worker in duress_workers:
        await set_pins(bot.storage, worker, SAFE_PIN, DURESS_PIN, bot.clock.now())
    await asyncio.sleep(1.5)  # a few ticks: steady state
    inst.reset()
    duress: list[dict[str, Any]] = []
    for worker in duress_workers:
        duress.append(await duress_checkout(bot, factories[worker.id], worker, recipients[worker.team_id]))
        expect([worker])
        await asyncio.sleep(0.5)
    result["duress"] = merge(duress)
    result["duress_inst"] = inst.summary()
    await check_in(bot, duress_workers, bot.clock.now())

    # -- bursts of red codes -------------------------------------------------------------------
    for name, chosen in bursts(workers, args):
        await asyncio.sleep(1.5)
        inst.reset()
        result[name] = await burst(bot.push, listeners, senders(chosen), args.timeout)
        result[name + "_inst"] = inst.summary()
        expect(chosen)

    await asyncio.sleep(SETTLE)
    result["tally"] = compare_tally(seen, expected)
    result["unsent"] = await outbox_unsent(bot.storage)
    async with bot.storage.db.read() as tx:
        rows = await tx.all("SELECT kind, count(*) FROM alerts GROUP BY kind ORDER BY kind")
    kinds = sorted((bot.storage.codes.value("alerts.kind", kind), n) for kind, n in rows)  # coded
    result["alerts_in_db"] = ", ".join(f"{kind} {n}" for kind, n in kinds)
    await bot.close()
    return result | bot.outcome(logs)


def bursts(workers: list[T], args: argparse.Namespace) -> list[tuple[str, list[T]]]:
    """The smaller burst (spread over every team), then everyone."""
    small = min(args.burst, len(workers))
    step = max(1, len(workers) // small)
    return [("burst_small", workers[::step][:small]), ("burst_all", list(workers))]


async def duress_checkout(bot: BenchBot, factory: Any, worker: Any, recipients: set[int]) -> dict[str, Any]:
    """/checkout, "Yes, all fine", then the duress PIN: the clock starts when the PIN reaches the Bot API."""

    async def answer(update: dict[str, Any], text: str) -> Any:
        def key(sent: Any) -> str | None:
            return text if sent.chat_id == worker.chat_id and sent.text == text else None

        return (await sent_after(bot.api, lambda: bot.push(update), key, 1, 10))[1][text]

    question = await answer(factory.text("/checkout"), "Are you safe?")
    message = {"message_id": question.message_id, "date": 0, "chat": factory.chat, "text": question.text}
    await answer(factory.tap(message, question.buttons[0][1]), "Type your PIN.")
    probe = Probe(CHECKOUT_REPLY)
    bot.api.listeners.append(probe.on_sent)
    cpu0 = time.process_time()
    probe.expect(worker.code, worker.chat_id, recipients, bot.push(factory.text(DURESS_PIN)))
    await wait_until(probe.done, 30)
    cpu = time.process_time() - cpu0
    await asyncio.sleep(0.3)
    bot.api.listeners.remove(probe.on_sent)
    return probe.result(cpu) | {"raw": list(probe.delivered.values()), "raw_reply": list(probe.replies.values())}


def merge(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Several single duress check-outs as one distribution."""
    delays = [d for r in runs for d in r["raw"]]
    replies = [d for r in runs for d in r["raw_reply"]]
    return {
        "alerts": sum(r["alerts"] for r in runs),
        "expected": sum(r["expected"] for r in runs),
        "delivered": len(delays),
        "within": sum(1 for d in delays if d <= TARGET),
        "duplicates": sum(r["duplicates"] for r in runs),
        "unexpected": sum(r["unexpected"] for r in runs),
        "delay": dist(delays),
        "all_told": dist([r["all_told"]["max"] for r in runs]),
        "reply": dist(replies),
        "replies": len(replies),
        "drain": max((r["drain"] for r in runs), default=math.nan),
        "cpu": sum(r["cpu"] for r in runs) / max(1, len(runs)),
    }


# ---------------------------------------------------------------------------------------------
# bare python-telegram-bot: the handler sends the alerts itself, from memory
# ---------------------------------------------------------------------------------------------


async def run_bare(args: argparse.Namespace) -> dict[str, Any]:
    from telegram import Update
    from telegram.ext import ContextTypes, MessageHandler, filters

    from tests.auxil.standin import UpdateFactory

    LogCounter.install()
    n = args.n
    alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
    managers = [next_user_id() for _ in range(MANAGERS)]
    people: dict[int, tuple[str, set[int]]] = {}  # worker chat -> (code, recipient chats)
    for t in range((n + TEAM_SIZE - 1) // TEAM_SIZE):
        team = {next_user_id() for _ in range(1 + t % 2)} | set(managers)
        for i in range(min(TEAM_SIZE, n - t * TEAM_SIZE)):
            k = t * TEAM_SIZE + i
            code = "W-" + "".join(alphabet[(k // len(alphabet) ** j) % len(alphabet)] for j in range(4))
            people[next_user_id()] = (code, team)

    async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or message.chat is None or message.chat.id not in people:
            return
        code, team = people[message.chat.id]
        if message.text == RED_WORD:
            text, reply = f"URGENT: {code} sent the red code and needs help now.", RED_REPLY
        elif message.text == DURESS_PIN:
            text = f"URGENT: {code} checked out with the duress PIN. They may be forced. Do not call them first."
            reply = CHECKOUT_REPLY
        else:
            return
        for chat in sorted(team):
            await context.bot.send_message(chat_id=chat, text=text)
        await message.reply_text(reply)

    bot = BareBot([MessageHandler(filters.TEXT & ~filters.COMMAND, on_text)])
    await bot.start()
    chats = list(people)
    factories = {chat: UpdateFactory(chat) for chat in chats}
    listeners = bot.api.listeners
    result: dict[str, Any] = {"n": n}

    duress = []
    for chat in chats[:: max(1, n // args.duress)][: args.duress]:
        code, team = people[chat]
        probe = Probe(CHECKOUT_REPLY)
        listeners.append(probe.on_sent)
        cpu0 = time.process_time()
        probe.expect(code, chat, team, bot.push(factories[chat].text(DURESS_PIN)))
        await wait_until(probe.done, 30)
        listeners.remove(probe.on_sent)
        duress.append(
            probe.result(time.process_time() - cpu0)
            | {"raw": list(probe.delivered.values()), "raw_reply": list(probe.replies.values())}
        )
        await asyncio.sleep(0.2)
    result["duress"] = merge(duress)

    for name, chosen in bursts(chats, args):
        await asyncio.sleep(0.5)
        senders = [(factories[chat], people[chat][0], chat, people[chat][1]) for chat in chosen]
        result[name] = await burst(bot.push, listeners, senders, args.timeout)
    await bot.stop()
    return result


# ---------------------------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------------------------


def pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "-"


def scenario_table(title: str, ours: dict[str, Any], bare: dict[str, Any], inst: dict[str, Any]) -> str:
    o, b = ours, bare

    def timing(label: str, key: str, stat: str) -> tuple[str, str, str, str]:
        x, y = o[key][stat], b[key][stat]
        return (label, seconds(x), seconds(y), ratio(x, y))

    rows: list[tuple[str, Any, Any, str]] = [
        ("alerts raised", o["alerts"], b["alerts"], ""),
        ("recipient messages expected", o["expected"], b["expected"], ""),
        ("handed off to the Bot API", o["delivered"], b["delivered"], ""),
        (
            "duplicates / unexpected",
            f"{o['duplicates']} / {o['unexpected']}",
            f"{b['duplicates']} / {b['unexpected']}",
            "",
        ),
        timing("update -> hand-off p50", "delay", "p50"),
        timing("update -> hand-off p80", "delay", "p80"),
        timing("update -> hand-off p99", "delay", "p99"),
        timing("update -> hand-off max", "delay", "max"),
        (f"within {TARGET:g} s (target >= 80 %)", pct(o["within"], o["expected"]), pct(b["within"], b["expected"]), ""),
        timing("alert fully told p80 (all its recipients)", "all_told", "p80"),
        timing("worker's reply p50", "reply", "p50"),
        timing("worker's reply max", "reply", "max"),
        ("first update -> last hand-off", seconds(o["drain"]), seconds(b["drain"]), ratio(o["drain"], b["drain"])),
        ("CPU until all delivered", seconds(o["cpu"]), seconds(b["cpu"]), ratio(o["cpu"], b["cpu"])),
    ]
    out = table((title, "outreach-bot", "bare PTB", "ratio"), rows)
    note = (
        f"  outreach-bot inside: the alert's transaction (raise_code_alert) p50 {seconds(inst.get('raise_p50'))}, "
        f"max {seconds(inst.get('raise_max'))}; {inst['flushes']} outbox flushes sent something "
        f"(longest {seconds(inst['flush_max'])}, at most {inst['flush_sent_max']} messages); "
        f"{inst['flush_skipped']} flush requests found a flush running and returned at once "
        "(what they queued waits for a later request or the next 1 s tick)"
    )
    return out + "\n" + note


def invariants(args: argparse.Namespace, ours: dict[str, Any]) -> Invariants:
    """outreach-bot's, whatever the timings (the bare bot is the baseline for the ratios only)."""
    inv = Invariants()
    for key, name in (("burst_small", "red code, smaller burst"), ("burst_all", "red code, all"), ("duress", "duress")):
        o = ours[key]
        told = f"{o['delivered']} of {o['expected']}, {o['duplicates']} doubled, {o['unexpected']} unexpected"
        ok = o["delivered"] == o["expected"] and not o["duplicates"] and not o["unexpected"]
        inv.check(f"{name}: every recipient told once, nobody else", told, ok)
        inv.equal(f"{name}: every worker answered", o["replies"], o["alerts"])
    inv.tally("whole run, two ticks later: each (alert, recipient) exactly once", ours["tally"])
    red = ours["burst_small"]["alerts"] + ours["burst_all"]["alerts"]  # red codes sent
    inv.equal("alerts in the database", ours["alerts_in_db"], f"duress {ours['duress']['alerts']}, red {red}")
    inv.equal("outbox messages left unsent", ours["unsent"], 0)
    inv.equal("handler errors (outreach-bot)", ours["n_errors"], 0)
    inv.equal("warnings logged (outreach-bot)", ours["warnings"], 0)
    return inv


def report(args: argparse.Namespace, ours: dict[str, Any], bare: dict[str, Any]) -> str:
    n = ours["n"]
    small = min(args.burst, n)
    out = [
        f"alerts: {n} checked-in workers in teams of {TEAM_SIZE} (1 or 2 supervisors each) + {MANAGERS} managers; "
        "a red or duress alert goes to the team's supervisors and every manager",
        "clock: update pushed to the Bot API stand-in (bot long-polls getUpdates) -> message handed to the stand-in; "
        "real clock, 1 s tick, SQLite synchronous=FULL, rate limiter off",
        f"bare = python-telegram-bot {ptb_version()} bot sending the same messages from its handler "
        "(recipients in memory, no database, no outbox, no PIN check)",
        "",
        scenario_table(
            f"red code, {small} workers at once", ours["burst_small"], bare["burst_small"], ours["burst_small_inst"]
        ),
        "",
        scenario_table(
            f"red code, all {n} workers at once", ours["burst_all"], bare["burst_all"], ours["burst_all_inst"]
        ),
        "",
        scenario_table(
            f"duress PIN at check-out, one worker at a time ({args.duress} runs)",
            ours["duress"],
            bare["duress"],
            ours["duress_inst"],
        ),
        "",
        notes(
            [
                ("setup (people, check-ins)", seconds(ours["setup_s"])),
                ("handler errors (outreach-bot)", ours["n_errors"]),
                ("warnings logged (outreach-bot)", ours["warnings"]),
            ],
            ("  ", ours["errors"] + ours["first_warnings"]),
        ),
    ]
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500, help="active, checked-in workers (default 500)")
    parser.add_argument("--burst", type=int, default=50, help="workers in the smaller burst (default 50)")
    parser.add_argument("--duress", type=int, default=5, help="duress check-outs, one after another (default 5)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for a burst to be delivered")
    add_check_flag(parser)
    args = parser.parse_args()
    if args.n < 1 or args.burst < 1 or args.duress < 1:
        parser.error("--n, --burst and --duress must be at least 1")
    bare = asyncio.run(run_bare(args))
    ours = asyncio.run(run_ours(args))
    checked = invariants(args, ours)
    print(f"{report(args, ours, bare)}\n\n{checked.table()}\n")
    return exit_status(args.check, checked)


if __name__ == "__main__":
    sys.exit(main())
