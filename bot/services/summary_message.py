"""The weekly summary as a person reads it: its text and its chart, in their language."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

from bot.chart import weekly_chart
from bot.i18n import tr
from bot.services import incidents as inc
from bot.services.summary import Summary, build
from config import OrgConfig
from storage import Person, Storage


def summary_text(s: Summary, locale: str) -> str:
    def counts(counter: object, table: dict[str, str] | None = None) -> str:
        items = counter.most_common() if hasattr(counter, "most_common") else []
        if not items:
            return "–"
        return ", ".join(f"{tr(locale, table[k]) if table and k in table else k} {n}" for k, n in items)

    def minutes(delta: timedelta | None) -> str:
        return "–" if delta is None else tr(locale, "{n} min", n=int(delta.total_seconds() // 60))

    change = "–" if s.change is None else f"{s.change:+.0%}"
    lines = [
        tr(locale, "Week of {week}. Incidents: {n}.", week=s.week.isoformat(), n=s.total),
        tr(
            locale,
            "Compared with the 4 weeks before (average {avg:.1f}): {change}",
            avg=s.previous_average,
            change=change,
        ),
        tr(locale, "By type: {list}", list=counts(s.by_category, inc.CATEGORIES)),
        tr(locale, "By severity: {list}", list=counts(s.by_severity)),
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


async def summary_message(storage: Storage, config: OrgConfig, person: Person, week: date) -> tuple[str, bytes]:
    """One summary for one person (a supervisor's covers their team): its text and its chart (PNG)."""
    summary = await build(
        storage, person.org_id, week, config.tz, team_id=person.team_id if person.role == "supervisor" else None
    )
    loc = person.locale
    labels = {k: tr(loc, v) for k, v in inc.CATEGORIES.items()}
    # Drawing takes a few hundred ms: off the event loop, so alerts keep flowing meanwhile.
    png = await asyncio.to_thread(weekly_chart, summary.weekly, labels, tr(loc, "Incidents per week, by type"))
    return summary_text(summary, loc), png
