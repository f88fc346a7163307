"""The audit log: who did what to which record, when. Never content."""

from __future__ import annotations

from datetime import datetime

from storage.codes import Codes
from storage.db import Tx
from storage.timefmt import to_db

ACTION = "audit_log.action"  # coded (storage/codes.py): 'alert.raise:duress' must not be readable without the key


class AuditRepo:
    def __init__(self, codes: Codes) -> None:
        self._c = codes

    async def record(
        self, tx: Tx, now: datetime, action: str, *, org_id: str | None, actor_id: str | None, subject_id: str | None
    ) -> None:
        await tx.execute(
            "INSERT INTO audit_log (at, org_id, actor_id, action, subject_id) VALUES (?, ?, ?, ?, ?)",
            (to_db(now), org_id, actor_id, await self._c.put(tx, ACTION, action), subject_id),
        )

    async def actions(self, tx: Tx, org_id: str | None = None) -> list[tuple[str, str | None, str | None]]:
        rows = await tx.all(
            "SELECT action, actor_id, subject_id FROM audit_log WHERE (? IS NULL OR org_id = ?) ORDER BY id",
            (org_id, org_id),
        )
        return [(self._c.value(ACTION, r["action"]) or "", r["actor_id"], r["subject_id"]) for r in rows]
