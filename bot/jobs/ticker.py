"""The escalation tick: every second, advance what has fallen due and send the outbox.

The database is the source of truth for deadlines, so the same tick that runs in normal time
also catches up at start with everything that fell due while the bot was down. Messenger-neutral:
`flush` sends the outbox through the running messenger (bot/telegram/jobs.py schedules it for Telegram).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from bot.clock import Clock
from bot.services.escalation import BATCH, advance_alerts, advance_checkins
from bot.services.lists import refresh_if_changed
from config import OrgConfig
from storage import Storage

TICK_SECONDS = 1.0
Flush = Callable[[], Awaitable[int]]  # sends what is due in the outbox; how many were sent
OnStep = Callable[[str, float], None]  # told each step's name and seconds: advance_checkins, advance_alerts, flush
T = TypeVar("T")


async def tick(storage: Storage, config: OrgConfig, clock: Clock, flush: Flush, on_step: OnStep | None = None) -> None:
    """Advance due check-ins and alerts, sending what they queue as they go. on_step (a bench's, say)
    is told how long each step took; without it nothing is timed."""
    now = clock.now()
    # Batch by batch, sending in between: after a long downtime the first alerts leave at once
    # instead of waiting until every overdue check-in has been examined.
    esc = config.escalation
    while await _step("advance_checkins", advance_checkins(storage, esc, now, batches=1), on_step) >= BATCH:
        await _step("flush", flush(), on_step)
    await _step("advance_alerts", advance_alerts(storage, esc, now), on_step)
    await _step("flush", flush(), on_step)
    await refresh_if_changed(storage, config)  # lists an admin changed from the CLI hold within a second


async def _step(name: str, work: Awaitable[T], on_step: OnStep | None) -> T:
    if on_step is None:
        return await work
    start = time.perf_counter()
    try:
        return await work
    finally:
        on_step(name, time.perf_counter() - start)
