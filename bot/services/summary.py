"""The weekly incident summary as numbers: plain functions over clear statistics rows."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.services.incidents import week_of
from storage import Storage
from storage.alerts import Alert
from storage.incidents import Filters, StatRow

WEEKS_OF_HISTORY = 12


@dataclass
class Summary:
    week: date
    total: int = 0
    by_category: Counter[str] = field(default_factory=Counter)
    by_severity: Counter[int] = field(default_factory=Counter)
    by_place: Counter[str] = field(default_factory=Counter)  # place names (opened once per place)
    by_perpetrator: Counter[str] = field(default_factory=Counter)
    previous_average: float = 0.0
    previous_weeks: list[int] = field(default_factory=list)  # incidents in each of the 4 weeks before
    missed_checkouts: int = 0
    alerts_raised: int = 0  # real alerts: drills are counted apart
    drills: int = 0
    ack_median: timedelta | None = None
    ack_worst: timedelta | None = None
    open_followups: int = 0
    risky_places: list[tuple[str, int]] = field(default_factory=list)
    weekly: dict[str, Counter[str]] = field(default_factory=dict)  # week -> category counts, 12 weeks

    @property
    def change(self) -> float | None:
        """Change against the average of the four weeks before, as a fraction (None if no history)."""
        if self.previous_average == 0:
            return None
        return (self.total - self.previous_average) / self.previous_average


def weeks_back(week: date, n: int) -> list[str]:
    return [(week - timedelta(weeks=i)).isoformat() for i in range(n - 1, -1, -1)]


def compute(rows: list[StatRow], alerts: list[Alert], week: date, open_followups: int) -> tuple[Summary, Counter[str]]:
    """The numbers for `week` (a Monday); second value: incidents per place key over 12 weeks."""
    this = week.isoformat()
    summary = Summary(week=week, open_followups=open_followups)
    history = weeks_back(week, WEEKS_OF_HISTORY)
    summary.weekly = {w: Counter() for w in history}
    places: Counter[str] = Counter()
    previous = Counter(r.week for r in rows if r.week in history[-5:-1])
    for r in rows:
        if r.week in summary.weekly:
            summary.weekly[r.week][r.category] += 1
            if r.place_key:
                places[r.place_key] += 1
        if r.week == this:
            summary.total += 1
            summary.by_category[r.category] += 1
            if r.severity:
                summary.by_severity[r.severity] += 1
            if r.place_key:
                summary.by_place[r.place_key] += 1
            if r.perpetrator:
                summary.by_perpetrator[r.perpetrator] += 1
    summary.previous_weeks = [previous.get(w, 0) for w in history[-5:-1]]
    summary.previous_average = sum(previous.values()) / 4
    real = [a for a in alerts if a.kind != "drill"]  # a drill is practice: never counted as an alert
    summary.drills = len(alerts) - len(real)
    summary.alerts_raised = len(real)
    summary.missed_checkouts = sum(1 for a in real if a.kind == "missed_checkout")
    waits = sorted(a.acknowledged_at - a.raised_at for a in real if a.acknowledged_at)
    if waits:
        summary.ack_median = statistics.median_low(waits)
        summary.ack_worst = waits[-1]
    return summary, places


async def build(storage: Storage, org_id: str, week: date, tz: ZoneInfo, team_id: str | None = None) -> Summary:
    """Read what the summary needs (no sealed field but one name per place) and compute it."""
    history = weeks_back(week, WEEKS_OF_HISTORY)
    start = datetime.combine(week, datetime.min.time(), tzinfo=tz)
    async with storage.db.scan() as tx:
        rows = await storage.incidents.stats(
            tx, Filters(org_id=org_id, team_id=team_id, since_week=history[0], until_week=week.isoformat())
        )
        alerts = await storage.alerts.raised_between(tx, org_id, start, start + timedelta(weeks=1), team_id)
        open_followups = await storage.incidents.open_followups(tx, org_id, team_id)
        summary, places = compute(rows, alerts, week, open_followups)
        keys = list({*summary.by_place, *dict(places.most_common(5))})
        names = await storage.incidents.place_names(tx, org_id, keys)
    summary.by_place = Counter({names.get(k, "?"): n for k, n in summary.by_place.items()})
    summary.risky_places = [(names.get(k, "?"), n) for k, n in places.most_common(5)]
    return summary


def this_week(now: datetime, tz: ZoneInfo) -> date:
    return date.fromisoformat(week_of(now.astimezone(tz).date()))
