"""/alerts for supervisors (their team) and managers and admins (the whole organisation): every alert
still open, acknowledged or not, oldest first, with the buttons the alert messages carry (`ack:` and
`safe:`, handled by bot/handlers/team.py through bot/services/checkins.py, which checks who may act).

Workers get the line any unknown command gets: nothing here tells them, or whoever holds their phone,
that the command exists.
"""

from __future__ import annotations

from bot.flows.model import OUT_OF_ORDER, Choice, Ctx, Done, Flow, Input, Result
from bot.i18n import N_
from bot.textsplit import pieces
from bot.timefmt import when

MAX_ROWS = 40  # two buttons a row; Telegram refuses a keyboard of more than 100 buttons
KIND_LABELS = {
    "missed_checkout": N_("missed check-out"),
    "red": N_("red code"),
    "yellow": N_("yellow code"),
    "duress": N_("duress PIN"),
    "critical_report": N_("critical report"),
    "drill": N_("DRILL (practice)"),
}


async def open_alerts(c: Ctx, inp: Input) -> Result:
    """The open alerts this person may handle, oldest first, each with its buttons."""
    person = c.person
    assert person is not None
    if person.role == "worker":
        return Done(c.t(OUT_OF_ORDER))
    if person.role == "supervisor" and not person.team_id:
        return Done(c.t("This command is for supervisors."))
    now, tz, loc = c.now(), c.config.tz, c.locale
    async with c.storage.db.read() as tx:
        found = await c.storage.alerts.active_in_org(tx, person.org_id)
        if person.role == "supervisor":
            found = [a for a in found if a.team_id == person.team_id]
        found.sort(key=lambda a: (a.raised_at, a.id))
        ids = {a.person_id for a in found} | {a.acknowledged_by for a in found if a.acknowledged_by}
        names = {pid: p.display for pid, p in (await c.storage.people.get_many(tx, list(ids))).items()}
    if not found:
        return Done(c.t("No open alerts."))
    lines, buttons = [c.t("Open alerts: {n}", n=len(found))], list[tuple[Choice, ...]]()
    for alert in found:
        who = names.get(alert.person_id, "?")
        kind = c.t(KIND_LABELS[alert.kind]) if alert.kind in KIND_LABELS else c.t("alert")
        state = (
            c.t("{by} is handling it", by=names.get(alert.acknowledged_by, "?"))
            if alert.status == "acknowledged" and alert.acknowledged_by
            else c.t("not acknowledged")
        )
        lines.append(f"• {who} · {kind} · {when(alert.raised_at, loc, tz, now)} · {state}")
        safe = Choice(f"safe:{alert.id}", c.t("{worker} is safe", worker=who))
        if alert.status == "open":
            buttons.append((Choice(f"ack:{alert.id}", c.t("I'm handling {worker}", worker=who)), safe))
        else:
            buttons.append((safe,))
    if len(buttons) > MAX_ROWS:
        lines += ["", c.t("Buttons for the first {n} only. Handle them, then send /alerts again.", n=MAX_ROWS)]
    shown = pieces("\n".join(lines))
    return Done(shown[0], pieces=tuple(shown[1:]), rows=tuple(buttons[:MAX_ROWS]))


ALERTS = Flow(name="alerts", start=open_alerts, commands=("alerts",))
