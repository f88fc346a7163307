"""Advancing check-ins and alerts whose time has come. Each step's state change and its outgoing
messages are committed together; the outbox then sends them."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from bot.services.ladder import next_step_at, stage_at
from config.org import Escalation
from storage import Storage, Tx
from storage.alerts import Alert
from storage.checkins import STAGE_ALERTED, STAGE_DUE, STAGE_REMINDED, Checkin
from storage.outbox import Shown, alert_key
from storage.people import Person
from storage.timefmt import to_db

log = logging.getLogger("outreach.escalation")
BATCH = 500
EDIT = "edit"  # an outbox item that replaces the text of a message sent before (see bot.jobs.outbox)
LOCATION_FIELDS = ("location", "location_at")


async def alert_recipients(storage: Storage, tx: Tx, org_id: str, team_id: str | None) -> tuple[list[Person], bool]:
    """The team's supervisors; if there are none, the managers (then admins) at once. Second value: managers told."""
    if team_id:
        supervisors = await storage.people.in_team(tx, team_id, "supervisor")
        if supervisors:
            return supervisors, False
    for role in ("manager", "admin"):
        people = await storage.people.with_role(tx, org_id, role)
        if people:
            return people, True
    return [], False


async def checkin_params(storage: Storage, tx: Tx, checkin: Checkin) -> dict[str, Any]:
    """What a message about this check-in may say: codes, never names."""
    worker = await storage.people.get(tx, checkin.person_id)
    partner = await storage.people.get(tx, checkin.partner_id) if checkin.partner_id else None
    return {
        "checkin_id": checkin.id,
        "worker": worker.display if worker else "?",
        "place": checkin.place,
        "partner": partner.display if partner else None,
        "started": to_db(checkin.started_at),
        "deadline": to_db(checkin.deadline_at),
        "location": checkin.location,
        "location_at": to_db(checkin.location_at) if checkin.location_at else None,
    }


async def tell(
    storage: Storage,
    tx: Tx,
    alert_id: str,
    people: list[Person],
    kind: str,
    step: str,
    params: dict[str, Any],
    now: datetime,
) -> None:
    """Queue one message per person for one step of an alert, and record who was told."""
    for person in people:
        queued = await storage.outbox.enqueue(
            tx,
            key=alert_key(alert_id, step, person.id),
            recipient_id=person.id,
            kind=kind,
            params=params,
            now=now,
            alert_id=alert_id,
        )
        if queued and kind == "alert":
            await storage.alerts.event(tx, alert_id, now, "told", recipient_id=person.id)


async def managers_of(storage: Storage, tx: Tx, org_ids: list[str]) -> tuple[str, list[Person]]:
    """The first of these organisations that has managers (then admins), and them; if none has, the first
    that exists (an edited row may name one that does not)."""
    for org_id in org_ids:
        for role in ("manager", "admin"):
            people = await storage.people.with_role(tx, org_id, role)
            if people:
                return org_id, people
    existing = [o for o in org_ids if await storage.orgs.get(tx, o) is not None]
    return (existing or org_ids)[0], []


async def edited_row_route(storage: Storage, tx: Tx, org_id: str, person_id: str) -> tuple[str, list[Person]]:
    """Where an alert about a row edited without the key goes: never to a team (its team cannot be
    trusted), always somewhere (an alert is never lost): the managers of the row's organisation, or, if
    it has none, of the organisation of the worker's row, which the key vouches for."""
    log.warning("An alert about a row changed without the key goes to the organisation's managers")
    worker = await storage.people.get(tx, person_id)
    return await managers_of(storage, tx, [org_id] + ([worker.org_id] if worker and worker.org_id != org_id else []))


