"""/people and /invites for admins: who is enrolled and which invites are open; move a person to
another team, give them another role, revoke them, cancel an invite (bot/services/people.py).

A code is typed (a list of buttons would not fit an organisation); a team or role is picked from
buttons, so no team is made by a typo here. Every change is audit-logged and holds from the person's
next message. Like every conversation, what was shown and typed leaves the chat at clean-up.
"""

from __future__ import annotations

from datetime import timedelta

from bot.flows.model import TEXT, Ctx, Done, Flow, Input, Next, Result, Screen, Stay, rows
from bot.i18n import N_
from bot.services import people as service
from bot.services.enrolment import revoke_person
from bot.timefmt import when
from storage.people import ROLES

MENU, CODE, TEAM, ROLE, CONFIRM, PICK = "menu", "code", "team", "role", "confirm", "pick"
MAX_LISTED = 60  # lines on one screen; the CLI lists everyone
MAX_BUTTONS = 30
ROLE_LABELS = {
    "worker": N_("worker"),
    "supervisor": N_("supervisor"),
    "manager": N_("manager"),
    "admin": N_("admin"),
}
UNKNOWN_CODE = N_("No one has that code. Check it on the list, or send /cancel.")
HOLDS = N_("Saved. It holds from their next message.")
NO_TEAMS = N_(
    "There are no teams yet. An invite for a team makes one, or on the server:"
    " outreach-bot people move CODE --team NAME --create-team"
)
NOT_SELF = N_("You cannot change your own access here: another admin or the command line can.")


def _person_line(c: Ctx, p: service.PersonLine) -> str:
    if p.edited:
        return f"• {p.code} · " + c.t("changed without the key: unknown to the bot")
    seen = when(p.last_seen, c.locale, c.config.tz, c.now()) if p.last_seen else c.t("never")
    parts = [p.code, c.t(ROLE_LABELS[p.role]), p.team or "–", p.locale, c.t("seen {time}", time=seen)]
    if p.revoked:
        parts.append(c.t("revoked"))
    return "• " + " · ".join(parts)


async def start(c: Ctx, inp: Input) -> Result:
    """/people or /invites: the list, and what can be done with it (admins only)."""
    if c.person is None or c.person.role != "admin":
        return Done(c.t("This command is for admins."))
    if inp.value == "invites":
        return await _invites(c)
    found = await service.people(c.storage, c.person.org_id)
    lines = [c.t("People: {n}", n=sum(not (p.revoked or p.edited) for p in found))]
    lines += [_person_line(c, p) for p in found[:MAX_LISTED]]
    if len(found) > MAX_LISTED:
        lines.append(c.t("…and {n} more: `outreach-bot people list` shows everyone.", n=len(found) - MAX_LISTED))
    actions = [(c.t("Change team"), "ppl:team"), (c.t("Change role"), "ppl:role")]
    buttons = rows(actions, [(c.t("Revoke"), "ppl:revoke"), (c.t("Close"), "ppl:close")])
    return Next(MENU, Screen("\n".join(lines), buttons))


async def _invites(c: Ctx) -> Result:
    """The open invites, with a button to cancel one."""
    assert c.person is not None
    found = await service.open_invites(c.storage, c.person.org_id, c.now())
    c.answers["invites"] = [i.id for i in found[:MAX_BUTTONS]]
    lines, labels = [c.t("Open invites: {n}", n=len(found))], []
    for i in found:
        until = when(i.expires, c.locale, c.config.tz, c.now())
        labels.append(f"{i.short} · {c.t(ROLE_LABELS[i.role])} · {i.team or '–'}")
        lines.append(f"• {labels[-1]} · " + c.t("until {time}", time=until))
    c.answers["labels"] = labels[:MAX_BUTTONS]
    if not found:
        return Done("\n".join(lines))
    return Next(
        MENU, Screen("\n".join(lines), rows([(c.t("Cancel an invite"), "ppl:inv"), (c.t("Close"), "ppl:close")]))
    )


async def menu(c: Ctx, inp: Input) -> Result:
    """Change team, change role, revoke (then the code is typed), cancel an invite, or close."""
    if inp.value == "ppl:close":
        return Done(c.t("Nothing changed."))
    if inp.value == "ppl:inv" and c.answers.get("labels"):
        shown = [[(label, f"ppl:i:{n}")] for n, label in enumerate(c.answers.get("labels") or [])]
        return Next(PICK, Screen(c.t("Which invite?"), rows(*shown, [(c.t("Close"), "ppl:close")])))
    if inp.value in ("ppl:team", "ppl:role", "ppl:revoke"):
        c.answers["then"] = inp.value
        return Next(CODE, Screen(c.t("Type the person's code, like W-7KQ2."), takes=TEXT))
    return Stay(c.t("This button is no longer current."))


