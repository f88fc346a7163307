"""Each person's conversation with the bot: the flow and step they are at, the answers so far, and
the ids of the messages it showed and received (deleted at clean-up). Sealed, one row a person.

Kept in the database rather than in memory so that a restart at any step continues at that step.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from storage.db import Tx
from storage.sealing import Sealer
from storage.timefmt import from_db, to_db


class ConversationRepo:
    def __init__(self, sealer: Sealer) -> None:
        self._s = sealer

    async def get(self, tx: Tx, person_id: str) -> tuple[dict[str, Any], datetime] | None:
        """The person's conversation state and when it last changed, or None."""
        row = await tx.one("SELECT state_sealed, updated_at FROM conversations WHERE person_id = ?", (person_id,))
        return None if row is None else self.opened(person_id, row["state_sealed"], row["updated_at"])

    def opened(self, person_id: str, sealed: bytes, updated_at: str) -> tuple[dict[str, Any], datetime]:
        """A stored conversation's state, unsealed, and when it last changed."""
        state = json.loads(self._s.open(sealed, "conversations", "state", person_id))
        return dict(state), from_db(updated_at)

    async def put(self, tx: Tx, person_id: str, state: dict[str, Any], flow: str | None, now: datetime) -> None:
        """Store the state; `flow` is kept in clear only as a name for the sweep of old ones."""
        sealed = self._s.seal(json.dumps(state, separators=(",", ":")), "conversations", "state", person_id)
        await tx.execute(
            """INSERT INTO conversations (person_id, state_sealed, flow, updated_at) VALUES (?, ?, ?, ?)
               ON CONFLICT (person_id) DO UPDATE SET state_sealed = excluded.state_sealed,
                   flow = excluded.flow, updated_at = excluded.updated_at""",
            (person_id, sealed, flow, to_db(now)),
        )

    async def drop(self, tx: Tx, person_id: str) -> None:
        await tx.execute("DELETE FROM conversations WHERE person_id = ?", (person_id,))

    async def idle(self, tx: Tx, flow: str, before: datetime) -> list[tuple[str, datetime]]:
        """People whose conversation in `flow` has not moved since `before`."""
        rows = await tx.all(
            "SELECT person_id, updated_at FROM conversations WHERE flow = ? AND updated_at <= ?", (flow, to_db(before))
        )
        return [(r["person_id"], from_db(r["updated_at"])) for r in rows]

    async def under_way(self, tx: Tx) -> list[str]:
        """People with a conversation under way (in a flow), for the clean-up at a shred."""
        rows = await tx.all("SELECT person_id FROM conversations WHERE flow IS NOT NULL ORDER BY person_id", ())
        return [r["person_id"] for r in rows]
