"""The daily purge of records past the organisation's retention periods (scheduled by bot/telegram/jobs.py)."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from config.org import Retention
from storage import Storage
from storage.retention import Purged, purge

log = logging.getLogger("outreach.retention")
CHECKPOINT_TRIES = 50
CHECKPOINT_PAUSE = 0.1  # seconds; readers hold a snapshot for milliseconds


async def run_purge(storage: Storage, retention: Retention, now: datetime) -> Purged:
    """Purge in one transaction, then checkpoint the WAL so deleted data leaves the log file too."""
    async with storage.db.tx() as tx:
        purged = await purge(
            tx,
            now,
            checkins=retention.checkins,
            alerts=retention.alerts,
            incidents_after_close=retention.incidents_after_close,
            audit_log=retention.audit_log,
            invites=retention.invites,
            outbox=retention.outbox,
            revoked_people=retention.revoked_people,
            plans_archived=retention.plans_archived,
            people=storage.people,
            codes=storage.codes,
        )
    await checkpoint(storage)
    log.info(
        "Purged %d check-ins, %d alerts, %d incidents, %d sent messages, %d audit entries, %d invites;"
        " erased %d revoked people, %d of them entirely; %d archived plans",
        purged.checkins,
        purged.alerts,
        purged.incidents,
        purged.outbox,
        purged.audit,
        purged.invites,
        purged.people_erased,
        purged.people_deleted,
        purged.plans,
    )
    return purged


async def checkpoint(storage: Storage) -> bool:
    """Copy the WAL into the database and empty it, so the old pages leave the log file. A reader in the
    middle of a snapshot keeps it from finishing: try again a few times, then say so."""
    for _ in range(CHECKPOINT_TRIES):
        if await storage.db.checkpoint():
            return True
        await asyncio.sleep(CHECKPOINT_PAUSE)
    log.warning("The write-ahead log could not be emptied after the purge; the next purge tries again")
    return False