async def raise_missed_checkout(
    storage: Storage, tx: Tx, checkin: Checkin, esc: Escalation, now: datetime
) -> str | None:
    """The worker did not check out: their team's supervisors are told (the managers, if none, or if the
    check-in's team was edited without the key)."""
    org_id, team_id = checkin.org_id, checkin.team_id
    if checkin.intact:
        recipients, managers_told = await alert_recipients(storage, tx, org_id, team_id)
    else:
        team_id, managers_told = None, True
        org_id, recipients = await edited_row_route(storage, tx, checkin.org_id, checkin.person_id)
        if not await storage.alerts.may_name(tx, org_id, checkin.person_id):
            # The schema needs a real worker and organisation: an edit naming none leaves only this line.
            log.warning("A check-in changed without the key names no one: no alert could be raised about it")
            return None
    alert_id = await storage.alerts.create(
        tx,
        org_id=org_id,
        person_id=checkin.person_id,
        team_id=team_id,
        checkin_id=checkin.id,
        kind="missed_checkout",
        raised_at=now,
        managers_due_at=None if managers_told else now + esc.ack_timeout,
        next_repeat_at=now + esc.repeat_every,
    )
    if managers_told:
        await storage.alerts.set_schedule(
            tx, alert_id, next_repeat_at=now + esc.repeat_every, repeats=0, managers_told_at=now
        )
    if not recipients:
        log.warning("Alert raised but nobody can receive it: enrol a supervisor or manager")
    params = await checkin_params(storage, tx, checkin) | {"alert_id": alert_id, "kind": "missed_checkout", "repeat": 0}
    await tell(storage, tx, alert_id, recipients, "alert", "first", params, now)
    return alert_id


async def advance_checkins(storage: Storage, esc: Escalation, now: datetime, *, batches: int | None = None) -> int:
    """Move every check-in whose next step is due (or `batches` batches of them); returns how many moved."""
    moved = 0
    while batches is None or batches > 0:
        if batches is not None:
            batches -= 1
        async with storage.db.tx() as tx:
            due = await storage.checkins.due(tx, now, BATCH)
            for checkin in due:
                stage = max(stage_at(checkin.deadline_at, esc, now), checkin.stage + 1)
                if not checkin.intact and stage < STAGE_ALERTED:
                    pass  # its worker cannot be trusted: no reminder goes to whoever the edit names
                elif stage == STAGE_REMINDED or stage == STAGE_DUE:
                    params = await checkin_params(storage, tx, checkin)
                    kind = "reminder" if stage == STAGE_REMINDED else "due"
                    await storage.outbox.enqueue(
                        tx,
                        key=f"ci:{checkin.id}:{kind}:{to_db(checkin.deadline_at)}",
                        recipient_id=checkin.person_id,
                        kind=kind,
                        params=params,
                        now=now,
                    )
                elif stage >= STAGE_ALERTED and await storage.alerts.active_for_checkin(tx, checkin.id) is None:
                    if checkin.stage < STAGE_DUE and checkin.intact:  # after downtime: the worker still gets it
                        await storage.outbox.enqueue(
                            tx,
                            key=f"ci:{checkin.id}:due:{to_db(checkin.deadline_at)}",
                            recipient_id=checkin.person_id,
                            kind="due",
                            params=await checkin_params(storage, tx, checkin),
                            now=now,
                        )
                    await raise_missed_checkout(storage, tx, checkin, esc, now)
                stage = min(stage, STAGE_ALERTED)
                await storage.checkins.set_stage(tx, checkin.id, stage, next_step_at(stage, checkin.deadline_at, esc))
            moved += len(due)
        if len(due) < BATCH:
            return moved
    return moved


async def advance_alerts(storage: Storage, esc: Escalation, now: datetime) -> int:
    """Hand unacknowledged alerts to managers after ack_timeout, and repeat them every repeat_every."""
    moved = 0
    while True:
        async with storage.db.tx() as tx:
            alerts = await storage.alerts.needing_repeat_or_managers(tx, now, BATCH)
            for alert in alerts:
                await _advance_alert(storage, tx, alert, esc, now)
            moved += len(alerts)
        if len(alerts) < BATCH:
            return moved


