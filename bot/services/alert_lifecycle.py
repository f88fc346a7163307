"""Raising and closing an alert inside the caller's transaction, with the messages it causes queued.

Both steps are shared: alerts.py raises (code word, /alert) and closes (green), checkins.py closes (late
check-out, extend, "they are safe") and raises (duress PIN at check-out). Here, they import it and not
each other."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.services.escalation import alert_params, alert_recipients, checkin_params, hide_locations, tell
from config.org import Escalation
from storage import Person, Storage, Tx
from storage.alerts import Alert

LEVEL_KINDS = {"red": "red", "yellow": "yellow"}
# Alerts the worker did not raise by a code: a drill (they are not told at all) and a critical report (they
# already have its reference). Closing them sends the worker nothing: their phone shows nothing new.
QUIET_KINDS = ("drill", "critical_report")


async def raise_in_tx(
    storage: Storage,
    tx: Tx,
    esc: Escalation,
    worker: Person,
    level: str,
    now: datetime,
    *,
    duress: bool = False,
    update_id: int | None = None,
) -> str:
    """Write the alert and queue its messages inside the caller's transaction."""
    kind = "duress" if duress else LEVEL_KINDS[level]
    urgent = kind in ("red", "duress")
    checkin = await storage.checkins.open_for(tx, worker.id)
    supervisors, managers_instead = await alert_recipients(storage, tx, worker.org_id, worker.team_id)
    recipients = list(supervisors)
    if urgent and not managers_instead:
        recipients += await storage.people.with_role(tx, worker.org_id, "manager")
    alert_id = await storage.alerts.create(
        tx,
        org_id=worker.org_id,
        person_id=worker.id,
        team_id=worker.team_id,
        checkin_id=checkin.id if checkin else None,
        kind=kind,
        raised_at=now,
        managers_due_at=None if urgent or managers_instead else now + esc.ack_timeout,
        next_repeat_at=now + esc.repeat_every,
        update_id=update_id,
    )
    if urgent or managers_instead:
        await storage.alerts.set_schedule(
            tx, alert_id, next_repeat_at=now + esc.repeat_every, repeats=0, managers_told_at=now
        )
    params: dict[str, Any] = {"worker": worker.display, "raised": now.isoformat(), "checkin_id": None}
    if checkin is not None:
        params |= await checkin_params(storage, tx, checkin)
    params |= {"alert_id": alert_id, "kind": kind, "repeat": 0}
    await tell(storage, tx, alert_id, recipients, "alert", "first", params, now)
    await storage.audit.record(
        tx, now, f"alert.raise:{kind}", org_id=worker.org_id, actor_id=worker.id, subject_id=alert_id
    )
    return alert_id


async def open_ladder_alert(
    storage: Storage, tx: Tx, esc: Escalation, worker: Person, kind: str, now: datetime, *, with_checkin: bool = True
) -> tuple[str, list[Person], dict[str, Any]]:
    """Write an alert that climbs the ladder of a missed check-out: the team's supervisors now, the managers
    once ack_timeout passes unacknowledged, repeats every repeat_every. Nobody is told yet: returns the
    alert, who to tell first and what its message may say (the caller adds to it, then calls `tell`)."""
    checkin = await storage.checkins.open_for(tx, worker.id) if with_checkin else None
    supervisors, managers_instead = await alert_recipients(storage, tx, worker.org_id, worker.team_id)
    alert_id = await storage.alerts.create(
        tx,
        org_id=worker.org_id,
        person_id=worker.id,
        team_id=worker.team_id,
        checkin_id=checkin.id if checkin else None,
        kind=kind,
        raised_at=now,
        managers_due_at=None if managers_instead else now + esc.ack_timeout,
        next_repeat_at=now + esc.repeat_every,
    )
    if managers_instead:  # no supervisor in the team: the managers were the first told
        await storage.alerts.set_schedule(
            tx, alert_id, next_repeat_at=now + esc.repeat_every, repeats=0, managers_told_at=now
        )
    params: dict[str, Any] = {"worker": worker.display, "raised": now.isoformat(), "checkin_id": None}
    if checkin is not None:
        params |= await checkin_params(storage, tx, checkin)
    return alert_id, list(supervisors), params | {"alert_id": alert_id, "kind": kind, "repeat": 0}


async def close_alert(
    storage: Storage,
    tx: Tx,
    alert: Alert,
    by: Person | None,
    resolution: str,
    now: datetime,
    closed_at: datetime | None = None,
    *,
    tell_worker: bool = True,
) -> None:
    """Resolve an alert and tell everyone who had been told, except the person who closed it; every
    message of it that showed the worker's location is edited to one without (queued in this transaction)."""
    if not await storage.alerts.resolve(tx, alert.id, by.id if by else None, resolution, now):
        return
    await hide_locations(storage, tx, alert.id, now)
    params = await alert_params(storage, tx, alert) | {
        "resolution": resolution,
        "by": by.display if by else None,
        "closed_at": (closed_at or now).isoformat(),
    }
    if (
        resolution == "reached_safe" and tell_worker and alert.kind not in QUIET_KINDS
    ):  # the worker: support contacts, and a report already half filled in
        await storage.outbox.enqueue(
            tx,
            key=f"al:{alert.id}:after:{alert.person_id}",
            recipient_id=alert.person_id,
            kind="after_alert",
            params=params,
            now=now,
            alert_id=alert.id,
        )
    for pid in await storage.alerts.recipients(tx, alert.id):
        if by is not None and pid == by.id:
            continue
        await storage.outbox.enqueue(
            tx,
            key=f"al:{alert.id}:closed:{pid}",
            recipient_id=pid,
            kind="alert_closed",
            params=params,
            now=now,
            alert_id=alert.id,
        )
