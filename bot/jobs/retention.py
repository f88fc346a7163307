"""The daily purge of records past the organisation's retention periods (scheduled by bot/telegram/jobs.py)."""

from __future__ import annotations

import logging
from datetime import datetime

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
            codes=storage.codes,
        )
    await storage.db.checkpoint()
    log.info(
        "Purged %d check-ins, %d alerts, %d incidents, %d sent messages",
        purged.checkins,
        purged.alerts,
        purged.incidents,
        purged.outbox,
    )
    return purged
