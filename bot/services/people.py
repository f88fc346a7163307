"""What admins do to people and invites, from the CLI or the chat: list them, move a person to another
team, change their role, revoke them (bot.services.enrolment.revoke_person), cancel an invite.

Each change is audit-logged (who, what, whom; never a name) and holds at once: the gate reads the
person on every update. Access columns are written only through PeopleRepo and InviteRepo, which
make their MACs again (storage/integrity.py). A person keeps their code when their role changes:
past records name them by it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from bot.services.enrolment import DEFAULT_TEAM, TEAM_ROLES
from storage import Person, Storage
from storage.people import ROLES

SHORT_ID = 8  # how much of an invite's id is shown; a unique prefix of MIN_REF or more picks it
MIN_REF = 6


class Change(enum.Enum):
    OK = "ok"
    SAME = "same"  # it already was so: nothing changed
    UNKNOWN_PERSON = "unknown_person"
    UNKNOWN_TEAM = "unknown_team"
    UNKNOWN_ROLE = "unknown_role"
    UNKNOWN_INVITE = "unknown_invite"
    REVOKED = "revoked"  # a revoked person is not moved nor given a role
    SELF = "self"  # an admin does not change their own access from the chat (nobody would be left to undo it)


@dataclass(frozen=True)
class PersonLine:
    code: str
    role: str
    team: str | None
    locale: str
    last_seen: datetime | None
    revoked: bool
    erased: bool
    edited: bool = False  # the row was changed without the key: the bot treats it as no one


@dataclass(frozen=True)
class InviteLine:
    id: str
    role: str
    team: str | None
    created: datetime | None
    expires: datetime

    @property
    def short(self) -> str:
        return self.id[:SHORT_ID]


@dataclass(frozen=True)
class Changed:
    outcome: Change
    person: Person | None = None
    team: str | None = None  # the person's team after the change


async def people(storage: Storage, org_id: str) -> list[PersonLine]:
    """Everyone enrolled, revoked ones too, by code."""
    async with storage.db.read() as tx:
        listed = await storage.people.listed(tx, org_id)
        names = {t.id: t.name for t in await storage.orgs.teams(tx, org_id)}
    return [
        PersonLine(p.code, "?", None, "?", p.last_seen, False, p.erased, edited=True)
        if p.person is None
        else PersonLine(
            p.person.code,
            p.person.role,
            names.get(p.person.team_id or ""),
            p.person.locale,
            p.last_seen,
            p.person.status == "revoked",
            p.erased,
        )
        for p in listed
    ]


async def open_invites(storage: Storage, org_id: str, now: datetime) -> list[InviteLine]:
    """Invites not used, not expired, not cancelled; oldest first."""
    async with storage.db.read() as tx:
        found = await storage.invites.open_in(tx, org_id, now)
        names = {t.id: t.name for t in await storage.orgs.teams(tx, org_id)}
    return [InviteLine(i.id, i.role, names.get(i.team_id or ""), i.created_at, i.expires_at) for i in found]


async def team_names(storage: Storage, org_id: str) -> list[str]:
    async with storage.db.read() as tx:
        return [t.name for t in await storage.orgs.teams(tx, org_id)]


async def move(
    storage: Storage,
    org_id: str,
    code: str,
    team: str,
    now: datetime,
    *,
    actor: Person | None = None,
    create: bool = False,
) -> Changed:
    """Move a person to another team. A team that does not exist is refused unless `create` (a typo must
    not make a team of its own, whose alerts would go to nobody but the managers)."""
    async with storage.db.tx() as tx:
        person = await storage.people.by_code(tx, org_id, code.strip())
        if person is None:
            return Changed(Change.UNKNOWN_PERSON)
        if person.status == "revoked":
            return Changed(Change.REVOKED, person)
        if actor is not None and actor.id == person.id:
            return Changed(Change.SELF, person)
        found = await storage.orgs.team_by_name(tx, org_id, team.strip())
        if found is None and not create:
            return Changed(Change.UNKNOWN_TEAM, person)
        if found is None:
            found = await storage.orgs.team_get_or_create(tx, org_id, team.strip(), now)
        name = await storage.orgs.team_name(tx, found.id) or found.name  # as it was first written
        if found.id == person.team_id:
            return Changed(Change.SAME, person, name)
        if not await storage.people.set_access(tx, person.id, team_id=found.id, role=person.role):
            return Changed(Change.UNKNOWN_PERSON)
        await storage.audit.record(
            tx, now, "person.move", org_id=org_id, actor_id=actor.id if actor else None, subject_id=person.id
        )
    return Changed(Change.OK, person, name)


async def set_role(
    storage: Storage, org_id: str, code: str, role: str, now: datetime, *, actor: Person | None = None
) -> Changed:
    """Give a person another role. A worker or supervisor needs a team: one without goes to the default
    team (as an invite would put them)."""
    if role not in ROLES:
        return Changed(Change.UNKNOWN_ROLE)
    async with storage.db.tx() as tx:
        person = await storage.people.by_code(tx, org_id, code.strip())
        if person is None:
            return Changed(Change.UNKNOWN_PERSON)
        if person.status == "revoked":
            return Changed(Change.REVOKED, person)
        if actor is not None and actor.id == person.id:
            return Changed(Change.SELF, person)
        team_id = person.team_id
        if team_id is None and role in TEAM_ROLES:
            team_id = (await storage.orgs.team_get_or_create(tx, org_id, DEFAULT_TEAM, now)).id
        team = await storage.orgs.team_name(tx, team_id) if team_id else None
        if role == person.role:
            return Changed(Change.SAME, person, team)
        if not await storage.people.set_access(tx, person.id, team_id=team_id, role=role):
            return Changed(Change.UNKNOWN_PERSON)
        await storage.audit.record(
            tx, now, f"person.role:{role}", org_id=org_id, actor_id=actor.id if actor else None, subject_id=person.id
        )
    return Changed(Change.OK, person, team)


async def cancel_invite(
    storage: Storage, org_id: str, ref: str, now: datetime, *, actor: Person | None = None
) -> tuple[Change, InviteLine | None]:
    """Cancel an open invite by its id or a unique start of it (MIN_REF characters or more): its code
    then gets the answer an unknown code gets."""
    ref = ref.strip().lower()
    candidates = [i for i in await open_invites(storage, org_id, now) if len(ref) >= MIN_REF and i.id.startswith(ref)]
    if len(candidates) != 1:
        return Change.UNKNOWN_INVITE, None
    invite = candidates[0]
    async with storage.db.tx() as tx:
        if not await storage.invites.cancel(tx, invite.id, now):
            return Change.UNKNOWN_INVITE, None  # used or cancelled meanwhile
        await storage.audit.record(
            tx, now, "invite.cancel", org_id=org_id, actor_id=actor.id if actor else None, subject_id=invite.id
        )
    return Change.OK, invite
