"""/team for supervisors (and managers): who is out now; and the alert buttons."""

from __future__ import annotations

from bot.flows.model import STALE, Choice, Ctx, Done, Flow, Input, Result
from bot.render import DRILL
from bot.services.checkins import Outcome, acknowledge, resolve_safe
from bot.textsplit import pieces
from bot.timefmt import minutes, when

MAX_BUTTONS = 50  # Telegram refuses a keyboard of more than 100 buttons; the alert message has them too


async def team(c: Ctx, inp: Input) -> Result:
    """Who is out now, where, with whom, due when; overdue first, with acknowledge buttons."""
    person = c.person
    assert person is not None
    if person.role == "worker" or (person.role == "supervisor" and not person.team_id):
        return Done(c.t("This command is for supervisors."))
    now, tz, loc = c.now(), c.config.tz, c.locale
    async with c.storage.db.read() as tx:
        if person.role == "supervisor":
            assert person.team_id is not None
            checkins = await c.storage.checkins.open_in_team(tx, person.team_id)
        else:
            checkins = await c.storage.checkins.open_in_org(tx, person.org_id)
        out = []
        for checkin in checkins:
            worker = await c.storage.people.get(tx, checkin.person_id)
            partner = await c.storage.people.get(tx, checkin.partner_id) if checkin.partner_id else None
            alert = await c.storage.alerts.active_for_checkin(tx, checkin.id)
            out.append((checkin, worker, partner, alert))
    if not out:
        return Done(c.t("Nobody is checked in right now."))
    out.sort(key=lambda r: (r[0].deadline_at >= now, r[0].deadline_at))
    lines, buttons = [c.t("Out now: {n}", n=len(out))], []
    for checkin, worker, partner, alert in out:
        who = worker.display if worker else "?"
        with_whom = partner.display if partner else c.t("alone")
        due = when(checkin.deadline_at, loc, tz, now)
        line = f"• {who} · {c.config.place_label(checkin.place, loc)} · {with_whom} · {due}"
        if checkin.deadline_at < now:
            line += " · " + c.t("LATE {n} min", n=minutes(now - checkin.deadline_at))
        lines.append(line)
        if alert is not None and alert.status == "open":
            buttons.append((Choice(f"ack:{alert.id}", c.t("I'm handling {worker}", worker=who)),))
        elif alert is not None and alert.status == "acknowledged":
            buttons.append((Choice(f"safe:{alert.id}", c.t("{worker} is safe", worker=who)),))
    if len(buttons) > MAX_BUTTONS:
        lines += ["", c.t("Buttons for the first {n} only. Handle them, then send /team again.", n=MAX_BUTTONS)]
    shown = pieces("\n".join(lines))  # a whole organisation at shift start is more than one message
    # the buttons (the most overdue first) come with the last piece
    return Done(shown[0], pieces=tuple(shown[1:]), rows=tuple(buttons[:MAX_BUTTONS]))


async def acknowledge_alert(c: Ctx, inp: Input) -> Result:
    """ "I'm handling it"."""
    assert c.person is not None
    alert_id = inp.value.removeprefix("ack:")
    result = await acknowledge(c.storage, c.person, alert_id, c.now())
    return await _answer(
        c, result.outcome, result.alert, c.t("Thank you. The others are told that you are handling it.")
    )


async def resolve_alert(c: Ctx, inp: Input) -> Result:
    """ "Reached them, they are safe"."""
    assert c.person is not None
    alert_id = inp.value.removeprefix("safe:")
    result = await resolve_safe(c.storage, c.person, alert_id, c.now())
    return await _answer(
        c, result.outcome, result.alert, c.t("Thank you. The alert is closed and the others are told.")
    )


async def _answer(c: Ctx, outcome: Outcome, alert: object, done: str) -> Result:
    """What the supervisor's tap did (the others are told through the outbox, sent once this is stored)."""
    if outcome is Outcome.OK:  # a drill says so here too
        return Done(c.t(DRILL) + "\n" + done if getattr(alert, "kind", None) == "drill" else done)
    if outcome is Outcome.ALREADY_DONE:
        async with c.storage.db.read() as tx:
            by = await c.storage.people.get(tx, getattr(alert, "acknowledged_by", "") or "")
        return Done(c.t("{by} is already handling it.", by=by.display if by else "?"))
    if outcome is Outcome.STALE and alert is not None:
        return Done(c.t("This alert is already closed."))
    return Done(c.t(STALE))


TEAM = Flow(name="team", start=team, commands=("team",))
ACK = Flow(name="ack", start=acknowledge_alert, codes=("ack:",))
SAFE = Flow(name="safe", start=resolve_alert, codes=("safe:",))
