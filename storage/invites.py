"""Single-use invite codes, stored only as a hash."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.db import Row, Tx
from storage.ids import invite_code, new_id
from storage.integrity import INVITE_CANCELLED, INVITE_COLUMNS, Authenticator
from storage.sealing import Sealer
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
    cancelled: bool = False
    created_at: datetime | None = None


UNUSED = "SELECT * FROM invites WHERE id = ? AND used_at IS NULL AND cancelled_at IS NULL"


class InviteRepo:
    """Role, team, organisation, expiry and use of an invite carry a keyed MAC (storage/integrity.py): an
    invite written or edited without the key (say, to mint a manager) is not found."""

    def __init__(self, sealer: Sealer) -> None:
        self._auth = Authenticator(sealer)

    async def create(
        self, tx: Tx, *, org_id: str, team_id: str | None, role: str, ttl: timedelta, now: datetime
    ) -> tuple[str, Invite]:
        code = invite_code()
        invite = Invite(new_id(), org_id, team_id, role, now + ttl, False)
        row = {
            "id": invite.id,
            "org_id": org_id,
            "team_id": team_id,
            "role": role,
            "code_hash": code_hash(code),
            "expires_at": to_db(invite.expires_at),
            "used_at": None,
            INVITE_CANCELLED: None,
        }
        await tx.execute(
            """INSERT INTO invites (id, org_id, team_id, role, code_hash, created_at, expires_at, access_mac)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                invite.id,
                org_id,
                team_id,
                role,
                row["code_hash"],
                to_db(now),
                row["expires_at"],
                self._auth.invite_mac(row),
            ),
        )
        return code, invite

    async def find(self, tx: Tx, code: str) -> Invite | None:
        row = await tx.one("SELECT * FROM invites WHERE code_hash = ?", (code_hash(code),))
        if row is None:
            return None
        return self._invite(row)

    def _invite(self, row: Row) -> Invite | None:
        """The row's Invite, or None when it was edited without the key (warned about once)."""
        if not self._auth.invite_intact(row):
            self._auth.warn_once("invites", row["id"])
            return None
        return Invite(
            row["id"],
            row["org_id"],
            row["team_id"],
            row["role"],
            from_db(row["expires_at"]),
            row["used_at"] is not None,
            row[INVITE_CANCELLED] is not None,
            from_db(row["created_at"]),
        )

    async def open_in(self, tx: Tx, org_id: str, now: datetime) -> list[Invite]:
        """The organisation's invites still usable: not used, not expired, not cancelled; oldest first."""
        rows = await tx.all(
            "SELECT * FROM invites WHERE org_id = ? AND used_at IS NULL AND cancelled_at IS NULL AND expires_at > ?"
            " ORDER BY created_at, rowid",  # rowid: the order they were made in, within one second
            (org_id, to_db(now)),
        )
        return [i for i in map(self._invite, rows) if i is not None]

    async def cancel(self, tx: Tx, invite_id: str, now: datetime) -> bool:
        """Cancel an unused invite, with a new MAC over the cancel (so clearing it without the key makes the
        invite unknown, never usable again); False if it is used, cancelled or edited without the key."""
        row = await tx.one(UNUSED, (invite_id,))
        if row is None or not self._auth.invite_intact(row):
            return False
        cancelled_at = to_db(now)
        mac = self._auth.invite_mac({c: row[c] for c in INVITE_COLUMNS} | {INVITE_CANCELLED: cancelled_at})
        changed = await tx.execute(
            "UPDATE invites SET cancelled_at = ?, access_mac = ? WHERE id = ? AND used_at IS NULL",
            (cancelled_at, mac, invite_id),
        )
        return changed == 1

    async def mark_used(self, tx: Tx, invite_id: str, person_id: str, now: datetime) -> bool:
        """Consume the invite; False if someone else consumed it first."""
        row = await tx.one(UNUSED, (invite_id,))
        if row is None or not self._auth.invite_intact(row):
            return False
        used_at = to_db(now)
        changed = await tx.execute(
            "UPDATE invites SET used_at = ?, used_by = ?, access_mac = ? WHERE id = ? AND used_at IS NULL",
            (
                used_at,
                person_id,
                self._auth.invite_mac({c: row[c] for c in INVITE_COLUMNS} | {"used_at": used_at}),
                invite_id,
            ),
        )
        return changed == 1
