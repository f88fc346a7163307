"""Half-written reports: one reminder after 30 minutes, dropped with a note after 24 hours."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.context import BotContext
from bot.jobs import outbox
from storage import Storage

REMIND_AFTER = timedelta(minutes=30)
DROP_AFTER = timedelta(hours=24)


async def sweep(storage: Storage, now: datetime) -> tuple[int, int]:
    """Queue reminders and drop expired drafts; returns (reminded, dropped)."""
    async with storage.db.tx() as tx:
        expired = await storage.incidents.drafts_expired(tx, now - DROP_AFTER)
        for person_id, started in expired:
            await storage.incidents.drop_draft(tx, person_id)
            await storage.outbox.enqueue(
                tx,
                key=f"draft:{person_id}:{started}:dropped",
                recipient_id=person_id,
                kind="draft_dropped",
                params={},
                now=now,
            )
        to_remind = await storage.incidents.drafts_to_remind(tx, now - REMIND_AFTER)
        for person_id in to_remind:
            await storage.incidents.mark_reminded(tx, person_id, now)
            await storage.outbox.enqueue(
                tx,
                key=f"draft:{person_id}:{now.isoformat()}:remind",
                recipient_id=person_id,
                kind="draft_reminder",
                params={},
                now=now,
            )
    return len(to_remind), len(expired)


async def sweep_job(context: BotContext) -> None:
    """The scheduled sweep, every minute."""
    await sweep(context.storage, context.clock.now())
    await outbox.flush(context.application)
