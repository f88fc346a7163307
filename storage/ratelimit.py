"""Fixed-window counters keyed by a digest, so that strangers leave nothing but a number."""

from __future__ import annotations

from datetime import datetime, timedelta

from storage.db import Tx
from storage.timefmt import from_db, to_db


class RateLimitRepo:
    async def is_blocked(self, tx: Tx, key: str, bucket: str, now: datetime) -> bool:
        row = await tx.one("SELECT blocked_until FROM rate_limits WHERE key_hmac = ? AND bucket = ?", (key, bucket))
        return bool(row and row["blocked_until"] and from_db(row["blocked_until"]) > now)

    async def hit(
        self, tx: Tx, key: str, bucket: str, now: datetime, *, limit: int, window: timedelta, block_for: timedelta
    ) -> bool:
        """Count one event; return True when this event reaches the limit and blocks the key."""
        row = await tx.one(
            "SELECT window_start, hits FROM rate_limits WHERE key_hmac = ? AND bucket = ?", (key, bucket)
        )
        if row is None or from_db(row["window_start"]) + window <= now:
            hits, start = 1, now
        else:
            hits, start = row["hits"] + 1, from_db(row["window_start"])
        blocked = to_db(now + block_for) if hits >= limit else None
        await tx.execute(
            """INSERT INTO rate_limits (key_hmac, bucket, window_start, hits, blocked_until) VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (key_hmac, bucket) DO UPDATE SET window_start = excluded.window_start,
                   hits = excluded.hits, blocked_until = excluded.blocked_until""",
            (key, bucket, to_db(start), hits, blocked),
        )
        return blocked is not None

    async def purge(self, tx: Tx, before: datetime) -> int:
        return await tx.execute(
            "DELETE FROM rate_limits WHERE window_start < ? AND (blocked_until IS NULL OR blocked_until < ?)",
            (to_db(before), to_db(before)),
        )
