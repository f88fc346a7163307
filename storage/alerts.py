"""Alerts and their history: raised, who was told when, acknowledged by whom, resolved how."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.codes import Codes
from storage.db import Row, Tx
from storage.ids import new_id
from storage.integrity import Authenticator
from storage.timefmt import from_db, to_db


def _t(value: str | None) -> datetime | None:
    return from_db(value) if value else None


@dataclass(frozen=True)
class Alert:
    id: str
    org_id: str
    person_id: str
    team_id: str | None
    checkin_id: str | None
    kind: str
    raised_at: datetime
    status: str
    managers_due_at: datetime | None
    managers_told_at: datetime | None
    next_repeat_at: datetime | None
    repeats: int
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    resolution: str | None
    update_id: int | None = None  # the Telegram update that raised it (code words, /alert, duress)
    intact: bool = True  # the routing ids are as the key wrote them (storage/integrity.py)


@dataclass(frozen=True)
class AlertEvent:
    at: datetime
    event: str
    actor_id: str | None
    recipient_id: str | None


KIND = "alerts.kind"  # coded (storage/codes.py): 'duress' must not be readable without the key


class AlertRepo:
    """Organisation, worker, team and check-in of an alert carry a keyed MAC (storage/integrity.py). An
    alert edited without the key is not found for anyone who would act on it or list it (`get`, the
    lists); the escalation still carries it to the managers (`intact` False), so that it is never lost."""

    def __init__(self, codes: Codes, auth: Authenticator) -> None:
        self._c = codes
        self._auth = auth

    def _alert(self, r: Row) -> Alert:
        return Alert(
            id=r["id"],
            org_id=r["org_id"],
            person_id=r["person_id"],
            team_id=r["team_id"],
            checkin_id=r["checkin_id"],
            kind=self._c.value(KIND, r["kind"]) or "",
            raised_at=from_db(r["raised_at"]),
            status=r["status"],
            managers_due_at=_t(r["managers_due_at"]),
            managers_told_at=_t(r["managers_told_at"]),
            next_repeat_at=_t(r["next_repeat_at"]),
            repeats=r["repeats"],
            acknowledged_at=_t(r["acknowledged_at"]),
            acknowledged_by=r["acknowledged_by"],
            resolved_at=_t(r["resolved_at"]),
            resolved_by=r["resolved_by"],
            resolution=r["resolution"],
            update_id=r["update_id"],
            intact=self._auth.row_intact("alerts", r),
        )

    def _intact(self, rows: list[Row]) -> list[Alert]:
        return [a for a in (self._alert(r) for r in rows) if a.intact]

    async def create(
        self,
        tx: Tx,
        *,
        org_id: str,
        person_id: str,
        team_id: str | None,
        checkin_id: str | None,
        kind: str,
        raised_at: datetime,
        managers_due_at: datetime | None,
        next_repeat_at: datetime | None,
        update_id: int | None = None,
    ) -> str:
        alert_id = new_id()
        ids = {"id": alert_id, "org_id": org_id, "person_id": person_id, "team_id": team_id, "checkin_id": checkin_id}
        await tx.execute(
            """INSERT INTO alerts (id, org_id, person_id, team_id, checkin_id, kind, raised_at, managers_due_at,
                   next_repeat_at, update_id, access_mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                alert_id,
                org_id,
                person_id,
                team_id,
                checkin_id,
                await self._c.put(tx, KIND, kind),
                to_db(raised_at),
                to_db(managers_due_at) if managers_due_at else None,
                to_db(next_repeat_at) if next_repeat_at else None,
                update_id,
                self._auth.row_mac("alerts", ids),
            ),
        )
        await self.event(tx, alert_id, raised_at, "raised")
        return alert_id

    async def raised_by_update(self, tx: Tx, person_id: str, update_id: int, kind: str, since: datetime) -> str | None:
        """The alert this person's update already raised. Only recent ones of the same kind count: Telegram
        numbers updates afresh after a week without any (or for a new token), so an old number may come
        again for another message."""
        row = await tx.one(
            "SELECT id FROM alerts WHERE person_id = ? AND update_id = ? AND kind = ? AND raised_at >= ?",
            (person_id, update_id, self._c.token(KIND, kind), to_db(since)),
        )
        return None if row is None else str(row["id"])

    async def get(self, tx: Tx, alert_id: str) -> Alert | None:
        """The alert, or None if there is none or it was edited without the key."""
        alert = await self.get_any(tx, alert_id)
        return alert if alert is not None and alert.intact else None

    async def may_name(self, tx: Tx, org_id: str, person_id: str) -> bool:
        """Whether an alert may name this organisation and person: both exist (an edited row may say anything)."""
        row = await tx.one(
            "SELECT (SELECT 1 FROM organizations WHERE id = ?), (SELECT 1 FROM people WHERE id = ?)",
            (org_id, person_id),
        )
        return row is not None and row[0] is not None and row[1] is not None

    async def get_any(self, tx: Tx, alert_id: str) -> Alert | None:
        """The alert, edited without the key or not (see `intact`)."""
        row = await tx.one("SELECT * FROM alerts WHERE id = ?", (alert_id,))
        return None if row is None else self._alert(row)

    async def active_for_checkin(self, tx: Tx, checkin_id: str, kind: str = "missed_checkout") -> Alert | None:
        """The open alert of this kind about a check-in (a check-out never closes a red or duress alert)."""
        row = await tx.one(
            "SELECT * FROM alerts WHERE checkin_id = ? AND kind = ? AND status != 'resolved'"
            " ORDER BY raised_at DESC LIMIT 1",
            (checkin_id, self._c.token(KIND, kind)),
        )
        return None if row is None else self._alert(row)

    async def active_for_person(self, tx: Tx, person_id: str, kind: str) -> list[Alert]:
        rows = await tx.all(
            "SELECT * FROM alerts WHERE person_id = ? AND kind = ? AND status != 'resolved' ORDER BY raised_at",
            (person_id, self._c.token(KIND, kind)),
        )
        return self._intact(rows)

    async def active_in_org(self, tx: Tx, org_id: str) -> list[Alert]:
        rows = await tx.all("SELECT * FROM alerts WHERE org_id = ? AND status != 'resolved'", (org_id,))
        return self._intact(rows)

    async def raised_between(
        self, tx: Tx, org_id: str, start: datetime, end: datetime, team_id: str | None = None
    ) -> list[Alert]:
        rows = await tx.all(
            "SELECT * FROM alerts WHERE org_id = ? AND raised_at >= ? AND raised_at < ? AND (? IS NULL OR team_id = ?)",
            (org_id, to_db(start), to_db(end), team_id, team_id),
        )
        return self._intact(rows)

    async def last_raised(self, tx: Tx, org_id: str, kind: str) -> datetime | None:
        """When the organisation's latest alert of this kind was raised (a drill: when one last ran)."""
        row = await tx.one(
            "SELECT max(raised_at) FROM alerts WHERE org_id = ? AND kind = ?", (org_id, self._c.token(KIND, kind))
        )
        return from_db(row[0]) if row and row[0] else None

    async def needing_repeat_or_managers(self, tx: Tx, now: datetime, limit: int = 1000) -> list[Alert]:
        """Open (unacknowledged) alerts whose next repeat or hand-over to managers has come."""
        stamp = to_db(now)
        rows = await tx.all(
            """SELECT * FROM alerts WHERE status = 'open'
               AND (next_repeat_at <= ? OR (managers_told_at IS NULL AND managers_due_at <= ?))
               ORDER BY raised_at LIMIT ?""",
            (stamp, stamp, limit),
        )
        return [self._alert(r) for r in rows]

    async def next_due_at(self, tx: Tx) -> datetime | None:
        row = await tx.one(
            """SELECT min(t) FROM (
                   SELECT next_repeat_at AS t FROM alerts WHERE status = 'open'
                   UNION ALL SELECT managers_due_at FROM alerts WHERE status = 'open' AND managers_told_at IS NULL)"""
        )
        return from_db(row[0]) if row and row[0] else None

    async def set_schedule(
        self, tx: Tx, alert_id: str, *, next_repeat_at: datetime | None, repeats: int, managers_told_at: datetime | None
    ) -> None:
        await tx.execute(
            "UPDATE alerts SET next_repeat_at = ?, repeats = ?, managers_told_at = coalesce(managers_told_at, ?)"
            " WHERE id = ?",
            (
                to_db(next_repeat_at) if next_repeat_at else None,
                repeats,
                to_db(managers_told_at) if managers_told_at else None,
                alert_id,
            ),
        )

    async def acknowledge(self, tx: Tx, alert_id: str, by: str, at: datetime) -> bool:
        changed = await tx.execute(
            "UPDATE alerts SET status = 'acknowledged', acknowledged_at = ?, acknowledged_by = ?, next_repeat_at = NULL"
            " WHERE id = ? AND status = 'open'",
            (to_db(at), by, alert_id),
        )
        if changed:
            await self.event(tx, alert_id, at, "acknowledged", actor_id=by)
        return changed == 1

    async def resolve(self, tx: Tx, alert_id: str, by: str | None, resolution: str, at: datetime) -> bool:
        changed = await tx.execute(
            "UPDATE alerts SET status = 'resolved', resolved_at = ?, resolved_by = ?, resolution = ?,"
            " next_repeat_at = NULL WHERE id = ? AND status != 'resolved'",
            (to_db(at), by, resolution, alert_id),
        )
        if changed:
            await self.event(tx, alert_id, at, f"resolved:{resolution}", actor_id=by)
        return changed == 1

    async def event(
        self,
        tx: Tx,
        alert_id: str,
        at: datetime,
        event: str,
        *,
        actor_id: str | None = None,
        recipient_id: str | None = None,
    ) -> None:
        await tx.execute(
            "INSERT INTO alert_events (alert_id, at, event, actor_id, recipient_id) VALUES (?, ?, ?, ?, ?)",
            (alert_id, to_db(at), event, actor_id, recipient_id),
        )

    async def events_many(self, tx: Tx, events: list[tuple[str, datetime, str, str | None]]) -> None:
        """(alert id, at, event, recipient) rows in one statement."""
        await tx.executemany(
            "INSERT INTO alert_events (alert_id, at, event, recipient_id) VALUES (?, ?, ?, ?)",
            [(alert_id, to_db(at), event, recipient) for alert_id, at, event, recipient in events],
        )

    async def history(self, tx: Tx, alert_id: str) -> list[AlertEvent]:
        rows = await tx.all(
            "SELECT at, event, actor_id, recipient_id FROM alert_events WHERE alert_id = ? ORDER BY id", (alert_id,)
        )
        return [AlertEvent(from_db(r["at"]), r["event"], r["actor_id"], r["recipient_id"]) for r in rows]

    async def recipients(self, tx: Tx, alert_id: str) -> list[str]:
        """Everyone who has been told about this alert (they are told when it closes, too)."""
        rows = await tx.all(
            "SELECT DISTINCT recipient_id FROM alert_events WHERE alert_id = ? AND event = 'told'"
            " AND recipient_id IS NOT NULL",
            (alert_id,),
        )
        return [r["recipient_id"] for r in rows]
