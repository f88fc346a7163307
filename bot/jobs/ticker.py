"""The escalation tick: every second, advance what has fallen due and send the outbox.

The database is the source of truth for deadlines, so the same tick that runs in normal time
also catches up at start with everything that fell due while the bot was down. Messenger-neutral:
`flush` sends the outbox through the running messenger (bot/telegram/jobs.py schedules it for Telegram).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.clock import Clock
from bot.services.escalation import BATCH, advance_alerts, advance_checkins
from config import OrgConfig
from storage import Storage

TICK_SECONDS = 1.0
Flush = Callable[[], Awaitable[int]]  # sends what is due in the outbox; how many were sent


async def tick(storage: Storage, config: OrgConfig, clock: Clock, flush: Flush) -> None:
    """Advance due check-ins and alerts, sending what they queue as they go."""
    now = clock.now()
    # Batch by batch, sending in between: after a long downtime the first alerts leave at once
    # instead of waiting until every overdue check-in has been examined.
    while await advance_checkins(storage, config.escalation, now, batches=1) >= BATCH:
        await flush()
    await advance_alerts(storage, config.escalation, now)
    await flush()
