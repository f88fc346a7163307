"""Every conversation, and the rules that hold at any moment, wired in one place."""

from __future__ import annotations

from bot.flows import anytime, checkin, checkout, extend, followup, pin, report, shred, status
from bot.flows.engine import Engine
from bot.handlers import (
    alerts,
    drill,
    export,
    incident,
    lists,
    open_alerts,
    people,
    plan,
    risk,
    start,
    summary,
    team,
    timeline,
)


def build_engine() -> Engine:
    """The engine with every flow; a messenger's adapter feeds it."""
    flows = [
        checkin.FLOW,
        checkout.FLOW,
        extend.FLOW,
        status.STATUS,
        pin.FLOW,
        report.FLOW,
        report.FROM_ALERT,
        followup.FLOW,
        start.START,
        start.LANGUAGE,
        start.HELP_FLOW,
        team.TEAM,
        team.ACK,
        team.SAFE,
        alerts.ALERT,
        alerts.SUPPORT,
        timeline.TIMELINE,
        incident.INCIDENT,
        summary.SUMMARY,
        export.EXPORT,
        lists.FLOW,
        people.FLOW,
        open_alerts.ALERTS,
        shred.FLOW,
        drill.FLOW,
        plan.FLOW,
        risk.RISK,
    ]
    rules = (*anytime.RULES, shred.destroy_now)
    return Engine(flows, rules=rules, on_location=status.LOCATION, fallback=start.FALLBACK)
