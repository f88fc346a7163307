"""The escalation tick: every second, advance what has fallen due and send the outbox.

The database is the source of truth for deadlines, so the same tick that runs in normal time
also catches up at start with everything that fell due while the bot was down.
"""

from __future__ import annotations

import logging
import os
import time
from datetime import UTC, datetime
from typing import Any

from bot.jobs import outbox
from bot.services.escalation import BATCH, advance_alerts, advance_checkins
from bot.telegram.context import BotContext

log = logging.getLogger("outreach.tick")
TICK_SECONDS = 1.0


HEARTBEAT_EVERY = 15.0


async def tick(context: BotContext) -> None:
    """Advance due check-ins and alerts, then send what is queued, then prove we are alive."""
    storage, config = context.storage, context.config
    now = context.clock.now()
    # Batch by batch, sending in between: after a long downtime the first alerts leave at once
    # instead of waiting until every overdue check-in has been examined.
    while await advance_checkins(storage, config.escalation, now, batches=1) >= BATCH:
        await outbox.flush(context.application)
    await advance_alerts(storage, config.escalation, now)
    await outbox.flush(context.application)
    beat(context.bot_data)


def beat(data: Any) -> None:
    """Write the heartbeat file that `outreach-bot health` reads (at most every 15 s: it is a disk write)."""
    settings = data.settings
    if settings is None:
        return
    moment = time.time()
    if moment - getattr(data, "last_beat", 0.0) < HEARTBEAT_EVERY:
        return
    data.last_beat = moment
    path = settings.heartbeat_path
    temporary = path.with_suffix(".tmp")
    temporary.write_text(f"{moment:.0f}\n")
    os.replace(temporary, path)  # atomic: health never reads half a file


async def _flush_requested(app: Any) -> None:
    app.bot_data.flush_requested = False  # what is queued from now on needs a flush of its own
    await outbox.flush(app)


def schedule(app: Any) -> None:
    """Start the tick; the first run is immediate so that missed deadlines go out at start."""
    app.job_queue.run_repeating(
        tick,
        interval=TICK_SECONDS,
        first=0,
        name="escalation",
        job_kwargs={
            "max_instances": 1,
            "coalesce": True,
            "misfire_grace_time": None,
            "next_run_time": datetime.now(UTC),  # first=0 still waits one interval; a restart must not
        },
    )


def request_flush(context: BotContext, since: int | None = None) -> None:
    """Send what a handler just queued, without waiting for the next tick.

    `since`: `storage.outbox.enqueued` before the handler's change; if nothing was queued since,
    there is nothing to send (most check-ins and check-outs queue no message at all). A task rather
    than a scheduler job, and at most one waiting: a burst at shift start shares one flush."""
    if since is not None and context.storage.outbox.enqueued == since:
        return
    if not context.bot_data.flush_requested:
        context.bot_data.flush_requested = True
        context.application.create_task(_flush_requested(context.application), name="outbox-flush")
