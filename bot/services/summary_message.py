"""The weekly summary as a person reads it: its text and its chart, in their language."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

from bot.chart import ChartTexts, weekly_chart
from bot.i18n import N_, tr
from bot.services import incidents as inc
from bot.services import plan_cycle, risk
from bot.services.summary import Summary, build
from config import OrgConfig
from storage import Person, Storage

CHART_TITLE = N_("Incidents per week, by type")

# Below this many incidents a week on average, a percentage misleads ("+300%" on 0.25): counts instead.
MEANINGFUL_AVERAGE = 5


def change_line(s: Summary, locale: str) -> str:
    """This week against the 4 before: a percentage on a big enough average, else the counts."""
    if s.previous_average >= MEANINGFUL_AVERAGE:
        return tr(
            locale,
            "Compared with the 4 weeks before (average {avg:.1f}): {change}",
            avg=s.previous_average,
            change="–" if s.change is None else f"{s.change:+.0%}",
        )
    low, high = (min(s.previous_weeks), max(s.previous_weeks)) if s.previous_weeks else (0, 0)
    usual = str(low) if low == high else f"{low}–{high}"
    return tr(locale, "Compared with the 4 weeks before: {n} (usually about {usual}).", n=s.total, usual=usual)


def severity_list(s: Summary, locale: str) -> str:
    """ "Critical: 1, High: 3": the gravest first, each by its word."""
    shown = [
        f"{tr(locale, label)}: {s.by_severity[int(level)]}"
        for level, label in inc.SEVERITY_LEVELS.items()
        if s.by_severity.get(int(level))
    ]
    return ", ".join(shown) or "–"


def summary_text(s: Summary, locale: str) -> str:
    def counts(counter: object, table: dict[str, str] | None = None) -> str:
        items = counter.most_common() if hasattr(counter, "most_common") else []
        if not items:
            return "–"
        return ", ".join(f"{tr(locale, table[k]) if table and k in table else k} {n}" for k, n in items)

    def minutes(delta: timedelta | None) -> str:
        return "–" if delta is None else tr(locale, "{n} min", n=int(delta.total_seconds() // 60))

    lines = [
        tr(locale, "Week of {week}. Incidents: {n}.", week=s.week.isoformat(), n=s.total),
        change_line(s, locale),
        tr(locale, "By type: {list}", list=counts(s.by_category, inc.CATEGORIES)),
        tr(locale, "By severity: {list}", list=severity_list(s, locale)),
        tr(locale, "By place: {list}", list=counts(s.by_place)),
        tr(locale, "By who did it: {list}", list=counts(s.by_perpetrator, inc.PERPETRATORS)),
        tr(locale, "Missed check-outs: {missed}. Alerts: {alerts}.", missed=s.missed_checkouts, alerts=s.alerts_raised),
        tr(locale, "Drills: {n}.", n=s.drills),
        tr(
            locale,
            "Time to acknowledge: median {median}, worst {worst}.",
            median=minutes(s.ack_median),
            worst=minutes(s.ack_worst),
        ),
        tr(locale, "Open follow-ups: {n}", n=s.open_followups),
        tr(
            locale,
            "Places with most incidents (12 weeks): {list}",
            list=", ".join(f"{name} {n}" for name, n in s.risky_places) or "–",
        ),
    ]
    return "\n".join(lines)


async def summary_message(
    storage: Storage, config: OrgConfig, person: Person, week: date, today: date | None = None
) -> tuple[str, bytes]:
    """One summary for one person (a supervisor's covers their team): its text and its chart (PNG).
    A manager's also says which security plans have overdue actions or are due for review (as of `today`)."""
    summary = await build(
        storage, person.org_id, week, config.tz, team_id=person.team_id if person.role == "supervisor" else None
    )
    loc = person.locale
    labels = {k: tr(loc, v) for k, v in inc.CATEGORIES.items()}
    texts = ChartTexts(
        title=tr(loc, CHART_TITLE), x_axis=tr(loc, N_("Week starting")), y_axis=tr(loc, N_("Incidents")), locale=loc
    )
    # Drawing takes a few hundred ms: off the event loop, so alerts keep flowing meanwhile.
    png = await asyncio.to_thread(weekly_chart, summary.weekly, labels, texts)
    text = summary_text(summary, loc)
    if person.role in ("manager", "admin"):
        day = today or week + timedelta(weeks=1)
        text += "\n" + "\n".join(await plan_cycle.summary_lines(storage, person.org_id, day, loc))
        text += "\n" + "\n".join(await risk.summary_lines(storage, person.org_id, day, loc))
    return text, png
