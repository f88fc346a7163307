"""Coded columns: values that would tell a reader without the key what happened are stored as keyed tokens.

An alert's kind ('duress'), a check-in's outcome, an incident's category ('sexual', 'arrest'), who was
affected, who did it ('police'), how serious, what support was needed, whether the police were told
('afraid'), its follow-up status, and every audit action ('alert.raise:duress').

A token is 16 base32 characters of HMAC-SHA256(a key derived from the master key, column + value).
Why tokens rather than sealing each value: a token is deterministic per key, so SQL still filters,
indexes and GROUP BYs the column as before and the summary maps tokens back with a dict look-up, not
100,000 decryptions. The price: equal values have equal tokens, so a copy of the database without the
key shows how often each value occurs and which rows share one (as a count of rows per unnamed bucket),
never what any value is. Someone who knows how common each value tends to be (threats more than
arrests) may guess the largest buckets of a big database; sealing each value with a random nonce would
hide that too, but then every summary opens every row. Tokens differ between columns (the column is
in the HMAC) and between keys (rotate-key re-codes them). Severity (1-4) is a token too, for the same
reasons: counted by the same dict look-up.

The way back, token -> value, is the `codes` table: each value sealed (AES-GCM, bound to its token),
loaded once per process. A value new to the process is written there in the same transaction as the
row that uses it; if that transaction rolls back, the process forgets it wrote it (Database.on_rollback).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass

from storage.db import Database, Tx
from storage.sealing import Sealer, SealError

log = logging.getLogger("outreach.storage")

BATCH = 500


@dataclass(frozen=True)
class Coded:
    table: str
    key: str  # the row's key column
    columns: tuple[str, ...]
    select: str  # key and columns of every row, written out: no SQL is built from names
    update: str  # the columns' tokens, then the key


# Every coded column. Left in clear, judged not telling: statuses of alerts, check-ins and the outbox
# (open/closed/sent), alert events and resolutions (raised, told, reached_safe...), outbox kinds
# (alert, reminder, cleanup...: the alert's own kind is in the sealed params), conversation flow names.
CODED = (
    Coded("alerts", "id", ("kind",), "SELECT id, kind FROM alerts", "UPDATE alerts SET kind = ? WHERE id = ?"),
    Coded(
        "checkins",
        "id",
        ("outcome", "pin_outcome"),
        "SELECT id, outcome, pin_outcome FROM checkins",
        "UPDATE checkins SET outcome = ?, pin_outcome = ? WHERE id = ?",
    ),
    Coded(
        "incidents",
        "id",
        ("category", "affected", "place_kind", "perpetrator", "severity", "support", "authorities", "status"),
        "SELECT id, category, affected, place_kind, perpetrator, severity, support, authorities, status FROM incidents",
        "UPDATE incidents SET category = ?, affected = ?, place_kind = ?, perpetrator = ?, severity = ?,"
        " support = ?, authorities = ?, status = ? WHERE id = ?",
    ),
    Coded(
        "incident_followups",
        "id",
        ("status",),
        "SELECT id, status FROM incident_followups",
        "UPDATE incident_followups SET status = ? WHERE id = ?",
    ),
    Coded(
        "audit_log",
        "id",
        ("action",),
        "SELECT id, action FROM audit_log",
        "UPDATE audit_log SET action = ? WHERE id = ?",
    ),
)


class Codes:
    """Tokens for coded values under one key, and the values of stored tokens."""

    def __init__(self, sealer: Sealer, db: Database) -> None:
        self._s = sealer
        self._db = db
        # The sealer's own copy (a bytearray it zeroes when it forgets the key: the chat's shred).
        self._keys = sealer.derived_by_id(b"codes")
        self._key_id = sealer.key_id
        self._tokens: dict[tuple[str, str], str] = {}  # (column, value) -> token under this key
        self._values: dict[str, tuple[str, str]] = {}  # token -> (column, value), this key or an older one
        self._stored: set[str] = set()  # tokens whose code row is in the database
        self._fresh: set[str] = set()  # ... of them, written by this process, maybe not yet committed
        self._old: set[str] = set()  # tokens of another key (a rotation under way)
        db.on_rollback.append(self._forget_fresh)

    def forget(self) -> None:
        """Drop what this process learnt of the tokens' meanings (with the sealer's forget: a shred)."""
        self._tokens.clear()
        self._values.clear()

    def _forget_fresh(self) -> None:
        self._stored -= self._fresh
        self._fresh.clear()

    def token(self, column: str, value: str | int) -> str:
        """The token of `value` in `column` ("incidents.category"): for filters, or to compare."""
        plain = str(value)
        found = self._tokens.get((column, plain))
        if found is None:
            key = self._keys.get(self._key_id)
            if key is None:
                raise SealError("the key was destroyed")
            digest = hmac.new(key, f"{column}\x1f{plain}".encode(), hashlib.sha256).digest()
            found = base64.b32encode(digest).decode()[:16]
            if found[0].isdigit():  # never read as a number by SQLite (incidents.severity is an INTEGER column)
                found = "Z" + found[1:]
            self._tokens[(column, plain)] = found
            self._values[found] = (column, plain)
        return found

    async def put(self, tx: Tx, column: str, value: str | int | None) -> str | None:
        """The token to store for `value` in a write transaction, its code row written if new."""
        if value is None:
            return None
        found = self.token(column, value)
        if found not in self._stored:
            sealed = self._s.seal(f"{column}\x1f{value}", "codes", "value", found)
            await tx.execute(
                "INSERT INTO codes (token, value_sealed) VALUES (?, ?) ON CONFLICT (token) DO NOTHING", (found, sealed)
            )
            self._stored.add(found)
            self._fresh.add(found)
        return found

    def value(self, column: str, token: str | None) -> str | None:
        """The value a stored token stands for; a token unknown to this process is read from `codes`."""
        if token is None:
            return None
        found = self._values.get(token)
        if found is None:
            row = self._db.read_now("SELECT value_sealed FROM codes WHERE token = ?", (token,))
            if row is not None:
                self._learn(token, row[0])
            found = self._values.get(token)
        if found is None or found[0] != column:
            log.warning("A coded value in %s has no code: shown as stored", column)
            return str(token)
        return found[1]

    def decoder(self, column: str) -> Callable[[str | None], str | None]:
        """value() for many rows of one column: each token is looked up once, then from a local dict."""
        seen: dict[str | None, str | None] = {None: None}

        def decode(token: str | None) -> str | None:
            found = seen.get(token, seen)  # seen itself: the marker of "not yet"
            if found is seen:
                found = seen[token] = self.value(column, token)
            return found  # type: ignore[return-value]

        return decode

    def number(self, column: str, token: str | None) -> int | None:
        plain = self.value(column, token)
        return None if plain is None else int(plain)

    def _learn(self, token: str, sealed: bytes) -> None:
        try:
            column, _, plain = self._s.open(sealed, "codes", "value", token).partition("\x1f")
        except SealError:
            return  # sealed under a key this process does not hold
        self._values[token] = (column, plain)
        if self.token(column, plain) == token:
            self._stored.add(token)
        else:
            self._old.add(token)

    async def load(self) -> None:
        """Read every code row once (a few hundred at most: the values are a short vocabulary)."""
        async with self._db.scan() as tx:
            rows = await tx.all("SELECT token, value_sealed FROM codes")
        for row in rows:
            self._learn(row["token"], row["value_sealed"])

    def recoded(self, column: str, stored: str | int | None) -> tuple[str | None, str | None]:
        """(value, token under this key) for what a coded column holds: a token of this key, of an older
        one (a rotation), or a clear value written before the column was coded."""
        if stored is None:
            return None, None
        known = self._values.get(stored) if isinstance(stored, str) else None
        plain = known[1] if known is not None and known[0] == column else str(stored)
        return plain, self.token(column, plain)

    async def recode(self, *, stop_after: int | None = None) -> tuple[int, bool]:
        """Give every coded value its token under this key; (rows changed, finished). Safe to interrupt:
        a second run only does the rest. When finished, the codes of older keys are deleted."""
        moved = 0
        for spec in CODED:
            while True:
                todo = await self._to_recode(spec)
                if not todo:
                    break
                async with self._db.tx() as tx:
                    for row_key, values in todo[:BATCH]:
                        tokens = [await self.put(tx, f"{spec.table}.{c}", values[c]) for c in spec.columns]
                        await _update(tx, spec, row_key, tokens)
                        moved += 1
                        if stop_after is not None and moved >= stop_after:
                            return moved, False
        if self._old:
            async with self._db.tx() as tx:
                await tx.executemany("DELETE FROM codes WHERE token = ?", [(t,) for t in self._old])
            for token in self._old:
                self._values.pop(token, None)
            self._old.clear()
        return moved, True

    async def _to_recode(self, spec: Coded) -> list[tuple[object, dict[str, str | None]]]:
        async with self._db.scan() as tx:
            rows = await tx.all(spec.select)
        todo = []
        for row in rows:
            pairs = {c: self.recoded(f"{spec.table}.{c}", row[c]) for c in spec.columns}
            if any(token != row[c] for c, (_, token) in pairs.items()):
                todo.append((row[spec.key], {c: plain for c, (plain, _) in pairs.items()}))
        return todo


async def _update(tx: Tx, spec: Coded, row_key: object, tokens: list[str | None]) -> None:
    await tx.execute(spec.update, (*tokens, row_key))
