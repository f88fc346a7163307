"""Storage: the only package with SQL. Schema, repositories and field sealing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from storage.alerts import AlertRepo
from storage.audit import AuditRepo
from storage.checkins import CheckinRepo
from storage.conversations import ConversationRepo
from storage.db import Database, Tx
from storage.incidents import IncidentRepo
from storage.integrity import backfill
from storage.invites import InviteRepo
from storage.lists import ListsRepo
from storage.orgs import OrgRepo
from storage.outbox import OutboxRepo
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
    checkins: CheckinRepo
    alerts: AlertRepo
    outbox: OutboxRepo
    incidents: IncidentRepo
    conversations: ConversationRepo
    lists: ListsRepo

    @classmethod
    async def open(cls, path: Path, key: bytes) -> Storage:
        sealer = Sealer(key)
        db = await Database.open(path)
        await backfill(db, sealer)
        orgs = OrgRepo(sealer)
        return cls(
            db,
            sealer,
            orgs,
            PeopleRepo(sealer, orgs.team_usable),
            InviteRepo(sealer),
            AuditRepo(),
            RateLimitRepo(),
            CheckinRepo(sealer),
            AlertRepo(),
            OutboxRepo(sealer),
            IncidentRepo(sealer),
            ConversationRepo(sealer),
            ListsRepo(sealer),
        )

    async def meta_get(self, key: str) -> str | None:
        async with self.db.read() as tx:
            row = await tx.one("SELECT value_sealed FROM meta WHERE key = ?", (key,))
        return None if row is None else self.sealer.open(row["value_sealed"], "meta", "value", key)

    async def meta_set(self, key: str, value: str) -> None:
        async with self.db.tx() as tx:
            await tx.execute(
                "INSERT INTO meta (key, value_sealed) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value_sealed = excluded.value_sealed",
                (key, self.sealer.seal(value, "meta", "value", key)),
            )

    async def close(self) -> None:
        await self.db.close()


__all__ = ["Database", "Person", "Storage", "Tx"]
