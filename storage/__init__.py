"""Storage: the only package with SQL. Schema, repositories and field sealing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from storage.alerts import AlertRepo
from storage.audit import AuditRepo
from storage.checkins import CheckinRepo
from storage.codes import Codes
from storage.conversations import ConversationRepo
from storage.db import Database, Tx
from storage.incidents import IncidentRepo
from storage.integrity import Authenticator, backfill
from storage.invites import InviteRepo
from storage.lists import ListsRepo
from storage.orgs import OrgRepo
from storage.outbox import OutboxRepo
from storage.people import PeopleRepo, Person
from storage.plans import PlanRepo
from storage.ratelimit import RateLimitRepo
from storage.risk import RiskRepo
from storage.sealing import Sealer

CODED_FLAG = "columns_coded"  # meta: every coded column holds tokens


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
    codes: Codes
    plans: PlanRepo
    risk: RiskRepo

    @classmethod
    async def open(cls, path: Path, key: bytes) -> Storage:
        sealer = Sealer(key)
        db = await Database.open(path)
        await backfill(db, sealer)
        codes = Codes(sealer, db)
        await codes.load()
        orgs = OrgRepo(sealer)
        auth = Authenticator(sealer)  # one for check-ins, alerts and incidents: one warning per row
        storage = cls(
            db,
            sealer,
            orgs,
            PeopleRepo(sealer, orgs.team_usable),
            InviteRepo(sealer),
            AuditRepo(codes),
            RateLimitRepo(),
            CheckinRepo(sealer, codes, auth),
            AlertRepo(codes, auth),
            OutboxRepo(sealer),
            IncidentRepo(sealer, codes, auth),
            ConversationRepo(sealer),
            ListsRepo(sealer),
            codes,
            PlanRepo(sealer),
            RiskRepo(sealer, codes, auth),
        )
        if not await storage.meta_has(CODED_FLAG):
            # Once: rows written before their columns were coded get their tokens (see storage/codes.py).
            # Under a wrong key that would code them for a key that is not theirs: the check raises first.
            await storage._check_key()
            await codes.recode()
            await storage.meta_set(CODED_FLAG, "1")
        return storage

    async def _check_key(self) -> None:
        """Raise SealError if the key does not open this database (one sealed value, if there is any)."""
        async with self.db.read() as tx:
            row = await tx.one("SELECT id, name_sealed FROM organizations LIMIT 1")
        if row is not None:
            self.sealer.open(row["name_sealed"], "organizations", "name", row["id"])

    def forget(self) -> None:
        """Forget the key and everything derived from it that this process holds (the chat's shred)."""
        self.sealer.forget()
        self.codes.forget()

    async def meta_has(self, key: str) -> bool:
        """Whether `key` is set (without opening it: this works under a wrong key too)."""
        async with self.db.read() as tx:
            return await tx.one("SELECT 1 FROM meta WHERE key = ?", (key,)) is not None

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
