"""The audit log: who did what to which record, when. Never content."""

from __future__ import annotations

from datetime import datetime

from storage.db import Tx
from storage.timefmt import to_db


class AuditRepo:
    async def record(
        self, tx: Tx, now: datetime, action: str, *, org_id: str | None, actor_id: str | None, subject_id: str | None
    ) -> None:
        await tx.execute(
            "INSERT INTO audit_log (at, org_id, actor_id, action, subject_id) VALUES (?, ?, ?, ?, ?)",
            (to_db(now), org_id, actor_id, action, subject_id),
        )

    async def actions(self, tx: Tx, org_id: str | None = None) -> list[tuple[str, str | None, str | None]]:
        rows = await tx.all(
            "SELECT action, actor_id, subject_id FROM audit_log WHERE (? IS NULL OR org_id = ?) ORDER BY id",
            (org_id, org_id),
        )
        return [(r["action"], r["actor_id"], r["subject_id"]) for r in rows]
