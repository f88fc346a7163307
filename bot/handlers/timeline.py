"""/timeline [4w|12w|52w|all] [category] [place]: incidents, newest first, ten a page.

A flow with one step, `page`: its choices are the page buttons (tl:<offset>:<period>:<category>:<place>),
so a press on the current page edits that message in place, and a press on an older page (or a
forged code) is not this flow's: the engine answers it as any stale button."""

from __future__ import annotations

from datetime import timedelta

from babel.dates import format_date

from bot.flows.model import STALE, Choice, Ctx, Done, Flow, Input, Next, Result, Screen
from bot.services import incidents as inc
from storage import Person
from storage.incidents import Filters

PAGE = 10
PERIODS = {"4w": 4, "12w": 12, "52w": 52, "all": 0}
MAX_OFFSET = 2**31  # SQLite's OFFSET is 64-bit; no organisation has this many
STEP = "page"


def scope(person: Person) -> Filters | None:
    """What a person may list: managers and admins everything, supervisors their team, workers their own."""
    if person.role in ("manager", "admin"):
        return Filters(org_id=person.org_id)
    if person.role == "supervisor":
        return Filters(org_id=person.org_id, team_id=person.team_id) if person.team_id else None
    return Filters(org_id=person.org_id, reporter_id=person.id)


def filters(c: Ctx, period: str, category: str, place: str) -> Filters | None:
    """The person's scope narrowed to a period, a category and a place (an index into the hotspots);
    an unknown period is the default 12 weeks, an unknown category or place is any."""
    assert c.person is not None
    base = scope(c.person)
    if base is None:
        return None
    weeks = PERIODS.get(period, 12)
    today = c.now().astimezone(c.config.tz).date()
    since = inc.week_of(today - timedelta(weeks=weeks)) if weeks else None
    place_key = None
    if place.isdecimal() and int(place) < len(c.config.hotspots):  # isdigit() takes "²", int() does not
        place_key = c.storage.incidents.place_key(c.config.hotspots[int(place)].name)
    return Filters(
        org_id=base.org_id,
        team_id=base.team_id,
        reporter_id=base.reporter_id,
        since_week=since,
        category=category if category in inc.CATEGORIES else None,
        place_key=place_key,
    )


async def timeline(c: Ctx, inp: Input) -> Result:
    """The first page for the command's words: a period, a category, the start of a place's name."""
    args = [a.lower() for a in inp.args]
    period = next((a for a in args if a in PERIODS), "12w")
    category = next((a for a in args if a in inc.CATEGORIES), "-")
    words = " ".join(a for a in args if a not in PERIODS and a not in inc.CATEGORIES)
    place = "-"
    if words:
        found = [i for i, h in enumerate(c.config.hotspots) if h.name.casefold().startswith(words)]
        place = str(found[0]) if found else "-"
    return await page(c, 0, period, category, place)


async def turn_page(c: Ctx, inp: Input) -> Result:
    """◀ Previous / Next ▶ on the current page: the page it names, in place of this one."""
    parts = inp.value.split(":")
    if len(parts) != 5 or not parts[1].isdecimal() or int(parts[1]) > MAX_OFFSET:
        return Done(c.t(STALE))
    return await page(c, int(parts[1]), parts[2], parts[3], parts[4])


async def page(c: Ctx, offset: int, period: str, category: str, place: str) -> Result:
    """One page; with buttons to the pages before and after it, the step stays open for them."""
    chosen = filters(c, period, category, place)
    if chosen is None:
        return Done(c.t("There is nothing you can see here."))
    async with c.storage.db.read() as tx:
        items, total = await c.storage.incidents.page(tx, chosen, offset, PAGE)
    if not items:
        return Done(c.t("No incidents for this choice."))
    loc = c.locale
    lines = [c.t("Incidents {start}–{end} of {total}:", start=offset + 1, end=offset + len(items), total=total)]
    for i in items:
        place_text = c.config.place_label(i.place, loc) or c.t(inc.PLACE_KINDS.get(i.place_kind or "", "–"))
        fields = [
            format_date(i.occurred_on, "d MMM yy", locale=loc),
            place_text,
            c.t(inc.CATEGORIES[i.category]),
            str(i.severity or "–"),
            c.t(inc.FOLLOWUP.get(i.status, i.status)),
            i.ref,
        ]
        lines.append(" · ".join(fields))
    buttons = []
    if offset > 0:
        buttons.append(Choice(f"tl:{max(0, offset - PAGE)}:{period}:{category}:{place}", c.t("◀ Previous")))
    if offset + PAGE < total:
        buttons.append(Choice(f"tl:{offset + PAGE}:{period}:{category}:{place}", c.t("Next ▶")))
    text = "\n".join(lines)
    if not buttons:
        return Done(text)
    return Next(STEP, Screen(text, (tuple(buttons),)))


TIMELINE = Flow(name="timeline", start=timeline, steps={STEP: turn_page}, commands=("timeline",))
