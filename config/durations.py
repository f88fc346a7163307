"""Parse the human durations used in the config and typed by workers ("45s", "10m", "1h30m")."""

from __future__ import annotations

import re
from datetime import timedelta

_PART = re.compile(r"(\d+)\s*([dhms])")
_WHOLE = re.compile(r"^(\s*\d+\s*[dhms]\s*)+$")


def parse_duration(text: str) -> timedelta:
    """Return the duration written as e.g. "45s", "10m", "1h30m", "90d"; raise ValueError otherwise."""
    if not isinstance(text, str):
        raise ValueError("not a duration")
    cleaned = text.strip().lower()
    if not cleaned or not _WHOLE.match(cleaned):
        raise ValueError("not a duration")
    seconds = 0
    for number, unit in _PART.findall(cleaned):
        seconds += int(number) * {"d": 86400, "h": 3600, "m": 60, "s": 1}[unit]
    if seconds <= 0:
        raise ValueError("duration must be positive")
    return timedelta(seconds=seconds)
