"""Urgency benchmark (issue 14): red alerts overtake a backlog, within Telegram's limits.

The outbox holds ROUTINE routine messages (a note's reminder to each of many workers), queued at once;
while the bot drains them, ALERTS workers (each of another team) send the red code word, one every
SPACING seconds. The Bot API stand-in enforces Telegram's flood limits (30 messages/s per bot, about
1/s per chat, 20/min per group: 429 with retry_after past them) and the bot runs with its send budget
on, as `outreach-bot run` does (real clock, 1 s tick, long polling, SQLite synchronous=FULL).

It measures: each red alert's time from the code word reaching the Bot API to the alert handed to it
(target p99 <= 1 s); the rate at which the bot hands messages over while the backlog drains (target
>= 27/s, 90 % of Telegram's 30/s); the 429s answered (target: none).
Why spaced: 50 alerts at the same instant cannot all be handed over within 1 s at 30 messages a
second, whatever the order; 5 a second (each with the worker's reply) is a third of the budget.

    .venv/bin/python bench/urgency.py                     # 5,000 routine + 50 alerts, about 3 minutes
    .venv/bin/python bench/urgency.py --check --routine 300 --alerts 8   # as tests/ runs it

Invariants (--check: the exit status): not one 429; every alert handed over once, to its supervisor
only, and every worker answered; urgency order: between a code word and its alert, at most one
second's budget of routine messages (those already let through) was handed over; every routine
message handed over once; nothing left unsent; no handler error; no warning logged.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import time
from collections import Counter
from typing import Any

from _common import Invariants, LogCounter, add_check_flag, exit_status, notes, outbox_unsent, seconds, table
from _runner import BenchBot, config_with, dist, enrol, wait_until

RED_WORD = "buy bread"
RED_REPLY = "OK, noted."
PER_BOT = 30.0  # Telegram's limit, messages a second
DRAIN_TARGET = 0.9 * PER_BOT
LATENCY_TARGET = 1.0
IN_FLIGHT = 29  # routine messages already let through when an alert comes: one second's budget


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from tests.auxil.standin import FakeBotApi, FloodLimits

    logs = LogCounter.install()
    api = FakeBotApi()
    api.limits = FloodLimits()
    bot = BenchBot(config_with(), "bench-urgency-", api=api, rate_limit=True)
    setup0 = time.perf_counter()
    await bot.open_storage()
    teams = max(args.alerts, math.ceil(args.routine / args.per_worker / 20))
    enrolled = await enrol(bot, teams * 20)
    workers = enrolled.workers
    raisers = [team.workers[0] for team in enrolled.teams[: args.alerts]]
    supervisor_of = {w.chat_id: t.supervisors[0].chat_id for t in enrolled.teams for w in t.workers}
    supervisors = {t.supervisors[0].chat_id for t in enrolled.teams}
    setup_s = time.perf_counter() - setup0
    await bot.start()
    try:
        now = bot.clock.now()
        async with bot.storage.db.tx() as tx:
            for n in range(args.routine):
                worker = workers[n % len(workers)]
                await bot.storage.outbox.enqueue(
                    tx, key=f"routine:{n}", recipient_id=worker.id, kind="draft_reminder", params={}, now=now
                )
        queued = time.monotonic()
        routine_chats = {w.chat_id for w in workers}
        routine = lambda: [s for s in api.sent if s.chat_id in routine_chats and s.method == "sendMessage"]  # noqa: E731
        await wait_until(lambda: len(routine()) >= min(60, args.routine), 30)  # the backlog is going out
        from tests.auxil.standin import UpdateFactory

        pushed: dict[int, float] = {}
        for worker in raisers:
            update = UpdateFactory(worker.chat_id).text(RED_WORD)
            pushed[worker.chat_id] = bot.push(update)
            await asyncio.sleep(args.spacing)

        def alerts() -> list[Any]:
            return [s for s in api.sent if s.chat_id in supervisors and (s.text or "").startswith("URGENT:")]

        await wait_until(lambda: len(alerts()) >= args.alerts, 60)
        drain_budget = args.routine / DRAIN_TARGET + 60
        await wait_until(lambda: len([s for s in routine() if s.text != RED_REPLY]) >= args.routine, drain_budget)
        await asyncio.sleep(2.2)  # two more ticks: a message sent twice would show
        sent = [s for s in api.sent if s.method == "sendMessage"]
        first_at = min(s.at for s in sent if s.chat_id in routine_chats)
        last_at = max(s.at for s in sent)
        routine_sent = [s for s in sent if s.chat_id in routine_chats and s.text != RED_REPLY]
        by_supervisor = Counter(s.chat_id for s in alerts())
        latencies, overtaken = [], []
        for chat, at in pushed.items():
            told = sorted(s.at for s in alerts() if s.chat_id == supervisor_of[chat])
            if told:
                latencies.append(told[0] - at)
                overtaken.append(sum(1 for s in routine_sent if at <= s.at <= told[0]))
        replies = sum(1 for s in sent if s.text == RED_REPLY and s.chat_id in pushed)
        return {
            "routine": args.routine,
            "alerts": args.alerts,
            "latency": dist(latencies),
            "overtaken_max": max(overtaken, default=0),
            "drain_rate": len(sent) / (last_at - first_at) if last_at > first_at else math.nan,
            "drain_s": last_at - first_at,
            "queued_to_first": first_at - queued,
            "messages": len(sent),
            "refused": len(api.limits.refused),
            "alerts_told": sum(by_supervisor.values()),
            "alerts_once": all(by_supervisor.get(supervisor_of[c]) == 1 for c in pushed),
            "alerts_elsewhere": sum(1 for s in api.sent if (s.text or "").startswith("URGENT:"))
            - sum(by_supervisor.values()),
            "replies": replies,
            "routine_sent": len(routine_sent),
            "routine_ids": len({s.message_id for s in routine_sent}),
            "unsent": await outbox_unsent(bot.storage),
            "setup_s": setup_s,
            "errors": [repr(e)[:160] for e in bot.errors[:3]],
            "n_errors": len(bot.errors),
            "warnings": logs.count,
            "first_warnings": logs.first,
        }
    finally:
        await bot.close()


def invariants(r: dict[str, Any]) -> Invariants:
    inv = Invariants()
    inv.equal("429s answered by the stand-in", r["refused"], 0)
    once = f"{r['alerts_told']} of {r['alerts']}, {r['alerts_elsewhere']} elsewhere"
    ok = r["alerts_once"] and r["alerts_told"] == r["alerts"] and not r["alerts_elsewhere"]
    inv.check("every alert handed over once, to its supervisor only", once, ok)
    inv.equal("every worker answered", r["replies"], r["alerts"])
    inv.check(
        f"urgency order: routine messages between a code word and its alert (at most {IN_FLIGHT})",
        r["overtaken_max"],
        r["overtaken_max"] <= IN_FLIGHT,
    )
    inv.equal("every routine message handed over once", f"{r['routine_sent']} ({r['routine_ids']} distinct)",
              f"{r['routine']} ({r['routine']} distinct)")  # fmt: skip
    inv.equal("outbox messages left unsent", r["unsent"], 0)
    inv.equal("handler errors", r["n_errors"], 0)
    inv.equal("warnings logged", r["warnings"], 0)
    return inv


def report(args: argparse.Namespace, r: dict[str, Any]) -> str:
    lat = r["latency"]
    rows = [
        ("red alert handed over, p50", seconds(lat["p50"]), ""),
        ("red alert handed over, p99", seconds(lat["p99"]), f"<= {LATENCY_TARGET:g} s"),
        ("red alert handed over, max", seconds(lat["max"]), ""),
        ("messages handed over a second while draining", f"{r['drain_rate']:.1f}", f">= {DRAIN_TARGET:g}"),
        ("429s answered", r["refused"], "0"),
    ]
    verdicts = [True, lat["p99"] <= LATENCY_TARGET, True, r["drain_rate"] >= DRAIN_TARGET, r["refused"] == 0]
    marked = [(row, ok) for row, ok in zip(rows, verdicts, strict=True)]
    out = [
        f"urgency: {r['routine']} routine messages queued at once, then {r['alerts']} red code words "
        f"(one every {args.spacing:g} s, each worker of another team); stand-in at Telegram's limits "
        "(30/s per bot, 1/s per chat with a burst of 4: 429 past them); the bot's send budget on",
        "",
        table(
            ("measure", "measured", "target", ""),
            [(*row, ("PASS" if ok else "FAIL") if row[2] else "") for row, ok in marked],
        ),
        "",
        notes(
            [
                ("setup (people)", seconds(r["setup_s"])),
                ("messages handed over (sendMessage)", r["messages"]),
                ("first hand-off -> last", seconds(r["drain_s"])),
                ("backlog queued -> first hand-off (the tick)", seconds(r["queued_to_first"])),
            ],
            ("  ", r["errors"] + r["first_warnings"]),
        ),
    ]
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--routine", type=int, default=5000, help="routine messages queued (default 5000)")
    parser.add_argument("--alerts", type=int, default=50, help="red code words (default 50)")
    parser.add_argument("--spacing", type=float, default=0.2, help="seconds between code words (default 0.2)")
    parser.add_argument("--per-worker", type=int, default=5, help="routine messages per worker (default 5)")
    add_check_flag(parser)
    args = parser.parse_args()
    if args.routine < 100 or args.alerts < 1:
        parser.error("--routine must be at least 100 and --alerts at least 1")
    result = asyncio.run(run(args))
    checked = invariants(result)
    print(f"{report(args, result)}\n\n{checked.table()}\n")
    return exit_status(args.check, checked)


if __name__ == "__main__":
    sys.exit(main())
