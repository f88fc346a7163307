"""/extend: +30 min, +1 h, or a typed time."""

from __future__ import annotations

from datetime import timedelta

from bot.flows.checkin import DURATION_EXAMPLE, KEPT
from bot.flows.checkout import current_checkin
from bot.flows.common import NOT_IN, is_worker, not_a_worker
from bot.flows.model import TEXT, Ctx, Done, Flow, Input, Next, Result, Screen, Stay, rows
from bot.services.checkins import Outcome, extend
from bot.services.ladder import MAX_CHECKIN, parse_worker_duration
from bot.timefmt import when

HOW_MUCH = "how_much"


async def start(c: Ctx, inp: Input) -> Result:
    """/extend or the "Extend" button: offer +30 min, +1 h, or a typed time."""
    if not is_worker(c):
        return not_a_worker(c)
    wanted = inp.value.removeprefix("ext:ask:") if inp.value.startswith("ext:ask:") else None
    current = await current_checkin(c, wanted)
    if current is None:
        return Done(c.t("This button is no longer current." if wanted else NOT_IN))
    c.answers["checkin"] = current.id
    choices = rows([(c.t("+30 min"), f"ext:30:{current.id}"), (c.t("+1 h"), f"ext:60:{current.id}")])
    text = c.t("How much more time? Tap, or write it (like 45 or 1h30).")
    return Next(HOW_MUCH, Screen(text, choices, takes=TEXT))


async def how_much(c: Ctx, inp: Input) -> Result:
    """A button or a typed extra time; anything else gets one line showing what works."""
    assert c.person is not None
    if inp.kind == TEXT:
        delta = parse_worker_duration(inp.value)
        if delta is None:
            return Stay(c.t(DURATION_EXAMPLE))
    else:
        parts = inp.value.split(":")
        minutes = int(parts[1]) if len(parts) == 3 and parts[1].isdecimal() else 0
        if not 0 < minutes <= MAX_CHECKIN // timedelta(minutes=1):  # forged data: 0 or 10**20 minutes
            return Stay(c.t("This button is no longer current."))
        delta = timedelta(minutes=minutes)
    now = c.now()
    result = await extend(c.storage, c.config.escalation, c.person, c.answers.get("checkin"), delta, now)
    if result.outcome is Outcome.NOT_OPEN:
        return Done(c.t(NOT_IN))
    if result.outcome is not Outcome.OK or result.checkin is None:
        return Done(c.t("This button is no longer current."))
    time = when(result.checkin.deadline_at, c.locale, c.config.tz, now)
    return Done(c.t("Done. New time: {time}.", time=time), kept=c.t(KEPT, time=time), replaces_kept=True)


FLOW = Flow(
    name="extend",
    start=start,
    steps={HOW_MUCH: how_much},
    commands=("extend",),
    codes=("ext:ask:",),
    timeout=timedelta(minutes=15),
)
