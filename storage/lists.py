"""The organisation's sensitive lists (places, code words, support contacts), sealed in one value.

One sealed value per organisation rather than a row per entry: a copy of the database then shows
neither how many places nor how many code words or contacts there are (the value is padded to whole
blocks), a change is one atomic write that is validated as a whole (duplicates across entries), and
the running bot notices a change made by another process from a single number, the revision.
"""

from __future__ import annotations

from datetime import datetime

from storage.db import Tx
from storage.sealing import Sealer
from storage.timefmt import to_db

PAD = 4096  # the sealed value's length says only "under 4 KiB", "under 8 KiB"...


class ListsRepo:
    def __init__(self, sealer: Sealer) -> None:
        self._s = sealer

    async def get(self, tx: Tx, org_id: str) -> tuple[str | None, int]:
        """The stored document (JSON text) and its revision; (None, 0) when none was ever stored."""
        row = await tx.one("SELECT lists_sealed, revision FROM org_lists WHERE org_id = ?", (org_id,))
        if row is None:
            return None, 0
        return self._s.open(row["lists_sealed"], "org_lists", "lists", org_id).rstrip(" "), row["revision"]

    async def revision(self, tx: Tx, org_id: str) -> int:
        """The revision alone: what the running bot compares every second."""
        row = await tx.one("SELECT revision FROM org_lists WHERE org_id = ?", (org_id,))
        return 0 if row is None else int(row["revision"])

    async def put(self, tx: Tx, org_id: str, text: str, now: datetime) -> int:
        """Store the document in place of the one before; the new revision."""
        padded = text + " " * (-len(text.encode("utf-8")) % PAD)
        sealed = self._s.seal(padded, "org_lists", "lists", org_id)
        await tx.execute(
            "INSERT INTO org_lists (org_id, lists_sealed, revision, updated_at) VALUES (?, ?, 1, ?)"
            " ON CONFLICT (org_id) DO UPDATE SET lists_sealed = excluded.lists_sealed,"
            " revision = org_lists.revision + 1, updated_at = excluded.updated_at",
            (org_id, sealed, to_db(now)),
        )
        return await self.revision(tx, org_id)
