"""/status: the worker's own open check-in; and a location shared outside the check-in."""

from __future__ import annotations

from bot.flows.checkin import KEPT, checkin_choices
from bot.flows.checkout import current_checkin
from bot.flows.common import NOT_IN, is_worker, location_text
from bot.flows.model import Ctx, Done, Flow, Input, Result
from bot.services.checkins import Outcome, set_location
from bot.timefmt import when


async def status(c: Ctx, inp: Input) -> Result:
    """Where, since and until when, with whom; the check-out and extend buttons."""
    if not is_worker(c):
        return Done(c.t("Check-ins are for outreach workers. Supervisors: /team."))
    current = await current_checkin(c)
    if current is None:
        return Done(c.t(NOT_IN))
    async with c.storage.db.read() as tx:
        partner = await c.storage.people.get(tx, current.partner_id) if current.partner_id else None
    now, tz, loc = c.now(), c.config.tz, c.locale
    lines = [
        c.t(
            "Checked in at {place} since {start}, until {end}.",
            place=c.config.place_label(current.place, loc),
            start=when(current.started_at, loc, tz, now),
            end=when(current.deadline_at, loc, tz, now),
        ),
        c.t("With: {partner}", partner=partner.display if partner else c.t("alone")),
    ]
    if current.deadline_at < now:
        lines.append(c.t("Your time is over: check out or extend."))
    kept = c.t(KEPT, time=when(current.deadline_at, loc, tz, now))
    return Done("\n".join(lines), kept=kept, rows=checkin_choices(c, current.id), replaces_kept=True)


async def location(c: Ctx, inp: Input) -> Result:
    """A location sent outside the check-in flow updates the open check-in's last location."""
    if not is_worker(c) or inp.latitude is None or inp.longitude is None:
        return Done()
    assert c.person is not None
    where = location_text(inp.latitude, inp.longitude)
    if where is None:
        return Done(c.t("This location cannot be used."))
    result = await set_location(c.storage, c.person, where, c.now())
    return Done(c.t("Location saved." if result.outcome is Outcome.OK else NOT_IN))


STATUS = Flow(name="status", start=status, commands=("status",))
LOCATION = Flow(name="location", start=location)
