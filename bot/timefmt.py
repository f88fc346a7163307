"""Dates and times as a person reads them: in the organisation's time zone, in their language."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time

from storage.timefmt import from_db


def parse(value: str | datetime) -> datetime:
    if isinstance(value, datetime):
        return value
    try:
        return from_db(value)
    except ValueError:
        return datetime.fromisoformat(value)


def when(value: str | datetime, locale: str, tz: ZoneInfo, now: datetime | None = None) -> str:
    """ "14:05", or "24 nov, 14:05" when it is not today in the organisation's time zone."""
    moment = parse(value).astimezone(tz)
    today = now is not None and now.astimezone(tz).date() == moment.date()
    return _local(moment.replace(second=0, microsecond=0, tzinfo=None), locale, today)


@lru_cache(maxsize=4096)
def _local(moment: datetime, locale: str, today: bool) -> str:
    """Cached by the minute: Babel takes longer than the rest of a check-in step to format one."""
    clock = format_time(moment, format="short", locale=locale)
    if today:
        return clock
    return f"{format_date(moment, format='d MMM', locale=locale)}, {clock}"


def minutes(delta: timedelta) -> int:
    return max(0, int(delta.total_seconds() // 60))
