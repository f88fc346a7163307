"""The escalation ladder of a check-in, as plain time arithmetic (no Telegram, no SQL).

reminder (deadline - reminder_before) -> "check out or extend?" (deadline)
-> alert to supervisors (deadline + grace) -> managers too (alert + ack_timeout),
repeating every repeat_every until someone acknowledges.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from config.org import Escalation
from storage.checkins import STAGE_ALERTED, STAGE_DUE, STAGE_OPEN, STAGE_REMINDED

MAX_CHECKIN = timedelta(hours=12)


def step_times(deadline: datetime, esc: Escalation) -> dict[int, datetime]:
    """When each stage is reached."""
    return {
        STAGE_REMINDED: deadline - esc.reminder_before,
        STAGE_DUE: deadline,
        STAGE_ALERTED: deadline + esc.grace,
    }


def stage_at(deadline: datetime, esc: Escalation, now: datetime) -> int:
    """The highest stage whose time has come (after downtime the ladder jumps, it does not replay)."""
    reached = STAGE_OPEN
    for stage, at in step_times(deadline, esc).items():
        if at <= now:
            reached = stage
    return reached


def next_step_at(stage: int, deadline: datetime, esc: Escalation) -> datetime | None:
    """When the stage after `stage` falls due; None once the alert is raised."""
    times = step_times(deadline, esc)
    return times.get(stage + 1)


def fresh_schedule(deadline: datetime, esc: Escalation, now: datetime) -> tuple[int, datetime | None]:
    """Stage and next step for a new or extended deadline; a reminder too close to now is skipped."""
    stage = stage_at(deadline, esc, now)
    if stage == STAGE_REMINDED and deadline - now < esc.reminder_before:
        stage = STAGE_REMINDED  # the reminder moment has passed: the next thing is the deadline itself
    return stage, next_step_at(stage, deadline, esc)


def parse_worker_duration(text: str) -> timedelta | None:
    """What a worker may type: "45" (minutes), "45m", "1h30", "1h30m", "2h", "1m"; up to 12 h."""
    cleaned = text.strip().lower().replace(" ", "")
    if not cleaned or len(cleaned) > 12:
        return None
    hours = minutes = 0
    try:
        if cleaned.isdigit():
            minutes = int(cleaned)
        elif "h" in cleaned:
            head, _, tail = cleaned.partition("h")
            hours = int(head)
            tail = tail.removesuffix("min").removesuffix("m")
            minutes = int(tail) if tail else 0
            if not 0 <= minutes < 60:
                return None
        elif cleaned.endswith(("min", "m")):
            minutes = int(cleaned.removesuffix("min").removesuffix("m"))
        else:
            return None
    except ValueError:
        return None
    total = timedelta(hours=hours, minutes=minutes)
    if total <= timedelta(0) or total > MAX_CHECKIN:
        return None
    return total
