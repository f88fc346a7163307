"""Invites and enrolment: single-use codes, expiry, and the wrong-code limit."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.services import lists
from bot.services.alert_lifecycle import close_alert
from bot.services.escalation import hide_locations_from
from bot.services.organization import open_organization
from config import OrgConfig
from storage import Person, Storage
from storage.orgs import Organization

WRONG_CODE_LIMIT = 5
WRONG_CODE_WINDOW = timedelta(hours=1)
WRONG_CODE_BLOCK = timedelta(hours=1)
TEAM_ROLES = ("worker", "supervisor")
DEFAULT_TEAM = "main"


class Redeem(enum.Enum):
    ENROLLED = "enrolled"
    ALREADY_ENROLLED = "already"
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    BLOCKED = "blocked"


@dataclass(frozen=True)
class RedeemResult:
    outcome: Redeem
    person: Person | None = None


async def ensure_organization(storage: Storage, config: OrgConfig, clock: Clock) -> Organization:
    """Create the organisation from the config, or bring it up to date (idempotent); its name is sealed
    in the database (bot/services/organization.py)."""
    org, _ = await open_organization(storage, config, clock)
    await lists.load(storage, org.id, config)  # places, code words, contacts: sealed in the database
    return org


async def create_invite(
    storage: Storage, clock: Clock, org: Organization, *, role: str, team: str | None, ttl: timedelta
) -> tuple[str, datetime, str | None]:
    """A new single-use code for `role`; returns (code, expiry, team name used)."""
    now = clock.now()
    team_name = (team or DEFAULT_TEAM) if role in TEAM_ROLES else team
    async with storage.db.tx() as tx:
        team_id = None
        if team_name:
            team_id = (await storage.orgs.team_get_or_create(tx, org.id, team_name, now)).id
        code, invite = await storage.invites.create(tx, org_id=org.id, team_id=team_id, role=role, ttl=ttl, now=now)
        await storage.audit.record(tx, now, f"invite.create:{role}", org_id=org.id, actor_id=None, subject_id=invite.id)
    return code, invite.expires_at, team_name


async def redeem(
    storage: Storage, clock: Clock, code: str, *, telegram_user_id: int, chat_id: int, locale: str
) -> RedeemResult:
    """Enrol the person behind `telegram_user_id` with `code`, all in one transaction."""
    now = clock.now()
    key = storage.people.user_key(telegram_user_id)
    async with storage.db.tx() as tx:
        if await storage.rates.is_blocked(tx, key, "invite", now):
            return RedeemResult(Redeem.BLOCKED)
        existing = await storage.people.by_telegram_user(tx, telegram_user_id)
        if existing is not None and existing.status == "active":
            return RedeemResult(Redeem.ALREADY_ENROLLED, existing)
        invite = await storage.invites.find(tx, code) if 8 <= len(code) <= 64 else None
        outcome = None
        if invite is None or invite.cancelled:  # a cancelled code is as good as none
            outcome = Redeem.UNKNOWN
        elif invite.used:
            outcome = Redeem.USED
        elif invite.expires_at <= now:
            outcome = Redeem.EXPIRED
        elif existing is not None or await storage.people.account_taken(tx, telegram_user_id):
            # A revoked person may not come back with a new code under the same account; nor may one whose
            # row was edited without the key (storage/integrity.py): an admin looks into it first.
            outcome = Redeem.UNKNOWN
        if outcome is not None:
            await storage.rates.hit(
                tx, key, "invite", now, limit=WRONG_CODE_LIMIT, window=WRONG_CODE_WINDOW, block_for=WRONG_CODE_BLOCK
            )
            return RedeemResult(outcome)
        assert invite is not None
        person = await storage.people.create(
            tx,
            org_id=invite.org_id,
            team_id=invite.team_id,
            role=invite.role,
            telegram_user_id=telegram_user_id,
            chat_id=chat_id,
            locale=locale,
            now=now,
        )
        if not await storage.invites.mark_used(tx, invite.id, person.id, now):
            raise RuntimeError("invite consumed twice inside one transaction")
        await storage.audit.record(
            tx, now, "person.enrol", org_id=invite.org_id, actor_id=person.id, subject_id=invite.id
        )
    return RedeemResult(Redeem.ENROLLED, person)


async def stranger_may_get_reply(storage: Storage, clock: Clock, telegram_user_id: int) -> bool:
    """Strangers get one neutral line per message, until they flood: then silence for a while."""
    now = clock.now()
    key = storage.people.user_key(telegram_user_id)
    async with storage.db.tx() as tx:
        if await storage.rates.is_blocked(tx, key, "stranger", now) or await storage.rates.is_blocked(
            tx, key, "invite", now
        ):
            return False
        blocked = await storage.rates.hit(
            tx, key, "stranger", now, limit=20, window=timedelta(minutes=10), block_for=timedelta(hours=1)
        )
    return not blocked


@dataclass(frozen=True)
class Revoked:
    person: Person
    alerts_closed: int  # their open alerts, closed with the reason (REVOKED_RESOLUTION) for whoever was told
    already: bool = False  # they were revoked before: nothing changed


REVOKED_RESOLUTION = "revoked"


async def revoke(storage: Storage, org: Organization, code: str, now: datetime) -> Person | None:
    """Revoke by code (see revoke_person); the person, or None if no one has that code."""
    done = await revoke_person(storage, org.id, code, now)
    return None if done is None else done.person


async def revoke_person(
    storage: Storage, org_id: str, code: str, now: datetime, actor: Person | None = None
) -> Revoked | None:
    """Make a person a stranger again; their open check-in closes, so nobody is alerted about them, and
    their open alerts close with the reason, told to everyone who was alerted. Any worker's location an
    alert showed them is edited out of their chat (a revoked phone may be in other hands)."""
    async with storage.db.tx() as tx:
        person = await storage.people.by_code(tx, org_id, code.strip())
        if person is None:
            return None
        if person.status == "revoked":
            return Revoked(person, 0, already=True)
        await storage.people.set_status(tx, person.id, "revoked", now)
        await hide_locations_from(storage, tx, person, now)
        theirs = [a for a in await storage.alerts.active_in_org(tx, org_id) if a.person_id == person.id]
        for alert in theirs:
            await close_alert(storage, tx, alert, actor, REVOKED_RESOLUTION, now, tell_worker=False)
        open_checkin = await storage.checkins.open_for(tx, person.id)
        if open_checkin is not None:
            await storage.checkins.close(tx, open_checkin.id, "revoked", now)
        await storage.audit.record(
            tx, now, "person.revoke", org_id=org_id, actor_id=actor.id if actor else None, subject_id=person.id
        )
    return Revoked(person, len(theirs))