async def _advance_alert(storage: Storage, tx: Tx, alert: Alert, esc: Escalation, now: datetime) -> None:
    params = await alert_params(storage, tx, alert)
    already = await storage.alerts.recipients(tx, alert.id)
    managers_told_at = None
    if alert.managers_told_at is None and alert.managers_due_at is not None and alert.managers_due_at <= now:
        if alert.intact:
            _, managers = await managers_of(storage, tx, [alert.org_id])
        else:
            _, managers = await edited_row_route(storage, tx, alert.org_id, alert.person_id)
        await tell(storage, tx, alert.id, managers, "alert", "managers", params | {"escalated": True}, now)
        await storage.alerts.event(tx, alert.id, now, "escalated_to_managers")
        managers_told_at = now
    repeats = alert.repeats
    next_repeat = alert.next_repeat_at
    if next_repeat is not None and next_repeat <= now:
        repeats += 1
        # Of the organisation only: who was told is not authenticated (alert_events), its organisation is.
        people = [
            p
            for pid in already
            if (p := await storage.people.get(tx, pid)) and p.status == "active" and p.org_id == alert.org_id
        ]
        await tell(storage, tx, alert.id, people, "alert", f"repeat{repeats}", params | {"repeat": repeats}, now)
        await storage.alerts.event(tx, alert.id, now, f"repeat:{repeats}")
        next_repeat = now + esc.repeat_every
    await storage.alerts.set_schedule(
        tx, alert.id, next_repeat_at=next_repeat, repeats=repeats, managers_told_at=managers_told_at
    )


async def alert_params(storage: Storage, tx: Tx, alert: Alert) -> dict[str, Any]:
    checkin = await storage.checkins.get(tx, alert.checkin_id) if alert.checkin_id else None
    base: dict[str, Any] = {"alert_id": alert.id, "kind": alert.kind, "raised": alert.raised_at.isoformat()}
    if checkin is not None:
        base |= await checkin_params(storage, tx, checkin)
    else:
        worker = await storage.people.get(tx, alert.person_id)
        base["worker"] = worker.display if worker else "?"
    if alert.kind == "critical_report":  # its messages name the report (never its account)
        base["ref"] = await storage.incidents.ref_of_alert(tx, alert.id) or "?"
    return base


async def hide_locations(storage: Storage, tx: Tx, alert_id: str, now: datetime) -> int:
    """The alert is closed: queue, in the caller's transaction, an edit of every message about it that
    showed the worker's location, to the same message without the location and without buttons. A message
    still waiting to be sent is edited once it is. Returns how many edits were queued."""
    people: dict[str, Person | None] = {}
    queued = 0
    for message in await storage.outbox.of_alert(tx, alert_id, "alert"):
        if not message.params.get("location"):
            continue
        if message.recipient_id not in people:
            # get_many: a recipient whose row was edited without the key is still owed this edit
            people[message.recipient_id] = (await storage.people.get_many(tx, [message.recipient_id])).get(
                message.recipient_id
            )
        person = people[message.recipient_id]
        if person is not None:
            params = without_location(message.params, closed=True)
            queued += await queue_edit(storage, tx, person, message, params, now, alert_id)
    return queued


async def hide_locations_from(storage: Storage, tx: Tx, person: Person, now: datetime) -> int:
    """Someone is revoked: every location any alert showed them is taken out of their chat, open alerts too."""
    queued = 0
    for message in await storage.outbox.sent_to(tx, person.id, "alert"):
        if message.params.get("location"):
            alert = await storage.alerts.get(tx, message.params.get("alert_id") or "")
            params = without_location(message.params, closed=alert is None or alert.status == "resolved")
            queued += await queue_edit(storage, tx, person, message, params, now, alert.id if alert else None)
    return queued


def without_location(params: dict[str, Any], *, closed: bool) -> dict[str, Any]:
    """An alert message's parameters without the worker's location; `closed` adds a line that says why."""
    return {k: v for k, v in params.items() if k not in LOCATION_FIELDS} | {"closed": closed}


async def queue_edit(
    storage: Storage,
    tx: Tx,
    person: Person,
    message: Shown,
    params: dict[str, Any],
    now: datetime,
    alert_id: str | None = None,
) -> bool:
    """Queue the replacement of one message's text by `message.kind` rendered with `params`, once per
    message. The chat is kept with it: an edit is owed to a revoked person too (their phone may be in
    other hands)."""
    edit: dict[str, Any] = {"chat_id": person.chat_id, "source": message.id, "kind": message.kind, "params": params}
    if message.message_id is not None:
        edit["message_id"] = message.message_id
    return await storage.outbox.enqueue(
        tx, key=f"edit:{message.id}", recipient_id=person.id, kind=EDIT, params=edit, now=now, alert_id=alert_id
    )
