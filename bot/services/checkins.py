"""What a worker or supervisor does to a check-in or an alert, each in one transaction with the
messages it causes queued in the outbox."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.services.alert_lifecycle import close_alert, raise_in_tx
from bot.services.escalation import alert_params, checkin_params
from bot.services.ladder import MAX_CHECKIN, fresh_schedule
from config.org import Escalation
from storage import Person, Storage, Tx
from storage.alerts import Alert
from storage.checkins import Checkin


class Outcome(enum.Enum):
    OK = "ok"
    ALREADY_OPEN = "already_open"
    NOT_OPEN = "not_open"
    STALE = "stale"
    FORBIDDEN = "forbidden"
    ALREADY_DONE = "already_done"


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    checkin: Checkin | None = None
    alert: Alert | None = None


@dataclass(frozen=True)
class NewCheckin:
    place: str
    place_custom: bool
    partner_id: str | None
    alone_at_pairs: bool
    duration: timedelta
    location: str | None = None


async def open_checkin(storage: Storage, esc: Escalation, worker: Person, new: NewCheckin, now: datetime) -> Result:
    """Check in; a worker has at most one open check-in."""
    deadline = now + min(new.duration, MAX_CHECKIN)
    stage, next_at = fresh_schedule(deadline, esc, now)
    async with storage.db.tx() as tx:
        existing = await storage.checkins.open_for(tx, worker.id)
        if existing is not None:
            return Result(Outcome.ALREADY_OPEN, existing)
        if await storage.checkins.occupied(tx, worker.id):  # one edited without the key names this worker
            return Result(Outcome.ALREADY_OPEN)
        checkin_id = await storage.checkins.create(
            tx,
            org_id=worker.org_id,
            person_id=worker.id,
            team_id=worker.team_id,
            place=new.place,
            place_custom=new.place_custom,
            partner_id=new.partner_id,
            alone_at_pairs=new.alone_at_pairs,
            started_at=now,
            deadline_at=deadline,
            stage=stage,
            next_step_at=next_at,
            location=new.location,
        )
        checkin = await storage.checkins.get(tx, checkin_id)
        assert checkin is not None
        if new.alone_at_pairs and worker.team_id:
            params = await checkin_params(storage, tx, checkin)
            for supervisor in await storage.people.in_team(tx, worker.team_id, "supervisor"):
                await storage.outbox.enqueue(
                    tx,
                    key=f"ci:{checkin_id}:alone:{supervisor.id}",
                    recipient_id=supervisor.id,
                    kind="alone",
                    params=params,
                    now=now,
                )
        if new.place_custom:  # flagged for admins: a place used often belongs in the config
            for admin in await storage.people.with_role(tx, worker.org_id, "admin"):
                await storage.outbox.enqueue(
                    tx,
                    key=f"ci:{checkin_id}:newplace:{admin.id}",
                    recipient_id=admin.id,
                    kind="new_place",
                    params={"place": new.place},
                    now=now,
                )
        await storage.audit.record(
            tx, now, "checkin.open", org_id=worker.org_id, actor_id=worker.id, subject_id=checkin_id
        )
    return Result(Outcome.OK, checkin)


async def _own_open(storage: Storage, tx: Tx, worker: Person, checkin_id: str | None) -> Checkin | Outcome:
    checkin = await storage.checkins.open_for(tx, worker.id)
    if checkin is None:
        return Outcome.NOT_OPEN
    if checkin_id is not None and checkin.id != checkin_id:
        return Outcome.STALE
    return checkin


async def checkout(
    storage: Storage,
    worker: Person,
    checkin_id: str | None,
    outcome: str,
    now: datetime,
    *,
    duress_esc: Escalation | None = None,
    update_id: int | None = None,
) -> Result:
    """Close the worker's check-in ("fine" or "something_happened"); a late check-out closes its alert.
    With `duress_esc`, a red alert marked duress is raised in the same transaction (by `update_id`)."""
    async with storage.db.tx() as tx:
        found = await _own_open(storage, tx, worker, checkin_id)
        if isinstance(found, Outcome):
            return Result(found)
        alert = await storage.alerts.active_for_checkin(tx, found.id)
        if alert is not None:
            await close_alert(storage, tx, alert, None, "late_checkout", now)
        if duress_esc is not None:
            await raise_in_tx(  # it sees the open check-in
                storage, tx, duress_esc, worker, "red", now, duress=True, update_id=update_id
            )
        await storage.checkins.close(tx, found.id, "duress" if duress_esc else outcome, now)
        await storage.audit.record(
            tx, now, f"checkin.close:{outcome}", org_id=worker.org_id, actor_id=worker.id, subject_id=found.id
        )
    return Result(Outcome.OK, found, alert)


async def extend(
    storage: Storage, esc: Escalation, worker: Person, checkin_id: str | None, delta: timedelta, now: datetime
) -> Result:
    """Push the deadline back (from now if it has passed); a sign of life also closes an open alert."""
    async with storage.db.tx() as tx:
        found = await _own_open(storage, tx, worker, checkin_id)
        if isinstance(found, Outcome):
            return Result(found)
        deadline = min(max(found.deadline_at, now) + delta, now + MAX_CHECKIN)
        stage, next_at = fresh_schedule(deadline, esc, now)
        await storage.checkins.set_deadline(tx, found.id, deadline, stage, next_at)
        alert = await storage.alerts.active_for_checkin(tx, found.id)
        if alert is not None:
            await close_alert(storage, tx, alert, None, "worker_extended", now)
        await storage.audit.record(
            tx, now, "checkin.extend", org_id=worker.org_id, actor_id=worker.id, subject_id=found.id
        )
        updated = await storage.checkins.get(tx, found.id)
    return Result(Outcome.OK, updated, alert)


async def set_location(storage: Storage, worker: Person, location: str, now: datetime) -> Result:
    async with storage.db.tx() as tx:
        found = await _own_open(storage, tx, worker, None)
        if isinstance(found, Outcome):
            return Result(found)
        await storage.checkins.set_location(tx, found.id, location, now)
    return Result(Outcome.OK, found)


def may_handle(person: Person, alert: Alert) -> bool:
    """Supervisors of the worker's team, and the organisation's managers and admins."""
    if person.org_id != alert.org_id or person.status != "active":
        return False
    if person.role in ("manager", "admin"):
        return True
    return person.role == "supervisor" and person.team_id is not None and person.team_id == alert.team_id


async def _managers_own(storage: Storage, tx: Tx, person: Person, alert: Alert) -> bool:
    """An alert edited without the key is still an alert (the escalation hands it to the managers): the
    managers and admins of its organisation may close it, when the worker's row, which the key vouches
    for, is of that organisation too. Supervisors never: its team cannot be trusted."""
    if person.role not in ("manager", "admin") or person.org_id != alert.org_id:
        return False
    worker = await storage.people.get(tx, alert.person_id)
    return worker is not None and worker.org_id == person.org_id


async def _handleable(storage: Storage, tx: Tx, person: Person, alert_id: str) -> Alert | Result:
    """The alert if this person may act on it and it is still open; else the answer to give."""
    alert = await storage.alerts.get_any(tx, alert_id)
    if alert is not None and not alert.intact and not await _managers_own(storage, tx, person, alert):
        alert = None  # edited without the key: not found (its team, worker or organisation may be anyone's)
    if alert is None or not may_handle(person, alert):
        return Result(Outcome.FORBIDDEN if alert else Outcome.STALE)
    if alert.status == "resolved":
        return Result(Outcome.STALE, alert=alert)
    return alert


async def acknowledge(storage: Storage, person: Person, alert_id: str, now: datetime) -> Result:
    """ "I'm handling it": stops the repeats and tells the others who were alerted."""
    async with storage.db.tx() as tx:
        alert = await _handleable(storage, tx, person, alert_id)
        if not isinstance(alert, Alert):
            return alert
        if alert.status == "acknowledged":
            return Result(Outcome.ALREADY_DONE, alert=alert)
        await storage.alerts.acknowledge(tx, alert.id, person.id, now)
        params = await alert_params(storage, tx, alert) | {"by": person.display}
        for pid in await storage.alerts.recipients(tx, alert.id):
            if pid != person.id:
                await storage.outbox.enqueue(
                    tx,
                    key=f"al:{alert.id}:acked:{pid}",
                    recipient_id=pid,
                    kind="alert_acked",
                    params=params,
                    now=now,
                    alert_id=alert.id,
                )
        await storage.audit.record(
            tx, now, "alert.acknowledge", org_id=alert.org_id, actor_id=person.id, subject_id=alert.id
        )
        updated = await storage.alerts.get_any(tx, alert.id)
    return Result(Outcome.OK, alert=updated)


async def resolve_safe(storage: Storage, person: Person, alert_id: str, now: datetime) -> Result:
    """ "Reached them, they are safe": resolves the alert and closes the check-in."""
    async with storage.db.tx() as tx:
        alert = await _handleable(storage, tx, person, alert_id)
        if not isinstance(alert, Alert):
            return alert
        if alert.status == "open":
            await storage.alerts.acknowledge(tx, alert.id, person.id, now)
        await close_alert(storage, tx, alert, person, "reached_safe", now)
        if alert.checkin_id:
            await storage.checkins.close(tx, alert.checkin_id, "resolved_by_supervisor", now)
            missed = await storage.alerts.active_for_checkin(tx, alert.checkin_id)
            if missed is not None:  # its check-in is closed: no more "missed check-out" repeats about it
                await close_alert(storage, tx, missed, person, "reached_safe", now, tell_worker=False)
        await storage.audit.record(
            tx, now, "alert.resolve", org_id=alert.org_id, actor_id=person.id, subject_id=alert.id
        )
        updated = await storage.alerts.get_any(tx, alert.id)
    return Result(Outcome.OK, alert=updated)
