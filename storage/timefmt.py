"""Times are stored as fixed-width UTC ISO text so that SQL comparisons order them correctly."""

from __future__ import annotations

from datetime import UTC, datetime


def to_db(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    # isoformat rather than strftime: the same fixed-width text, in a third of the time (every
    # stored step of a conversation writes one or more).
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def from_db(text: str) -> datetime:
    return datetime.fromisoformat(text)  # understands the trailing Z since Python 3.11; 60x faster than strptime
