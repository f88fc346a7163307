"""Security plans: one sealed JSON value per plan (bot/services/plans.py gives it its shape).

One value rather than a row per action: a plan is read, shown, exported and replaced whole, and a copy
of the database then shows neither its words nor how many threats or actions it holds (the value is
padded to whole blocks). In clear only what SQL selects on: the next date something of it is due (the
minute's reminders), active or archived (the purge), and the place's keyed digest (a critical incident
there flags the plan), the same digest incidents carry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from storage.db import Row, Tx
from storage.sealing import Sealer
from storage.timefmt import from_db, to_db

PAD = 1024
TABLE = "plans"


@dataclass(frozen=True)
class StoredPlan:
    id: str
    org_id: str
    data: str  # JSON text
    status: str
    updated_at: datetime


class PlanRepo:
    def __init__(self, sealer: Sealer) -> None:
        self._s = sealer

    def place_key(self, place: str | None) -> str | None:
        return None if not place else self._s.lookup("place", place.casefold())

    def _plan(self, row: Row) -> StoredPlan:
        text = self._s.open(row["data_sealed"], TABLE, "data", row["id"])
        return StoredPlan(row["id"], row["org_id"], text.rstrip(" "), row["status"], from_db(row["updated_at"]))

    async def put(
        self, tx: Tx, plan_id: str, org_id: str, data: str, place: str | None, next_due: date | None, now: datetime
    ) -> None:
        """Store the plan in place of the one before (or as a new one)."""
        padded = data + " " * (-len(data.encode("utf-8")) % PAD)
        sealed = self._s.seal(padded, TABLE, "data", plan_id)
        await tx.execute(
            "INSERT INTO plans (id, org_id, data_sealed, place_key, next_due, updated_at) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET data_sealed = excluded.data_sealed, place_key = excluded.place_key,"
            " next_due = excluded.next_due, updated_at = excluded.updated_at",
            (plan_id, org_id, sealed, self.place_key(place), next_due.isoformat() if next_due else None, to_db(now)),
        )

    async def get(self, tx: Tx, org_id: str, plan_id: str) -> StoredPlan | None:
        row = await tx.one("SELECT * FROM plans WHERE id = ? AND org_id = ?", (plan_id, org_id))
        return None if row is None else self._plan(row)

    async def all(self, tx: Tx, org_id: str, status: str = "active") -> list[StoredPlan]:
        rows = await tx.all("SELECT * FROM plans WHERE org_id = ? AND status = ? ORDER BY id", (org_id, status))
        return [self._plan(r) for r in rows]

    async def due_by(self, tx: Tx, day: date) -> list[StoredPlan]:
        """Active plans with something due on or before `day` (the reminders open only these)."""
        rows = await tx.all(
            "SELECT * FROM plans WHERE status = 'active' AND next_due IS NOT NULL AND next_due <= ?",
            (day.isoformat(),),
        )
        return [self._plan(r) for r in rows]

    async def at_place(self, tx: Tx, org_id: str, place: str) -> list[StoredPlan]:
        rows = await tx.all(
            "SELECT * FROM plans WHERE org_id = ? AND status = 'active' AND place_key = ?",
            (org_id, self.place_key(place)),
        )
        return [self._plan(r) for r in rows]

    async def archive(self, tx: Tx, org_id: str, plan_id: str, now: datetime) -> bool:
        changed = await tx.execute(
            "UPDATE plans SET status = 'archived', archived_at = ?, next_due = NULL WHERE id = ? AND org_id = ?"
            " AND status = 'active'",
            (to_db(now), plan_id, org_id),
        )
        return changed == 1
