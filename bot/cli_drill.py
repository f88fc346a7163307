"""`outreach-bot drill W-7KQ2`: a drill from the shell (an admin's), like /drill in the chat.

It only writes the alert and its first messages to the database: the running bot sends them within a
second and climbs the ladder as for any alert."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from bot.failure import Fail
from bot.services.drills import run_drill

Opener = Callable[[], AbstractAsyncContextManager[tuple[Any, Any, Any, Any]]]  # cli_base.organization


def add_parser(sub: Any) -> None:
    drill = sub.add_parser("drill", help="a practice alert about a worker, marked as a drill to everyone")
    drill.add_argument("code", help="the worker's code, like W-7KQ2")


async def cmd_drill(args: argparse.Namespace, organization: Opener) -> None:
    """Raise the drill; an unknown code or a person who is not an active worker: one line, nothing written."""
    async with organization() as (storage, org, config, clock):
        done = await run_drill(storage, config.escalation, org.id, None, args.code, clock.now())
    if done is None:
        raise Fail(f"no active worker with code {args.code!r}: nothing was done")
    minutes = int(config.escalation.ack_timeout.total_seconds() // 60)
    ladder = f"supervisors now, managers after {minutes} min if nobody acknowledges"
    if done.managers_now:
        ladder = "managers now (the team has no supervisor)"
    print(f"Drill started for {done.worker.code}: {ladder} (the running bot sends it). The worker is not told.")
