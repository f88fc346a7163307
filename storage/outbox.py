"""The outbox: every alert-related message is written here in the same transaction as the state
change that causes it, then sent and marked. A unique key per step keeps a step from being queued twice."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.db import Tx
from storage.sealing import Sealer
from storage.timefmt import from_db, to_db


@dataclass(frozen=True)
class OutboxItem:
    id: int
    dedupe_key: str
    recipient_id: str
    kind: str
    params: dict[str, Any]
    alert_id: str | None
    due_at: datetime
    attempts: int


class OutboxRepo:
    def __init__(self, sealer: Sealer) -> None:
        self._s = sealer
        self.enqueued = 0  # messages queued by this process: lets a handler see whether it queued any

    async def enqueue(
        self,
        tx: Tx,
        *,
        key: str,
        recipient_id: str,
        kind: str,
        params: dict[str, Any],
        now: datetime,
        alert_id: str | None = None,
        due: datetime | None = None,
    ) -> bool:
        """Queue one message (sent from `due`, at once by default); False if this step was queued before
        (nothing is sent twice)."""
        sealed = self._s.seal(json.dumps(params, sort_keys=True), "outbox", "params", key)
        due_at = to_db(due or now)
        changed = await tx.execute(
            """INSERT INTO outbox (dedupe_key, recipient_id, kind, params_sealed, alert_id, created_at, due_at,
                   next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING""",
            (key, recipient_id, kind, sealed, alert_id, to_db(now), due_at, due_at),
        )
        self.enqueued += changed
        return changed == 1

    async def due(self, tx: Tx, now: datetime, limit: int = 500) -> list[OutboxItem]:
        rows = await tx.all(
            "SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY id LIMIT ?",
            (to_db(now), limit),
        )
        return [
            OutboxItem(
                id=r["id"],
                dedupe_key=r["dedupe_key"],
                recipient_id=r["recipient_id"],
                kind=r["kind"],
                params=json.loads(self._s.open(r["params_sealed"], "outbox", "params", r["dedupe_key"])),
                alert_id=r["alert_id"],
                due_at=from_db(r["due_at"]),
                attempts=r["attempts"],
            )
            for r in rows
        ]

    async def mark_sent(self, tx: Tx, item_id: int, at: datetime, message_id: int | None) -> None:
        await tx.execute(
            "UPDATE outbox SET status = 'sent', sent_at = ?, message_id = ?, attempts = attempts + 1 WHERE id = ?",
            (to_db(at), message_id, item_id),
        )

    async def mark_sent_many(self, tx: Tx, sent: list[tuple[int, datetime, int | None]]) -> None:
        await tx.executemany(
            "UPDATE outbox SET status = 'sent', sent_at = ?, message_id = ?, attempts = attempts + 1 WHERE id = ?",
            [(to_db(at), message_id, item_id) for item_id, at, message_id in sent],
        )

    async def mark_retry(self, tx: Tx, item_id: int, next_attempt_at: datetime, error: str) -> None:
        await tx.execute(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ?",
            (to_db(next_attempt_at), error, item_id),
        )

    async def mark_failed(self, tx: Tx, item_id: int, error: str) -> None:
        await tx.execute(
            "UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ? WHERE id = ?",
            (error, item_id),
        )

    async def counts(self, tx: Tx) -> dict[str, int]:
        rows = await tx.all("SELECT status, count(*) AS n FROM outbox GROUP BY status")
        return {r["status"]: r["n"] for r in rows}

    async def next_attempt_at(self, tx: Tx) -> datetime | None:
        row = await tx.one("SELECT min(next_attempt_at) FROM outbox WHERE status = 'pending'")
        return from_db(row[0]) if row and row[0] else None
