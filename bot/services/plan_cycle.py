"""What keeps the plans' cycle moving: reminders before an action's deadline and once it is overdue (to
its person responsible, when that is an enrolled person), a reminder to a plan's owner as its review date
nears, and an early review when a critical incident is reported at its place.

Every reminder goes through the outbox under a key of its own (plan, action, date, stage), so it is
queued once, whatever the number of sweeps or restarts. The key is a keyed digest: the outbox's clear
columns show neither the plan nor the date. A worker's reminder names no plan and nothing of it, and
leaves the chat at clean-up (bot/jobs/outbox.py's PASSING kinds).
"""

from __future__ import annotations

import json
from datetime import date, datetime

from bot.i18n import tr
from bot.services.plans import CODE, REVIEW_SOON, SOON, Plan, from_json
from config import OrgConfig
from storage import Storage
from storage.db import Tx

ACTION_SOON, ACTION_LATE, REVIEW, FLAGGED = "plan_action", "plan_overdue", "plan_review", "plan_flagged"
RISK_ROSE = "plan_risk_rose"  # flagged because the place's computed risk rose (bot/services/risk.py)


def _key(storage: Storage, *parts: str) -> str:
    return "plan:" + storage.sealer.lookup("plan_reminder", "\x1f".join(parts))[:32]


async def remind(storage: Storage, config: OrgConfig, now: datetime) -> int:
    """Queue what is due today (in the organisation's time zone); how many were queued for the first time."""
    today = now.astimezone(config.tz).date()
    async with storage.db.read() as tx:
        due = await storage.plans.due_by(tx, today)
    queued = 0
    if not due:
        return 0  # most minutes: one indexed read, no write
    async with storage.db.tx() as tx:
        for stored in due:
            plan = from_json(stored)
            assert plan.id is not None
            for n, action in enumerate(plan.actions):
                if action.status == "done" or not CODE.match(action.responsible) or today < action.deadline - SOON:
                    continue
                late = today > action.deadline
                person = await storage.people.by_code(tx, stored.org_id, action.responsible)
                if person is None or person.status != "active":
                    continue
                stage = "late" if late else "soon"
                key = _key(storage, plan.id, str(n), action.measure, action.deadline.isoformat(), stage, person.id)
                params: dict[str, str] = {"date": action.deadline.isoformat()}
                if person.role != "worker":  # a worker's phone shows no plan: only that a task is due
                    params["plan"] = plan.id
                queued += await storage.outbox.enqueue(
                    tx,
                    key=key,
                    recipient_id=person.id,
                    kind=ACTION_LATE if late else ACTION_SOON,
                    params=params,
                    now=now,
                )
            if today >= plan.review - REVIEW_SOON:
                owner = await storage.people.by_code(tx, stored.org_id, plan.owner)
                if owner is not None and owner.status == "active":
                    queued += await storage.outbox.enqueue(
                        tx,
                        key=_key(storage, plan.id, "review", plan.review.isoformat(), owner.id),
                        recipient_id=owner.id,
                        kind=REVIEW,
                        params={"plan": plan.id, "date": plan.review.isoformat()},
                        now=now,
                    )
    return queued


async def flag_place(
    storage: Storage, tx: Tx, org_id: str, place: str, incident_id: str, now: datetime, kind: str = FLAGGED
) -> int:
    """A critical incident at `place` (or, with kind RISK_ROSE, a rise of its risk: `incident_id` then
    names the rise): its plans are marked for an early review and their owners told, once per cause.
    Called in the transaction that files the incident or stores the new levels."""
    told = 0
    for stored in await storage.plans.at_place(tx, org_id, place):
        plan: Plan = from_json(stored)
        assert plan.id is not None
        if not plan.early_review:
            data = json.dumps(plan.to_dict() | {"early_review": True}, ensure_ascii=False)
            await storage.plans.put(tx, plan.id, org_id, data, plan.place, plan.next_due(), now)
        owner = await storage.people.by_code(tx, org_id, plan.owner)
        if owner is None or owner.status != "active":
            continue
        told += await storage.outbox.enqueue(
            tx,
            key=_key(storage, plan.id, "flag", incident_id),
            recipient_id=owner.id,
            kind=kind,
            params={"plan": plan.id},
            now=now,
        )
    return told


async def summary_lines(storage: Storage, org_id: str, today: date, locale: str) -> list[str]:
    """For a manager's weekly summary: overdue actions and plans due for review, counts and names."""
    async with storage.db.read() as tx:
        plans = [from_json(s) for s in await storage.plans.all(tx, org_id)]
    overdue = [(p, sum(1 for a in p.actions if a.status != "done" and a.deadline < today)) for p in plans]
    overdue = [(p, n) for p, n in overdue if n]
    review = [p for p in plans if p.early_review or p.review <= today + REVIEW_SOON]
    return [
        tr(
            locale,
            "Overdue plan actions: {n} ({list})",
            n=sum(n for _, n in overdue),
            list=", ".join(f"{p.id} {p.subject}: {n}" for p, n in overdue) or "–",
        ),
        tr(
            locale,
            "Plans due for review: {n} ({list})",
            n=len(review),
            list=", ".join(f"{p.id} {p.subject} {p.review.isoformat()}" for p in review) or "–",
        ),
    ]
