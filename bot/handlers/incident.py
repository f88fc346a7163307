"""/incident R-XXXXX: one report in full, with its check-in, alert history and follow-ups; audit-logged.

The worker's own words only for managers and admins (the others read that there is an account).
The follow-up buttons (fu:<ref>:<status>) start bot/flows/followup.py."""

from __future__ import annotations

from bot.flows.model import Choice, Ctx, Done, Flow, Input, Result, Rows
from bot.services import incidents as inc
from bot.textsplit import pieces
from bot.timefmt import when


async def incident(c: Ctx, inp: Input) -> Result:
    person = c.person
    assert person is not None
    loc, tz, now = c.locale, c.config.tz, c.now()
    ref = (inp.args or ("",))[0].upper()
    async with c.storage.db.read() as tx:
        found = await c.storage.incidents.by_ref(tx, person.org_id, ref) if ref else None
    if found is None or not inc.may_see(person, found):
        return Done(c.t("No report with this reference. Write it like /incident R-4K2P7."))
    async with c.storage.db.tx() as tx:
        await c.storage.audit.record(
            tx, now, "incident.view", org_id=found.org_id, actor_id=person.id, subject_id=found.id
        )
        reporter = await c.storage.people.get(tx, found.reporter_id)
        checkin = await c.storage.checkins.get(tx, found.checkin_id) if found.checkin_id else None
        history = await c.storage.alerts.history(tx, found.alert_id) if found.alert_id else []
        followups = await c.storage.incidents.followups(tx, found.id)
    where = c.config.place_label(found.place, loc) or c.t(inc.PLACE_KINDS.get(found.place_kind or "", "–"))
    lines = [
        f"{found.ref} · {c.t(inc.CATEGORIES[found.category])}",
        f"{c.t('Reported by')}: {reporter.display if reporter else '?'}",
        f"{c.t('When')}: {found.occurred_on.isoformat()}",
        f"{c.t('Where')}: {where}",
        f"{c.t('Who was affected')}: {c.t(inc.AFFECTED.get(found.affected or '', '–'))}",
        f"{c.t('Who did it')}: {c.t(inc.PERPETRATORS.get(found.perpetrator or '', '–'))}",
        f"{c.t('How serious')}: {found.severity or '–'}",
        f"{c.t('Support')}: {c.t(inc.SUPPORT.get(found.support or '', '–'))}",
        f"{c.t('Told authorities')}: {c.t(inc.AUTHORITIES.get(found.authorities or '', '–'))}",
        f"{c.t('Status')}: {c.t(inc.FOLLOWUP.get(found.status, found.status))}",
    ]
    if found.account and not inc.may_read_account(person, found):  # that there is one, not its words
        lines.append(c.t(inc.ACCOUNT_KEPT))
    if checkin is not None:
        lines.append(
            c.t(
                "Check-in: {place}, {start} to {end}",
                place=c.config.place_label(checkin.place, loc),
                start=when(checkin.started_at, loc, tz, now),
                end=when(checkin.deadline_at, loc, tz, now),
            )
        )
    for event in history:
        lines.append(f"  {when(event.at, loc, tz, now)} {event.event}")
    for f in followups:
        note = f" – {f.note}" if f.note else ""
        lines.append(f"  {when(f.at, loc, tz, now)} {c.t(inc.FOLLOWUP.get(f.status, f.status))}{note}")
    if found.account and inc.may_read_account(person, found):
        lines += ["", c.t("In their words:"), found.account]
    buttons: Rows = ()
    if inc.may_follow_up(person, found):
        buttons = tuple(
            (Choice(f"fu:{found.ref}:{code}", c.t(label)),) for code, label in inc.FOLLOWUP.items() if code != "open"
        )
    shown = pieces("\n".join(lines))  # a long account is more than one message; the buttons go with the last
    return Done(shown[0], pieces=tuple(shown[1:]), rows=buttons)


INCIDENT = Flow(name="incident", start=incident, commands=("incident",))
