"""Organisations and teams. A team row edited without the key (storage/integrity.py) is never used: a
look-up of its name raises TeamChanged, and its members are no one's recipients (storage/people.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.db import Row, Tx
from storage.ids import new_id
from storage.integrity import Authenticator
from storage.sealing import Sealer
from storage.timefmt import from_db, to_db


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


class TeamChanged(Exception):
    """The team of this name has a row that was changed without the key: it must not be used."""


class OrgRepo:
    def __init__(self, sealer: Sealer) -> None:
        self._s = sealer
        self._auth = Authenticator(sealer)
        self._checked: dict[tuple[object, ...], bool] = {}  # by the whole row: any edit is a new row

    async def first(self, tx: Tx) -> Organization | None:
        row = await tx.one("SELECT * FROM organizations ORDER BY created_at, id LIMIT 1")
        return None if row is None else self._org(row)

    async def get(self, tx: Tx, org_id: str) -> Organization | None:
        row = await tx.one("SELECT * FROM organizations WHERE id = ?", (org_id,))
        return None if row is None else self._org(row)

    async def created(self, tx: Tx) -> list[tuple[str, datetime]]:
        """Every organisation's id and when it was created (the drill reminder counts from then)."""
        rows = await tx.all("SELECT id, created_at FROM organizations ORDER BY created_at, id")
        return [(r["id"], from_db(r["created_at"])) for r in rows]

    def _org(self, r: Row) -> Organization:
        return Organization(
            id=r["id"],
            name=self._s.open(r["name_sealed"], "organizations", "name", r["id"]),
            timezone=r["timezone"],
            language=r["language"],
        )

    async def ensure(self, tx: Tx, timezone: str, language: str, now: datetime, name: str) -> tuple[Organization, bool]:
        """Create the organisation (named `name`) on first init; later inits bring zone and language up to
        date and keep the stored name (`rename` changes it). Second value: whether it was created."""
        current = await self.first(tx)
        if current is not None:
            await tx.execute(
                "UPDATE organizations SET timezone = ?, language = ? WHERE id = ?", (timezone, language, current.id)
            )
            return Organization(current.id, current.name, timezone, language), False
        org_id = new_id()
        await tx.execute(
            "INSERT INTO organizations (id, name_sealed, timezone, language, created_at) VALUES (?, ?, ?, ?, ?)",
            (org_id, self._s.seal(name, "organizations", "name", org_id), timezone, language, to_db(now)),
        )
        return Organization(org_id, name, timezone, language), True

    async def rename(self, tx: Tx, org_id: str, name: str) -> None:
        await tx.execute(
            "UPDATE organizations SET name_sealed = ? WHERE id = ?",
            (self._s.seal(name, "organizations", "name", org_id), org_id),
        )

    async def team_by_name(self, tx: Tx, org_id: str, name: str) -> Team | None:
        """The team of this name, None if there is none; raises TeamChanged if its row was edited."""
        row = await tx.one(
            "SELECT * FROM teams WHERE org_id = ? AND name_hmac = ?", (org_id, self._s.lookup("team", name.casefold()))
        )
        if row is None:
            return None
        if not self._auth.team_intact(self._s, row):
            self._auth.warn_once("teams", row["id"])
            raise TeamChanged(name)
        return Team(row["id"], org_id, name)

    async def team_usable(self, tx: Tx, team_id: str) -> bool:
        """Whether this team's row is intact (else warned about once): only then may it route anything."""
        row = await tx.one("SELECT * FROM teams WHERE id = ?", (team_id,))
        if row is None:  # deleted without the key (a team is never deleted otherwise)
            self._auth.warn_once("teams", team_id)
            return False
        raw = tuple(row)
        intact = self._checked.get(raw)
        if intact is None:
            if len(self._checked) >= 10_000:
                self._checked.clear()
            intact = self._checked[raw] = self._auth.team_intact(self._s, row)
        if not intact:
            self._auth.warn_once("teams", team_id)
        return intact

    async def team_get_or_create(self, tx: Tx, org_id: str, name: str, now: datetime) -> Team:
        found = await self.team_by_name(tx, org_id, name)
        if found:
            return found
        team_id = new_id()
        await tx.execute(
            "INSERT INTO teams (id, org_id, name_sealed, name_hmac, created_at, access_mac) VALUES (?, ?, ?, ?, ?, ?)",
            (
                team_id,
                org_id,
                self._s.seal(name, "teams", "name", team_id),
                self._s.lookup("team", name.casefold()),
                to_db(now),
                self._auth.team_mac({"id": team_id, "org_id": org_id}),
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
