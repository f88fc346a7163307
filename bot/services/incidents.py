"""Incident reports: the vocabulary, dates, filing a finished draft, follow-ups, and who may see what."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.i18n import N_
from bot.services import plan_cycle
from bot.services.alert_lifecycle import open_ladder_alert
from bot.services.escalation import tell
from config.org import Escalation
from storage import Person, Storage
from storage.incidents import Incident

CATEGORIES = {
    "threat": N_("Verbal abuse or threat"),
    "physical": N_("Physical violence"),
    "sexual": N_("Sexual harassment or assault"),
    "arrest": N_("Arrest or detention"),
    "police": N_("Police abuse or extortion"),
    "theft": N_("Robbery or theft (phone too)"),
    "blackmail": N_("Blackmail"),
    "outing": N_("Outing or exposure"),
    "materials": N_("Condoms or materials taken"),
    "online": N_("Online or digital attack"),
    "office": N_("Office break-in or vandalism"),
    "stalking": N_("Followed or stalked"),
    "discrimination": N_("Discrimination or refused service"),
    "other": N_("Other"),
}
AFFECTED = {
    "me": N_("Me"),
    "colleague": N_("A colleague"),
    "beneficiary": N_("A beneficiary"),
    "organization": N_("The organisation"),
}
WHEN = {"now": N_("Now"), "today": N_("Earlier today"), "yesterday": N_("Yesterday"), "date": N_("Another day")}
PLACE_KINDS = {
    "office": N_("Office or drop-in centre"),
    "online": N_("Online"),
    "transport": N_("Transport"),
    "other": N_("Other place"),
}
PERPETRATORS = {
    "police": N_("Police or security forces"),
    "client": N_("Client"),
    "venue": N_("Venue owner or staff"),
    "community": N_("Community member"),
    "family": N_("Family or partner"),
    "gang": N_("Criminal group"),
    "official": N_("Official"),
    "unknown": N_("Unknown"),
    "other": N_("Other"),
}
SEVERITIES = {
    "1": N_("1 – Low: upsetting, nobody hurt"),
    "2": N_("2 – Medium: harm or loss, no injury"),
    "3": N_("3 – High: injury, arrest or big loss"),
    "4": N_("4 – Critical: life in danger or serious injury"),
}
CRITICAL = 4  # "life in danger": the report raises an alert with the ladder of a missed check-out
# The short word for a severity, for summaries and exports ("Critical: 1, High: 3").
SEVERITY_LEVELS = {"4": N_("Critical"), "3": N_("High"), "2": N_("Medium"), "1": N_("Low")}
SUPPORT = {
    "medical": N_("Medical"),
    "legal": N_("Legal"),
    "psychological": N_("Emotional support"),
    "relocation": N_("A safe place to stay"),
    "none": N_("None"),
}
SUPPORT_KIND = {"medical": "medical", "legal": "legal", "psychological": "psychosocial", "relocation": "safe_place"}
AUTHORITIES = {"yes": N_("Yes"), "no": N_("No"), "afraid": N_("No, afraid to")}
ACCOUNT_KEPT = N_("Account: yes, managers can read it.")  # what anyone else sees of the worker's own words
FOLLOWUP = {
    "support_given": N_("Support given"),
    "referred": N_("Referred"),
    "legal_action": N_("Legal action"),
    "closed": N_("Closed"),
    "open": N_("Open"),
}

_DATE_FORMS = (
    re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})$"),
    re.compile(r"^(?P<d>\d{1,2})[/.-](?P<m>\d{1,2})(?:[/.-](?P<y>\d{2,4}))?$"),
)


def week_of(day: date) -> str:
    """The Monday of the week, as the clear, coarse date that summaries count by."""
    return (day - timedelta(days=day.weekday())).isoformat()


def parse_date(text: str, today: date) -> date | None:
    """ "2026-11-20", "20/11", "20/11/2026", "20.11.26"; not in the future, not over two years back."""
    cleaned = text.strip()
    for form in _DATE_FORMS:
        found = form.match(cleaned)
        if not found:
            continue
        year = int(found["y"]) if found["y"] else today.year
        if year < 100:
            year += 2000
        try:
            day = date(year, int(found["m"]), int(found["d"]))
        except ValueError:
            return None
        if not found["y"] and day > today:
            day = day.replace(year=day.year - 1)  # "20/12" typed in January means last December
        if day > today or day < today - timedelta(days=731):
            return None
        return day
    return None


def occurred_on(draft: dict[str, Any], now: datetime, tz: ZoneInfo) -> date:
    today = now.astimezone(tz).date()
    when = draft.get("when")
    if when == "yesterday":
        return today - timedelta(days=1)
    if when == "date" and draft.get("date"):
        return date.fromisoformat(draft["date"])
    return today


async def file_report(
    storage: Storage,
    worker: Person,
    draft: dict[str, Any],
    now: datetime,
    tz: ZoneInfo,
    esc: Escalation | None = None,
) -> Incident:
    """Store the finished report, drop the draft, and tell the team's supervisors (never the account).
    A critical one raises an alert instead of the notice: supervisors now, managers if nobody acknowledges."""
    day = occurred_on(draft, now, tz)
    fields = {
        k: draft.get(k)
        for k in (
            "category",
            "affected",
            "place_kind",
            "place",
            "perpetrator",
            "account",
            "support",
            "authorities",
            "checkin_id",
            "alert_id",
        )
    }
    fields["severity"] = int(draft["severity"]) if draft.get("severity") else None
    async with storage.db.tx() as tx:
        critical = None
        if fields["severity"] == CRITICAL:  # the incident links to its alert (a report after an alert: this one)
            critical = await open_ladder_alert(storage, tx, esc or Escalation(), worker, "critical_report", now)
            fields["alert_id"] = critical[0]
        incident = await storage.incidents.create(
            tx,
            org_id=worker.org_id,
            reporter_id=worker.id,
            team_id=worker.team_id,
            fields=fields,
            occurred_on=day,
            week=week_of(day),
            now=now,
        )
        await storage.incidents.drop_draft(tx, worker.id)
        if fields["severity"] == CRITICAL and incident.place:  # its place's security plans: an early review
            await plan_cycle.flag_place(storage, tx, worker.org_id, incident.place, incident.id, now)
        params = {
            "ref": incident.ref,
            "worker": worker.display,
            "category": incident.category,
            "severity": incident.severity,
            "place": incident.place,
            "place_kind": incident.place_kind,
            "has_account": bool(incident.account),
        }
        if critical is not None:
            alert_id, first, alert_params = critical
            await tell(storage, tx, alert_id, first, "alert", "first", alert_params | {"ref": incident.ref}, now)
            await storage.audit.record(
                tx, now, "alert.raise:critical_report", org_id=worker.org_id, actor_id=worker.id, subject_id=alert_id
            )
        elif worker.team_id:
            for supervisor in await storage.people.in_team(tx, worker.team_id, "supervisor"):
                await storage.outbox.enqueue(
                    tx,
                    key=f"inc:{incident.id}:{supervisor.id}",
                    recipient_id=supervisor.id,
                    kind="incident",
                    params=params,
                    now=now,
                )
        await storage.audit.record(
            tx, now, "incident.file", org_id=worker.org_id, actor_id=worker.id, subject_id=incident.id
        )
    return incident


def may_see(person: Person, incident: Incident) -> bool:
    """Workers their own; supervisors their team's; managers and admins their organisation's."""
    if person.org_id != incident.org_id or person.status != "active":
        return False
    if person.role in ("manager", "admin"):
        return True
    if person.role == "supervisor":
        return person.team_id is not None and person.team_id == incident.team_id
    return incident.reporter_id == person.id


def may_read_account(person: Person, incident: Incident) -> bool:
    """The worker's own words: managers and admins only, as the worker is told when typing them."""
    return person.role in ("manager", "admin") and may_see(person, incident)


def may_follow_up(person: Person, incident: Incident) -> bool:
    return person.role != "worker" and may_see(person, incident)


async def set_followup(
    storage: Storage, person: Person, incident: Incident, status: str, note: str | None, now: datetime
) -> None:
    async with storage.db.tx() as tx:
        await storage.incidents.set_status(tx, incident.id, status, person.id, note, now)
        await storage.audit.record(
            tx, now, f"incident.followup:{status}", org_id=incident.org_id, actor_id=person.id, subject_id=incident.id
        )
