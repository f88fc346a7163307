"""Single-use invite codes, stored only as a hash."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.db import Tx
from storage.ids import invite_code, new_id
from storage.timefmt import from_db, to_db


def code_hash(code: str) -> str:
    # The code carries 144 random bits, so a plain hash cannot be reversed by guessing.
    return hashlib.sha256(code.strip().encode()).hexdigest()


@dataclass(frozen=True)
class Invite:
    id: str
    org_id: str
    team_id: str | None
    role: str
    expires_at: datetime
    used: bool


class InviteRepo:
    async def create(
        self, tx: Tx, *, org_id: str, team_id: str | None, role: str, ttl: timedelta, now: datetime
    ) -> tuple[str, Invite]:
        code = invite_code()
        invite = Invite(new_id(), org_id, team_id, role, now + ttl, False)
        await tx.execute(
            """INSERT INTO invites (id, org_id, team_id, role, code_hash, created_at, expires_at)
               VALUES (?, ?, ?, ?, ?, ?, ?)""",
            (invite.id, org_id, team_id, role, code_hash(code), to_db(now), to_db(invite.expires_at)),
        )
        return code, invite

    async def find(self, tx: Tx, code: str) -> Invite | None:
        row = await tx.one("SELECT * FROM invites WHERE code_hash = ?", (code_hash(code),))
        if row is None:
            return None
        return Invite(
            row["id"],
            row["org_id"],
            row["team_id"],
            row["role"],
            from_db(row["expires_at"]),
            row["used_at"] is not None,
        )

    async def mark_used(self, tx: Tx, invite_id: str, person_id: str, now: datetime) -> bool:
        """Consume the invite; False if someone else consumed it first."""
        changed = await tx.execute(
            "UPDATE invites SET used_at = ?, used_by = ? WHERE id = ? AND used_at IS NULL",
            (to_db(now), person_id, invite_id),
        )
        return changed == 1
