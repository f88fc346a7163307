"""Dates and times as a person reads them: in the organisation's time zone, in their language."""

from __future__ import annotations

from datetime import datetime, timedelta
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
    clock = format_time(moment, format="short", locale=locale)
    if now is not None and now.astimezone(tz).date() == moment.date():
        return clock
    return f"{format_date(moment, format='d MMM', locale=locale)}, {clock}"


def minutes(delta: timedelta) -> int:
    return max(0, int(delta.total_seconds() // 60))
