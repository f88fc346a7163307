"""Drills: a practice alert about a worker that climbs the whole ladder, marked as a drill to everyone who
receives it, and counted apart from real alerts; and the reminder to managers when none has run for a while.

The worker is not told: a drill must leave nothing on their phone (it may be seized), and the chain it
tests is the one behind them, not their own screen."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.services.alert_lifecycle import open_ladder_alert
from bot.services.escalation import tell
from config.org import Escalation
from storage import Person, Storage
from storage.timefmt import to_db

KIND = "drill"  # the alert's kind (coded in the database like every kind)
REMINDER = "drill_reminder"  # the outbox kind of the managers' reminder


@dataclass(frozen=True)
class Drill:
    alert_id: str
    worker: Person
    managers_now: bool  # the team has no supervisor: the managers were told at once


def may_drill(actor: Person | None, worker: Person | None) -> bool:
    """An admin (or the CLI, actor None) on any active worker of the organisation; a supervisor on their own
    team's. Anything else (a stranger, another team, not a worker) is refused the same way."""
    if worker is None or worker.role != "worker" or worker.status != "active":
        return False
    if actor is None:
        return True
    if actor.org_id != worker.org_id or actor.status != "active":
        return False
    if actor.role == "admin":
        return True
    return actor.role == "supervisor" and actor.team_id is not None and actor.team_id == worker.team_id


async def run_drill(
    storage: Storage, esc: Escalation, org_id: str, actor: Person | None, code: str, now: datetime
) -> Drill | None:
    """Raise a drill about the worker with this code, if `actor` may; None (nothing written) otherwise."""
    code = code.strip().upper()
    if not code or len(code) > 20:
        return None
    async with storage.db.tx() as tx:
        worker = await storage.people.by_code(tx, org_id, code)
        if not may_drill(actor, worker):
            return None
        assert worker is not None
        alert_id, first, params = await open_ladder_alert(storage, tx, esc, worker, KIND, now, with_checkin=False)
        await tell(storage, tx, alert_id, first, "alert", "first", params, now)
        await storage.audit.record(
            tx, now, f"alert.raise:{KIND}", org_id=org_id, actor_id=actor.id if actor else None, subject_id=alert_id
        )
    return Drill(alert_id, worker, any(p.role != "supervisor" for p in first))


async def remind_managers(storage: Storage, every: timedelta, now: datetime) -> int:
    """Queue, for every manager, one reminder per period of `every` in which no drill ran (counted from the
    last drill, or from the organisation's creation). The outbox key names the period: once per manager per
    period, across restarts. Returns how many were queued."""
    queued = 0
    async with storage.db.tx() as tx:
        for org_id, created in await storage.orgs.created(tx):
            since = await storage.alerts.last_raised(tx, org_id, KIND) or created
            periods = (now - since) // every
            if periods < 1:
                continue
            days = (now - since).days
            for manager in await storage.people.with_role(tx, org_id, "manager"):
                queued += await storage.outbox.enqueue(
                    tx,
                    key=f"drill-due:{to_db(since)}:{periods}:{manager.id}",
                    recipient_id=manager.id,
                    kind=REMINDER,
                    params={"days": days},
                    now=now,
                )
    return queued
