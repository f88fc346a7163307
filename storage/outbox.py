"""The outbox: every alert-related message is written here in the same transaction as the state
change that causes it, then sent and marked. A unique key per step keeps a step from being queued twice."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.db import Row, Tx
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
    priority: int = 2


@dataclass(frozen=True)
class Shown:
    """A message that went out (or is still to go): enough to replace what it showed."""

    id: int
    recipient_id: str
    kind: str
    params: dict[str, Any]
    status: str
    message_id: int | None


# How urgent each kind is (bot.messenger's levels: 0 an alert, 2 routine), lower sent first.
ALERT_PRIORITY, ROUTINE_PRIORITY = 0, 2
PRIORITY = {"alert": ALERT_PRIORITY}


def alert_key(alert_id: str, step: str, person_id: str) -> str:
    """The key of one message of one step of an alert; every one of them starts with alert_prefix."""
    return f"{alert_prefix(alert_id)}{step}:{person_id}"


def alert_prefix(alert_id: str) -> str:
    return f"al:{alert_id}:"


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
                   next_attempt_at, priority) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING""",
            (
                key,
                recipient_id,
                kind,
                sealed,
                alert_id,
                to_db(now),
                due_at,
                due_at,
                PRIORITY.get(kind, ROUTINE_PRIORITY),
            ),
        )
        self.enqueued += changed
        return changed == 1

    async def due(self, tx: Tx, now: datetime, limit: int = 500, *, urgent_only: bool = False) -> list[OutboxItem]:
        """What is due now, most urgent first, then in the order queued (`urgent_only`: alerts only)."""
        top = ALERT_PRIORITY if urgent_only else ROUTINE_PRIORITY + 10
        rows = await tx.all(
            "SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? AND priority <= ?"
            " ORDER BY priority, id LIMIT ?",
            (to_db(now), top, limit),
        )
        return [self._item(r) for r in rows]

    async def pending_of(self, tx: Tx, kinds: tuple[str, str]) -> list[OutboxItem]:
        """Every pending item of these two kinds, due or not (the clean-ups owed at a shred)."""
        rows = await tx.all("SELECT * FROM outbox WHERE status = 'pending' AND kind IN (?, ?) ORDER BY id", kinds)
        return [self._item(r) for r in rows]

    def _item(self, r: Row) -> OutboxItem:
        return OutboxItem(
            id=r["id"],
            dedupe_key=r["dedupe_key"],
            recipient_id=r["recipient_id"],
            kind=r["kind"],
            params=json.loads(self._s.open(r["params_sealed"], "outbox", "params", r["dedupe_key"])),
            alert_id=r["alert_id"],
            due_at=from_db(r["due_at"]),
            attempts=r["attempts"],
            priority=r["priority"],
        )

    def _shown(self, r: Row) -> Shown:
        params = json.loads(self._s.open(r["params_sealed"], "outbox", "params", r["dedupe_key"]))
        return Shown(r["id"], r["recipient_id"], r["kind"], params, r["status"], r["message_id"])

    async def of_alert(self, tx: Tx, alert_id: str, kind: str) -> list[Shown]:
        """The messages of this kind queued about an alert (sent, or still to be sent), oldest first.
        Found by the range of their keys, which the key's unique index serves (alert_id has no index)."""
        prefix = alert_prefix(alert_id)
        rows = await tx.all(
            "SELECT id, dedupe_key, recipient_id, kind, params_sealed, status, message_id FROM outbox"
            " WHERE dedupe_key >= ? AND dedupe_key < ? AND alert_id = ? AND kind = ? AND status != 'failed'"
            " ORDER BY id",
            (prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1), alert_id, kind),
        )
        return [self._shown(r) for r in rows]

    async def sent_to(self, tx: Tx, recipient_id: str, kind: str) -> list[Shown]:
        """The messages of this kind shown to one person (a full scan: for a revocation, which is rare)."""
        rows = await tx.all(
            "SELECT id, dedupe_key, recipient_id, kind, params_sealed, status, message_id FROM outbox"
            " WHERE recipient_id = ? AND kind = ? AND status = 'sent' ORDER BY id",
            (recipient_id, kind),
        )
        return [self._shown(r) for r in rows]

    async def delivery(self, tx: Tx, item_ids: list[int]) -> dict[int, tuple[str, int | None]]:
        """(status, message id) of these outbox items; an item no longer stored is left out."""
        found: dict[int, tuple[str, int | None]] = {}
        for start in range(0, len(item_ids), 500):
            chunk = item_ids[start : start + 500]
            rows = await tx.all(
                f"SELECT id, status, message_id FROM outbox WHERE id IN ({','.join('?' * len(chunk))})",  # noqa: S608 - only placeholders
                tuple(chunk),
            )
            found |= {r["id"]: (r["status"], r["message_id"]) for r in rows}
        return found

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
