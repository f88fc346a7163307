"""Texts and buttons of queued messages, rendered at send time in the recipient's language."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.flows.model import Rows, rows
from bot.i18n import N_, tr
from bot.services.incidents import ACCOUNT_KEPT, CATEGORIES, PLACE_KINDS
from bot.services.risk import LEVEL_WORDS
from bot.timefmt import when
from config.org import OrgConfig

HEADLINES = {
    "red": N_("URGENT: {worker} sent the red code and needs help now."),
    "duress": N_("URGENT: {worker} checked out with the duress PIN. They may be forced. Do not call them first."),
    "yellow": N_("{worker} sent the yellow code: please call or message them."),
    "critical_report": N_("URGENT: {worker} sent report {ref}: life in danger or serious injury."),
}
DRILL = N_("DRILL: practice only, nobody is in danger.")  # first line of every message about a drill
DRILL_ALERT = N_("Drill alert about {worker}. Answer it as you would a real alert.")
DRILL_DUE = N_(
    "No alert drill for {days} days. Ask a supervisor or an admin to run one: /drill and a worker's code."
    " It reaches everyone marked as a drill; the worker is not told."
)
RESUME = N_("You have a report that is not sent yet. Continue with /report.")
DROPPED = N_("Your unfinished report was deleted after 24 hours. You can start again with /report.")
# A worker's plan reminders name no plan and nothing of it (a seized phone), and leave at clean-up.
PLAN_TEXTS = {
    "plan_action": N_("Reminder: a task you agreed to do is due on {date}."),
    "plan_overdue": N_("A task you agreed to do was due on {date}. Please tell your coordinator how it went."),
    "plan_review": N_("Plan {plan} is due for review on {date}: /plan {plan}"),
    "plan_flagged": N_(
        "Plan {plan} should be reviewed early: a critical incident was reported at its place. /plan {plan}"
    ),
    "plan_risk_rose": N_("Plan {plan} should be reviewed early: the risk at its place rose. /plan {plan}"),
}
PLAN_ACTIONS = ("plan_action", "plan_overdue")
RESOLUTIONS = {
    "green": N_("{worker} says all is good now. The alert is closed."),
    "late_checkout": N_("{worker} checked out. The alert is closed."),
    "worker_extended": N_("{worker} answered and extended their time. The alert is closed."),
    "reached_safe": N_("{by} reached {worker}: they are safe. The alert is closed."),
    "revoked": N_(
        "The alert about {worker} is closed because an admin revoked their access to this bot."
        " If they may still be in danger, reach them another way."
    ),
}


def checkin_buttons(locale: str, checkin_id: str) -> Rows:
    return rows([(tr(locale, "Check out"), f"co:ask:{checkin_id}"), (tr(locale, "Extend"), f"ext:ask:{checkin_id}")])


def alert_buttons(locale: str, alert_id: str) -> Rows:
    return rows(
        [(tr(locale, "I'm handling it"), f"ack:{alert_id}")],
        [(tr(locale, "Reached them, they are safe"), f"safe:{alert_id}")],
    )


def _drill_mark(p: dict[str, Any], locale: str, text: str) -> str:
    """A message about a drill says so on its first line, whoever reads it."""
    return tr(locale, DRILL) + "\n" + text if p.get("kind") == "drill" else text


def _alert_text(p: dict[str, Any], locale: str, tz: ZoneInfo, now: datetime) -> str:
    lines = [tr(locale, DRILL)] if p.get("kind") == "drill" else []
    if p.get("closed"):  # the message edited once the alert closed (bot.services.escalation.hide_locations)
        lines.append(tr(locale, "Alert closed. The location was removed from this message."))
    if p.get("repeat"):
        lines.append(tr(locale, "Still no answer (reminder {n}).", n=p["repeat"]))
    if p.get("escalated"):
        lines.append(tr(locale, "Nobody has acknowledged this yet."))
    kind = p.get("kind", "missed_checkout")
    if kind == "missed_checkout":
        lines.append(
            tr(locale, "Missed check-out: {worker} at {place}.", worker=p["worker"], place=p.get("place", "?"))
        )
    elif kind == "drill":  # no place, no check-in: a drill shows nothing real about the worker
        lines.append(tr(locale, DRILL_ALERT, worker=p["worker"]))
        if p.get("raised"):
            lines.append(tr(locale, "Sent: {time}", time=when(p["raised"], locale, tz, now)))
        return "\n".join(lines)
    else:
        lines.append(tr(locale, HEADLINES[kind], worker=p["worker"], ref=p.get("ref", "?")))
        if kind == "critical_report":  # the report's reference, never its account
            lines.append(tr(locale, "Details: /incident {ref}", ref=p.get("ref", "?")))
        if p.get("raised"):
            lines.append(tr(locale, "Sent: {time}", time=when(p["raised"], locale, tz, now)))
        lines.append(tr(locale, "Place: {place}", place=p.get("place") or tr(locale, "not checked in")))
    if not p.get("checkin_id"):
        return "\n".join(lines)
    partner = p.get("partner") or tr(locale, "alone")
    lines.append(tr(locale, "With: {partner}", partner=partner))
    if p.get("started"):
        lines.append(tr(locale, "Checked in: {time}", time=when(p["started"], locale, tz, now)))
    if p.get("deadline"):
        lines.append(tr(locale, "Expected back: {time}", time=when(p["deadline"], locale, tz, now)))
    if p.get("location"):
        lines.append(
            tr(
                locale,
                "Last location: {location} ({time})",
                location=p["location"],
                time=when(p["location_at"], locale, tz, now),
            )
        )
    return "\n".join(lines)


def risk_rise_text(p: dict[str, Any], locale: str) -> str:
    """Why a place's level rose: the counts of the last 30 days."""
    lines = [tr(locale, "Risk at {place} is now {level}.", place=p["place"], level=tr(locale, LEVEL_WORDS[p["level"]]))]
    lines.append(tr(locale, "Incidents in 30 days: {n} ({k} critical).", n=p["incidents"], k=p["critical"]))
    if p.get("missed") or p.get("alerts"):
        lines.append(
            tr(locale, "Missed check-outs: {missed}. Alerts: {alerts}.", missed=p["missed"], alerts=p["alerts"])
        )
    return "\n".join([*lines, tr(locale, "The register: /risk")])


