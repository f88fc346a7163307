"""Organisations and teams."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.db import Row, Tx
from storage.ids import new_id
from storage.sealing import Sealer
from storage.timefmt import to_db


@dataclass(frozen=True)
class Organization:
    id: str
    name: str
    timezone: str
    language: str


@dataclass(frozen=True)
class Team:
    id: str
    org_id: str
    name: str


class OrgRepo:
    def __init__(self, sealer: Sealer) -> None:
        self._s = sealer

    async def first(self, tx: Tx) -> Organization | None:
        row = await tx.one("SELECT * FROM organizations ORDER BY created_at, id LIMIT 1")
        return None if row is None else self._org(row)

    async def get(self, tx: Tx, org_id: str) -> Organization | None:
        row = await tx.one("SELECT * FROM organizations WHERE id = ?", (org_id,))
        return None if row is None else self._org(row)

    def _org(self, r: Row) -> Organization:
        return Organization(
            id=r["id"],
            name=self._s.open(r["name_sealed"], "organizations", "name", r["id"]),
            timezone=r["timezone"],
            language=r["language"],
        )

    async def upsert(self, tx: Tx, name: str, timezone: str, language: str, now: datetime) -> Organization:
        """Create the organisation on first init; later inits bring name, zone and language up to date."""
        current = await self.first(tx)
        org_id = current.id if current else new_id()
        sealed = self._s.seal(name, "organizations", "name", org_id)
        if current is None:
            await tx.execute(
                "INSERT INTO organizations (id, name_sealed, timezone, language, created_at) VALUES (?, ?, ?, ?, ?)",
                (org_id, sealed, timezone, language, to_db(now)),
            )
        else:
            await tx.execute(
                "UPDATE organizations SET name_sealed = ?, timezone = ?, language = ? WHERE id = ?",
                (sealed, timezone, language, org_id),
            )
        return Organization(org_id, name, timezone, language)

    async def team_by_name(self, tx: Tx, org_id: str, name: str) -> Team | None:
        row = await tx.one(
            "SELECT id FROM teams WHERE org_id = ? AND name_hmac = ?", (org_id, self._s.lookup("team", name.casefold()))
        )
        return None if row is None else Team(row["id"], org_id, name)

    async def team_get_or_create(self, tx: Tx, org_id: str, name: str, now: datetime) -> Team:
        found = await self.team_by_name(tx, org_id, name)
        if found:
            return found
        team_id = new_id()
        await tx.execute(
            "INSERT INTO teams (id, org_id, name_sealed, name_hmac, created_at) VALUES (?, ?, ?, ?, ?)",
            (
                team_id,
                org_id,
                self._s.seal(name, "teams", "name", team_id),
                self._s.lookup("team", name.casefold()),
                to_db(now),
            ),
        )
        return Team(team_id, org_id, name)

    async def team_name(self, tx: Tx, team_id: str) -> str | None:
        row = await tx.one("SELECT name_sealed FROM teams WHERE id = ?", (team_id,))
        return None if row is None else self._s.open(row["name_sealed"], "teams", "name", team_id)

    async def teams(self, tx: Tx, org_id: str) -> list[Team]:
        """The organisation's teams, by name."""
        rows = await tx.all("SELECT id, name_sealed FROM teams WHERE org_id = ?", (org_id,))
        found = [Team(r["id"], org_id, self._s.open(r["name_sealed"], "teams", "name", r["id"])) for r in rows]
        return sorted(found, key=lambda t: t.name.casefold())
