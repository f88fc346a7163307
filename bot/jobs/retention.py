"""The daily purge of records past the organisation's retention periods."""

from __future__ import annotations

import logging
from datetime import datetime

from bot.telegram.context import BotContext
from config.org import Retention
from storage import Storage
from storage.retention import Purged, purge

log = logging.getLogger("outreach.retention")


async def run_purge(storage: Storage, retention: Retention, now: datetime) -> Purged:
    """Purge in one transaction, then checkpoint the WAL so deleted data leaves the log file too."""
    async with storage.db.tx() as tx:
        purged = await purge(
            tx,
            now,
            checkins=retention.checkins,
            alerts=retention.alerts,
            incidents_after_close=retention.incidents_after_close,
        )
    await storage.db.checkpoint()
    return purged


async def purge_job(context: BotContext) -> None:
    """Scheduled daily."""
    purged = await run_purge(context.storage, context.config.retention, context.clock.now())
    log.info(
        "Purged %d check-ins, %d alerts, %d incidents, %d sent messages",
        purged.checkins,
        purged.alerts,
        purged.incidents,
        purged.outbox,
    )