def render(
    kind: str, p: dict[str, Any], locale: str, tz: ZoneInfo, now: datetime, config: OrgConfig | None = None
) -> tuple[str, Rows]:
    """(text, choices) for one outbox message; no choices: ()."""
    if config is not None and p.get("place"):
        p = p | {"place": config.place_label(p["place"], locale)}
    if kind == "reminder":
        text = tr(
            locale,
            "Reminder: your time at {place} ends at {time}.",
            place=p["place"],
            time=when(p["deadline"], locale, tz, now),
        )
        return text, checkin_buttons(locale, p["checkin_id"])
    if kind == "due":
        text = tr(
            locale,
            "Your time at {place} is over ({time}). Check out, or extend?",
            place=p["place"],
            time=when(p["deadline"], locale, tz, now),
        )
        return text, checkin_buttons(locale, p["checkin_id"])
    if kind == "alert":
        return _alert_text(p, locale, tz, now), alert_buttons(locale, p["alert_id"])
    if kind == "alert_acked":
        text = tr(locale, "{by} is handling the alert about {worker}.", by=p["by"], worker=p["worker"])
        return _drill_mark(p, locale, text), ()
    if kind == "alert_closed":
        template = RESOLUTIONS.get(p.get("resolution", ""), N_("The alert about {worker} is closed."))
        return _drill_mark(p, locale, tr(locale, template, worker=p["worker"], by=p.get("by") or "")), ()
    if kind == "drill_reminder":
        return tr(locale, DRILL_DUE, days=p["days"]), ()
    if kind == "risk_rise":
        return risk_rise_text(p, locale), ()
    if kind == "alone":
        text = tr(
            locale,
            "{worker} checked in alone at {place}, where two people are needed. Until {time}.",
            worker=p["worker"],
            place=p["place"],
            time=when(p["deadline"], locale, tz, now),
        )
        return text, ()
    if kind == "incident":
        place = p.get("place") or tr(locale, PLACE_KINDS.get(p.get("place_kind") or "", "–"))
        text = tr(
            locale,
            "New report {ref} from {worker}: {category}. Severity: {severity}. Place: {place}.",
            ref=p["ref"],
            worker=p["worker"],
            category=tr(locale, CATEGORIES.get(p["category"], p["category"])),
            severity=p.get("severity") or "–",
            place=place,
        )
        if p.get("has_account"):  # that there is one, never its words
            text += "\n" + tr(locale, ACCOUNT_KEPT)
        return text + "\n" + tr(locale, "Details: /incident {ref}", ref=p["ref"]), ()
    if kind == "new_place":
        return tr(
            locale,
            "A worker checked in at a place that is not on the list: {place}. "
            "If it is used often, add it to the hotspots in the config.",
            place=p["place"],
        ), ()
    if kind == "draft_reminder":
        return tr(locale, RESUME), ()
    if kind == "draft_dropped":
        return tr(locale, DROPPED), ()
    if kind in PLAN_TEXTS:
        text = tr(locale, PLAN_TEXTS[kind], date=p.get("date", ""), plan=p.get("plan", ""))
        return (text + "\n/plan " + p["plan"] if p.get("plan") and kind in PLAN_ACTIONS else text), ()
    if kind == "after_alert":
        # The worker's phone may be in someone else's hands: a neutral line, contacts only on /support.
        text = tr(locale, "All settled. Thank you.")
        return text, rows([(tr(locale, "Write a note"), f"rp:alert:{p['alert_id']}")])
    raise ValueError(f"unknown outbox kind {kind!r}")
