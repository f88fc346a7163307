"""/summary [week]: this week so far, or the week of a date (2026-11-16) or an ISO week (2026-W47),
as text with its chart. A manager's chart stays in the chat; the rest goes with the clean-up."""

from __future__ import annotations

from datetime import date, timedelta

from bot.flows.model import Attachment, Ctx, Done, Flow, Input, Result
from bot.services.summary import this_week
from bot.services.summary_message import summary_message

FIRST_WEEK, LAST_WEEK = date(1970, 1, 1), date(9998, 12, 31)


async def summary(c: Ctx, inp: Input) -> Result:
    person = c.person
    assert person is not None
    if person.role == "worker" or (person.role == "supervisor" and not person.team_id):
        return Done(c.t("This command is for managers and supervisors."))
    week = this_week(c.now(), c.config.tz)
    if inp.args:
        parsed = week_arg(inp.args[0])
        if parsed is None:
            return Done(c.t("Write the week like 2026-W47 or a date like 2026-11-16."))
        week = parsed
    text, png = await summary_message(c.storage, c.config, person, week, c.now().astimezone(c.config.tz).date())
    chart = Attachment("photo", png, "incidents.png")
    return Done(text, files=(chart,), keep_files=person.role in ("manager", "admin"))


def week_arg(text: str) -> date | None:
    """The Monday of the week a text names (2026-W47, or any day of it), or None."""
    try:
        if "-W" in text.upper():
            year, number = text.upper().split("-W")
            week = date.fromisocalendar(int(year), int(number), 1)
        else:
            day = date.fromisoformat(text)
            week = day - timedelta(days=day.weekday())
    except ValueError:
        return None
    # The summary reaches weeks back and a week ahead: 0001-01-01 or 9999-12-31 would overflow the calendar.
    return week if FIRST_WEEK <= week <= LAST_WEEK else None


SUMMARY = Flow(name="summary", start=summary, commands=("summary",))
