"""`outreach-bot people list|move|role|revoke` and `invites list|cancel` (and `revoke CODE`, kept as it
was): who is enrolled and which invites are still open, and what an admin changes about them. Every
change is audit-logged and holds at once, also in a running bot (it reads the person on every update).

Bad input (an unknown code or invite, a role or team that does not exist) gets one line, exit 2, and
changes nothing. A team that does not exist is refused, not made: `--create-team` makes it (a typo
must not start a team whose alerts reach nobody but the managers).
"""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from bot.clock import Clock
from bot.failure import Fail
from bot.services import people as service
from bot.services.enrolment import revoke_person
from config import OrgConfig
from storage import Storage
from storage.orgs import Organization

GROUPS = ("people", "invites", "revoke")
ROLE_NAMES = ", ".join(service.ROLES)


def add_parsers(sub: Any) -> None:
    """`people ...`, `invites ...` and `revoke CODE` on the main parser's subparsers."""
    people = sub.add_parser("people", help="list|move|role|revoke: the people enrolled")
    actions = people.add_subparsers(dest="action", required=True, metavar="{list,move,role,revoke}")
    actions.add_parser("list", help="code, role, team, language, last seen, revoked")
    move = actions.add_parser("move", help="move a person to another team: move CODE --team T")
    move.add_argument("code")
    move.add_argument("--team", required=True)
    move.add_argument("--create-team", action="store_true", help="make the team if it does not exist yet")
    role = actions.add_parser("role", help=f"give a person another role: role CODE ROLE ({ROLE_NAMES})")
    role.add_argument("code")
    role.add_argument("role")  # checked by the service: an unknown role gets one line, as in the chat
    actions.add_parser("revoke", help="revoke a person: revoke CODE").add_argument("code")
    invites = sub.add_parser("invites", help="list|cancel: the invites not used, not expired, not cancelled")
    inv_actions = invites.add_subparsers(dest="action", required=True, metavar="{list,cancel}")
    inv_actions.add_parser("list", help="id, role, team, made, valid until")
    inv_actions.add_parser("cancel", help="cancel an invite by its id (as listed)").add_argument("id")
    revoke = sub.add_parser("revoke", help="revoke a person by their code (like W-7KQ2)")
    revoke.add_argument("code")


def _local(at: datetime | None, config: OrgConfig) -> str:
    return at.astimezone(config.tz).strftime("%Y-%m-%d %H:%M") if at else "never"


async def cmd(args: argparse.Namespace, storage: Storage, org: Organization, config: OrgConfig, clock: Clock) -> None:
    """Run one `people`, `invites` or `revoke` command."""
    now = clock.now()
    action = "revoke" if args.command == "revoke" else args.action
    if args.command == "invites":
        await _invites(args, storage, org, config, now)
    elif action == "list":
        lines = await service.people(storage, org.id)
        print(f"{'code':<8} {'role':<10} {'team':<16} {'lang':<4} {'last seen':<16} status")
        for p in lines:
            status = (
                "edited-without-key" if p.edited else "erased" if p.erased else "revoked" if p.revoked else "active"
            )
            seen = _local(p.last_seen, config)
            print(f"{p.code:<8} {p.role:<10} {p.team or '-':<16} {p.locale:<4} {seen:<16} {status}")
        active, revoked = sum(not (p.revoked or p.edited) for p in lines), sum(p.revoked for p in lines)
        edited = [p.code for p in lines if p.edited]
        print(f"{active} active, {revoked} revoked.")
        if edited:  # someone changed the database without the key: the bot treats these as no one
            print(f"Changed without the key, so unknown to the bot (see its log): {', '.join(edited)}.")
    elif action == "revoke":
        done = await revoke_person(storage, org.id, args.code, now)
        if done is None:
            raise Fail(f"no person with code {args.code!r}; nothing changed (see `outreach-bot people list`)")
        if done.already:
            print(f"{done.person.code} was already revoked; nothing changed.")
            return
        closed = f"; {done.alerts_closed} open alert(s) closed, those alerted were told why" * bool(done.alerts_closed)
        print(f"Revoked {done.person.code}{closed}.")
    else:
        if action == "move":
            changed = await service.move(storage, org.id, args.code, args.team, now, create=args.create_team)
        else:
            changed = await service.set_role(storage, org.id, args.code, args.role.strip().lower(), now)
        _say(changed, args)


def _say(changed: service.Changed, args: argparse.Namespace) -> None:
    """One line for what a move or role change did; bad input raises Fail (exit 2)."""
    outcome, code = changed.outcome, args.code
    if outcome is service.Change.UNKNOWN_PERSON:
        raise Fail(f"no person with code {code!r}; nothing changed (see `outreach-bot people list`)")
    if outcome is service.Change.UNKNOWN_ROLE:
        raise Fail(f"no role {args.role!r}: use one of {ROLE_NAMES}; nothing changed")
    if outcome is service.Change.UNKNOWN_TEAM:
        raise Fail(f"no team {args.team!r}; nothing changed (check the spelling, or add --create-team to make it)")
    if outcome is service.Change.REVOKED:
        raise Fail(f"{code.upper()} is revoked; nothing changed (invite them again instead)")
    assert changed.person is not None
    what = f"team {changed.team!r}" if args.action == "move" else f"role {args.role.strip().lower()}"
    if outcome is service.Change.SAME:
        print(f"{changed.person.code} already has {what}; nothing changed.")
    elif args.action == "move":
        print(f"Moved {changed.person.code} to {what}; it holds from their next message.")
    else:
        team = f" in team {changed.team!r}" if changed.team else ""
        print(f"{changed.person.code} now has {what}{team}; it holds from their next message.")


async def _invites(
    args: argparse.Namespace, storage: Storage, org: Organization, config: OrgConfig, now: datetime
) -> None:
    if args.action == "list":
        found = await service.open_invites(storage, org.id, now)
        print(f"{'id':<9} {'role':<10} {'team':<16} {'made':<16} valid until")
        for i in found:
            made = _local(i.created, config)
            print(f"{i.short:<9} {i.role:<10} {i.team or '-':<16} {made:<16} {_local(i.expires, config)}")
        print(f"{len(found)} open invite(s).")
        return
    outcome, invite = await service.cancel_invite(storage, org.id, args.id, now)
    if outcome is not service.Change.OK or invite is None:
        raise Fail(
            f"no open invite {args.id!r}; nothing changed (see `outreach-bot invites list`: its id, or the first"
            f" {service.MIN_REF} characters or more)"
        )
    print(f"Cancelled invite {invite.short} ({invite.role}); its code is no longer valid.")
