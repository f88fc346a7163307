"""Check-ins: where a worker is, with whom, until when, and how far their escalation has gone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.codes import Codes
from storage.db import Row, Tx
from storage.ids import new_id
from storage.integrity import Authenticator
from storage.sealing import Sealer
from storage.timefmt import from_db, to_db

# Escalation stages of an open check-in, in order.
STAGE_OPEN, STAGE_REMINDED, STAGE_DUE, STAGE_ALERTED = 0, 1, 2, 3
# Coded (storage/codes.py): an outcome 'duress' must not be readable without the key.
OUTCOME, PIN_OUTCOME = "checkins.outcome", "checkins.pin_outcome"


@dataclass(frozen=True)
class Checkin:
    id: str
    org_id: str
    person_id: str
    team_id: str | None
    place: str
    place_custom: bool
    partner_id: str | None
    alone_at_pairs: bool
    started_at: datetime
    deadline_at: datetime
    stage: int
    next_step_at: datetime | None
    location: str | None
    location_at: datetime | None
    status: str
    outcome: str | None
    pin_asked_at: datetime | None = None  # "Type your PIN." asked at check-out, for this choice:
    pin_outcome: str | None = None
    pin_wrong: int = 0  # wrong PINs typed since
    intact: bool = True  # the routing ids are as the key wrote them (storage/integrity.py)


class CheckinRepo:
    """Organisation, worker, team and partner of a check-in carry a keyed MAC (storage/integrity.py). A
    row edited without the key is left out of every list and of the worker's own look-up; the escalation
    still sees it (`due`, `get`, with `intact` False), so that a missed check-out is never lost."""

    def __init__(self, sealer: Sealer, codes: Codes, auth: Authenticator | None = None) -> None:
        self._s = sealer
        self._c = codes
        self._auth = auth or Authenticator(sealer)

    def _checkin(self, r: Row) -> Checkin:
        return Checkin(
            id=r["id"],
            org_id=r["org_id"],
            person_id=r["person_id"],
            team_id=r["team_id"],
            place=self._s.open(r["place_sealed"], "checkins", "place", r["id"]),
            place_custom=bool(r["place_custom"]),
            partner_id=r["partner_id"],
            alone_at_pairs=bool(r["alone_at_pairs"]),
            started_at=from_db(r["started_at"]),
            deadline_at=from_db(r["deadline_at"]),
            stage=r["stage"],
            next_step_at=from_db(r["next_step_at"]) if r["next_step_at"] else None,
            location=self._s.open_opt(r["location_sealed"], "checkins", "location", r["id"]),
            location_at=from_db(r["location_at"]) if r["location_at"] else None,
            status=r["status"],
            outcome=self._c.value(OUTCOME, r["outcome"]),
            pin_asked_at=from_db(r["pin_asked_at"]) if r["pin_asked_at"] else None,
            pin_outcome=self._c.value(PIN_OUTCOME, r["pin_outcome"]),
            pin_wrong=r["pin_wrong"],
            intact=self._auth.row_intact("checkins", r),
        )

    def _intact(self, rows: list[Row]) -> list[Checkin]:
        return [c for c in (self._checkin(r) for r in rows) if c.intact]

    async def create(
        self,
        tx: Tx,
        *,
        org_id: str,
        person_id: str,
        team_id: str | None,
        place: str,
        place_custom: bool,
        partner_id: str | None,
        alone_at_pairs: bool,
        started_at: datetime,
        deadline_at: datetime,
        stage: int,
        next_step_at: datetime | None,
        location: str | None,
    ) -> str:
        checkin_id = new_id()
        ids = {"id": checkin_id, "org_id": org_id, "person_id": person_id, "team_id": team_id, "partner_id": partner_id}
        await tx.execute(
            """INSERT INTO checkins (id, org_id, person_id, team_id, place_sealed, place_custom, partner_id,
                   alone_at_pairs, started_at, deadline_at, stage, next_step_at, location_sealed, location_at,
                   access_mac)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                checkin_id,
                org_id,
                person_id,
                team_id,
                self._s.seal(place, "checkins", "place", checkin_id),
                int(place_custom),
                partner_id,
                int(alone_at_pairs),
                to_db(started_at),
                to_db(deadline_at),
                stage,
                to_db(next_step_at) if next_step_at else None,
                self._s.seal_opt(location, "checkins", "location", checkin_id),
                to_db(started_at) if location else None,
                self._auth.row_mac("checkins", ids),
            ),
        )
        return checkin_id

    async def get(self, tx: Tx, checkin_id: str) -> Checkin | None:
        """By id, edited or not (see `intact`): callers reach it through an id the key vouches for."""
        row = await tx.one("SELECT * FROM checkins WHERE id = ?", (checkin_id,))
        return None if row is None else self._checkin(row)

    async def open_for(self, tx: Tx, person_id: str) -> Checkin | None:
        """The worker's open check-in; one edited without the key is nobody's (it may name this worker
        only because someone wrote their id into it)."""
        row = await tx.one("SELECT * FROM checkins WHERE person_id = ? AND status = 'open'", (person_id,))
        checkin = None if row is None else self._checkin(row)
        return checkin if checkin is not None and checkin.intact else None

    async def occupied(self, tx: Tx, person_id: str) -> bool:
        """Whether any open check-in names this person, edited or not (only one may)."""
        return await tx.one("SELECT 1 FROM checkins WHERE person_id = ? AND status = 'open'", (person_id,)) is not None

    async def open_in_team(self, tx: Tx, team_id: str) -> list[Checkin]:
        rows = await tx.all(
            "SELECT * FROM checkins WHERE team_id = ? AND status = 'open' ORDER BY deadline_at", (team_id,)
        )
        return self._intact(rows)

    async def places_of_team(self, tx: Tx, team_id: str, since: datetime) -> set[str]:
        """The places a team's (intact) check-ins named since then: whose security plans its supervisors see."""
        rows = await tx.all("SELECT * FROM checkins WHERE team_id = ? AND started_at >= ?", (team_id, to_db(since)))
        return {c.place for c in self._intact(rows)}

    async def open_in_org(self, tx: Tx, org_id: str) -> list[Checkin]:
        rows = await tx.all(
            "SELECT * FROM checkins WHERE org_id = ? AND status = 'open' ORDER BY deadline_at", (org_id,)
        )
        return self._intact(rows)

    async def due(self, tx: Tx, now: datetime, limit: int = 1000) -> list[Checkin]:
        rows = await tx.all(
            "SELECT * FROM checkins WHERE status = 'open' AND next_step_at <= ? ORDER BY next_step_at LIMIT ?",
            (to_db(now), limit),
        )
        return [self._checkin(r) for r in rows]

    async def next_due_at(self, tx: Tx) -> datetime | None:
        row = await tx.one("SELECT min(next_step_at) FROM checkins WHERE status = 'open'")
        return from_db(row[0]) if row and row[0] else None

    async def recent_places(self, tx: Tx, person_id: str, limit: int = 20) -> list[str]:
        rows = await tx.all(
            "SELECT id, org_id, person_id, team_id, partner_id, access_mac, place_sealed FROM checkins"
            " WHERE person_id = ? AND place_custom = 0 ORDER BY started_at DESC LIMIT ?",
            (person_id, limit),
        )
        rows = [r for r in rows if self._auth.row_intact("checkins", r)]  # not another worker's places
        return [self._s.open(r["place_sealed"], "checkins", "place", r["id"]) for r in rows]

    async def set_stage(self, tx: Tx, checkin_id: str, stage: int, next_step_at: datetime | None) -> None:
        await tx.execute(
            "UPDATE checkins SET stage = ?, next_step_at = ? WHERE id = ?",
            (stage, to_db(next_step_at) if next_step_at else None, checkin_id),
        )

    async def set_deadline(
        self, tx: Tx, checkin_id: str, deadline_at: datetime, stage: int, next_step_at: datetime | None
    ) -> None:
        await tx.execute(
            "UPDATE checkins SET deadline_at = ?, stage = ?, next_step_at = ? WHERE id = ? AND status = 'open'",
            (to_db(deadline_at), stage, to_db(next_step_at) if next_step_at else None, checkin_id),
        )

    async def set_location(self, tx: Tx, checkin_id: str, location: str, at: datetime) -> None:
        await tx.execute(
            "UPDATE checkins SET location_sealed = ?, location_at = ? WHERE id = ?",
            (self._s.seal(location, "checkins", "location", checkin_id), to_db(at), checkin_id),
        )

    async def ask_pin(self, tx: Tx, checkin_id: str, outcome: str, at: datetime, keep_since: datetime) -> bool:
        """Remember that the worker chose `outcome` and was asked for their PIN. Wrong tries start at 0,
        unless the question was already asked since `keep_since`: asking again must not wipe them."""
        changed = await tx.execute(
            "UPDATE checkins SET pin_asked_at = ?, pin_outcome = ?,"
            " pin_wrong = CASE WHEN pin_asked_at >= ? THEN pin_wrong ELSE 0 END WHERE id = ? AND status = 'open'",
            (to_db(at), await self._c.put(tx, PIN_OUTCOME, outcome), to_db(keep_since), checkin_id),
        )
        return changed == 1

    async def wrong_pin(self, tx: Tx, checkin_id: str, update_id: int) -> int:
        """Count one more wrong PIN, once per Telegram update; how many there have been since the question."""
        await tx.execute(
            "UPDATE checkins SET pin_wrong = pin_wrong + 1, pin_wrong_update = ?"
            " WHERE id = ? AND (pin_wrong_update IS NULL OR pin_wrong_update != ?)",
            (update_id, checkin_id, update_id),
        )
        row = await tx.one("SELECT pin_wrong FROM checkins WHERE id = ?", (checkin_id,))
        return int(row["pin_wrong"]) if row else 0

    async def close(self, tx: Tx, checkin_id: str, outcome: str, at: datetime) -> bool:
        changed = await tx.execute(
            "UPDATE checkins SET status = 'closed', closed_at = ?, outcome = ?, next_step_at = NULL"
            " WHERE id = ? AND status = 'open'",
            (to_db(at), await self._c.put(tx, OUTCOME, outcome), checkin_id),
        )
        return changed == 1
