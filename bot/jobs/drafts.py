"""Conversations left half-way: ended (and cleaned up) once idle past their flow's timeout; a report
left half-way gets one reminder after 30 minutes, and a note when it is dropped after 24 hours. The same
minute's sweep reminds managers when no drill has run for a while (bot/services/drills.py), people of
the security plans' actions and reviews due (bot/services/plan_cycle.py), and recomputes the risk by place
(bot/services/risk.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.flows import report
from bot.flows.engine import Engine
from bot.flows.engine import sweep as end_idle
from bot.services import plan_cycle
from bot.services.drills import remind_managers
from bot.services.risk import refresh as refresh_risk
from config import OrgConfig
from storage import Storage

REMIND_AFTER = timedelta(minutes=30)
REPORT_FLOWS = (report.FLOW.name, report.FROM_ALERT.name)


async def sweep(engine: Engine, storage: Storage, config: OrgConfig, now: datetime) -> tuple[int, int]:
    """Queue reminders and end idle conversations; returns (reminded, dropped reports)."""
    ended = await end_idle(engine, storage, config, now)
    dropped = [person_id for person_id, flow in ended if flow in REPORT_FLOWS]
    reminded = 0
    async with storage.db.tx() as tx:
        for person_id in dropped:
            await storage.outbox.enqueue(
                tx,
                key=f"draft:{person_id}:{now.isoformat()}:dropped",
                recipient_id=person_id,
                kind="draft_dropped",
                params={},
                now=now,
            )
        for flow in REPORT_FLOWS:
            for person_id, since in await storage.conversations.idle(tx, flow, now - REMIND_AFTER):
                # once per idle spell: the key names the moment the report last moved
                reminded += await storage.outbox.enqueue(
                    tx,
                    key=f"draft:{person_id}:{since.isoformat()}:remind",
                    recipient_id=person_id,
                    kind="draft_reminder",
                    params={},
                    now=now,
                )
    await remind_managers(storage, config.drill_every, now)
    await plan_cycle.remind(storage, config, now)  # security plans' actions and reviews
    await refresh_risk(storage, config, now)  # cheap when nothing came in (bot/services/risk.py)
    return reminded, len(dropped)