async def code(c: Ctx, inp: Input) -> Result:
    """The person's code; then their new team or role, or the revocation to confirm."""
    assert c.person is not None
    typed = inp.value.strip().upper() if inp.kind == TEXT else ""
    async with c.storage.db.read() as tx:
        person = await c.storage.people.by_code(tx, c.person.org_id, typed) if 0 < len(typed) <= 16 else None
    if person is None:
        return Stay(c.t(UNKNOWN_CODE))
    if person.id == c.person.id:
        return Done(c.t(NOT_SELF))
    if person.status == "revoked":
        return Done(c.t("{code} is revoked: nothing to change. Invite them again instead.", code=person.code))
    c.answers["code"] = person.code
    then = c.answers.get("then")
    if then == "ppl:team":
        teams = await service.team_names(c.storage, c.person.org_id)
        if not teams:
            return Done(c.t(NO_TEAMS))
        c.answers["teams"] = teams[:MAX_BUTTONS]
        choices = [[(name, f"ppl:t:{n}")] for n, name in enumerate(c.answers["teams"])]
        return Next(TEAM, Screen(c.t("Which team for {code}?", code=person.code), rows(*choices)))
    if then == "ppl:role":
        choices = [[(c.t(ROLE_LABELS[role]), f"ppl:r:{role}")] for role in ROLES]
        return Next(ROLE, Screen(c.t("Which role for {code}?", code=person.code), rows(*choices)))
    question = c.t(
        "Revoke {code}? They become a stranger to this bot at once; their open alerts close, and those who were"
        " alerted are told why.",
        code=person.code,
    )
    async with c.storage.db.read() as tx:  # at 2 a.m. an admin must see that an alert about them is still open
        open_now = [a for a in await c.storage.alerts.active_in_org(tx, person.org_id) if a.person_id == person.id]
    if open_now:
        question += "\n\n" + c.t("Open alerts about {code} now: {n}.", code=person.code, n=len(open_now))
    return Next(CONFIRM, Screen(question, rows([(c.t("Revoke"), "ppl:yes"), (c.t("Cancel"), "ppl:close")])))


async def team(c: Ctx, inp: Input) -> Result:
    """The new team: stored."""
    assert c.person is not None
    index = inp.value.removeprefix("ppl:t:")
    teams = c.answers.get("teams") or []
    if not index.isdecimal() or int(index) >= len(teams):
        return Stay(c.t("This button is no longer current."))
    changed = await service.move(
        c.storage, c.person.org_id, c.answers["code"], teams[int(index)], c.now(), actor=c.person
    )
    return _said(c, changed)


async def role(c: Ctx, inp: Input) -> Result:
    """The new role: stored."""
    assert c.person is not None
    value = inp.value.removeprefix("ppl:r:")
    changed = await service.set_role(c.storage, c.person.org_id, c.answers["code"], value, c.now(), actor=c.person)
    return _said(c, changed)


def _said(c: Ctx, changed: service.Changed) -> Result:
    """One line for what a change did."""
    if changed.outcome is service.Change.OK:
        return Done(c.t(HOLDS))
    if changed.outcome is service.Change.SAME:
        return Done(c.t("It already was so. Nothing changed."))
    if changed.outcome is service.Change.SELF:
        return Done(c.t(NOT_SELF))
    if changed.outcome is service.Change.UNKNOWN_ROLE:
        return Stay(c.t("This button is no longer current."))
    return Done(c.t("Nothing changed: {code} cannot be changed now.", code=c.answers.get("code", "?")))


async def confirm(c: Ctx, inp: Input) -> Result:
    """The revocation, confirmed."""
    assert c.person is not None
    if inp.value == "ppl:close":
        return Done(c.t("Nothing changed."))
    if inp.value != "ppl:yes":
        return Stay(c.t("This button is no longer current."))
    done = await revoke_person(c.storage, c.person.org_id, c.answers["code"], c.now(), actor=c.person)
    if done is None or done.already:
        return Done(c.t("Nothing changed: {code} cannot be changed now.", code=c.answers["code"]))
    return Done(c.t("{code} is revoked. Open alerts closed: {n}.", code=done.person.code, n=done.alerts_closed))


async def pick(c: Ctx, inp: Input) -> Result:
    """The invite to cancel: cancelled."""
    assert c.person is not None
    if inp.value == "ppl:close":
        return Done(c.t("Nothing changed."))
    index = inp.value.removeprefix("ppl:i:")
    ids = c.answers.get("invites") or []
    if not index.isdecimal() or int(index) >= len(ids):
        return Stay(c.t("This button is no longer current."))
    outcome, _ = await service.cancel_invite(c.storage, c.person.org_id, ids[int(index)], c.now(), actor=c.person)
    if outcome is not service.Change.OK:
        return Done(c.t("That invite is no longer open. Nothing changed."))
    return Done(c.t("Cancelled. That invite's code is no longer valid."))


FLOW = Flow(
    name="people",
    start=start,
    steps={MENU: menu, CODE: code, TEAM: team, ROLE: role, CONFIRM: confirm, PICK: pick},
    commands=("people", "invites"),
    timeout=timedelta(minutes=15),
)
