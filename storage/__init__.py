"""Storage: the only package with SQL. Schema, repositories and field sealing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from storage.audit import AuditRepo
from storage.db import Database, Tx
from storage.invites import InviteRepo
from storage.orgs import OrgRepo
from storage.people import PeopleRepo, Person
from storage.ratelimit import RateLimitRepo
from storage.sealing import Sealer


@dataclass
class Storage:
    """The open database with its repositories, all sharing one sealer."""

    db: Database
    sealer: Sealer
    orgs: OrgRepo
    people: PeopleRepo
    invites: InviteRepo
    audit: AuditRepo
    rates: RateLimitRepo

    @classmethod
    async def open(cls, path: Path, key: bytes) -> Storage:
        sealer = Sealer(key)
        db = await Database.open(path)
        return cls(db, sealer, OrgRepo(sealer), PeopleRepo(sealer), InviteRepo(), AuditRepo(), RateLimitRepo())

    async def close(self) -> None:
        await self.db.close()


__all__ = ["Database", "Person", "Storage", "Tx"]
