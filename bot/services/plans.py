"""Security plans (FHI 360 Tool 4, the New Protection Manual's plan table): for one place or activity,
the risk it addresses, its threats, vulnerabilities, existing and required capacity, and the actions
(measure, person responsible, cost, deadline, status), with an owner and a review date.

A plan is one sealed value (storage/plans.py); its file form is YAML (README shows an example), the same
keys as here. Everything a person gives is checked by `parse`: a bad field is one line (PlanError) and
nothing is stored.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

import yaml

from bot.i18n import N_
from config import OrgConfig
from storage import Person, Storage
from storage.ids import CODE_ALPHABET
from storage.plans import StoredPlan

MAX_FILE = 64 * 1024  # a plan's file (its YAML is a few KiB); the chat never fetches a larger upload either

STATUSES = ("todo", "doing", "done")
LISTS = ("threats", "vulnerabilities", "existing_capacity", "required_capacity")
FIELDS = ("id", "place", "activity", "risk", *LISTS, "actions", "owner", "review", "early_review")
ACTION_FIELDS = ("measure", "responsible", "cost", "deadline", "status")
MAX_TEXT = 500
MAX_ITEMS = 50
CODE = re.compile(rf"^[WSMA]-[{CODE_ALPHABET}]{{4}}$")
PLAN_ID = re.compile(rf"^P-[{CODE_ALPHABET}]{{5}}$")
SOON = timedelta(days=3)  # an action's responsible person is reminded this long before its deadline
REVIEW_SOON = timedelta(days=7)  # a plan's owner, before its review date
SUPERVISOR_WINDOW = timedelta(days=180)  # a supervisor's places: where their team checked in this long back

# Bad input, one line each (the field is named in the file's own words).
MISSING = N_("The plan has no {field}.")
BAD_DATE = N_("{field}: not a date. Write it like 2027-01-31.")
BAD_TEXT = N_("{field}: empty or too long.")
NO_RESPONSIBLE = N_("Action {n} has no person responsible.")
UNKNOWN_CODE = N_("{field}: no one has the code {code}.")
NO_PLACE = N_("There is no place called {place} on the list.")
PLACE_OR_ACTIVITY = N_("A plan is for a place or for an activity: give one of the two.")
BAD_STATUS = N_("Action {n}: the status is todo, doing or done.")
UNKNOWN_FIELD = N_("{field}: not a field of a plan.")
NOT_A_PLAN = N_("That file is not a plan in the documented form (YAML, see the README).")
NO_SUCH_PLAN = N_("There is no plan {id}.")
TOO_BIG = N_("That file is too big for a plan ({kib} KiB at most).")


class PlanError(Exception):
    """Bad input: `text` (a catalog message) with its values; nothing was changed."""

    def __init__(self, text: str, **values: Any) -> None:
        super().__init__(text.format(**values))
        self.text, self.values = text, values


@dataclass(frozen=True)
class Action:
    measure: str
    responsible: str  # an enrolled person's code, or a role in free text
    cost: str
    deadline: date
    status: str = "todo"


@dataclass(frozen=True)
class Plan:
    id: str | None
    place: str | None
    activity: str | None
    risk: str
    threats: tuple[str, ...]
    vulnerabilities: tuple[str, ...]
    existing_capacity: tuple[str, ...]
    required_capacity: tuple[str, ...]
    actions: tuple[Action, ...]
    owner: str
    review: date
    early_review: bool = False  # a critical incident at its place (bot/services/plan_cycle.py)
    subject: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "subject", self.place or self.activity or "")

    def next_due(self) -> date:
        """The earliest date something of this plan is to be reminded of (storage selects on it)."""
        open_deadlines = [a.deadline - SOON for a in self.actions if a.status != "done"]
        return min([self.review - REVIEW_SOON, *open_deadlines])

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("subject")
        d["review"] = self.review.isoformat()
        d["actions"] = [a | {"deadline": a["deadline"].isoformat()} for a in d["actions"]]
        for name in LISTS:
            d[name] = list(d[name])
        return d


def _text(value: Any, name: str, *, required: bool = True) -> str:
    if value is None or value == "":
        if required:
            raise PlanError(MISSING, field=name)
        return ""
    text = str(value).strip()
    if (required and not text) or len(text) > MAX_TEXT:
        raise PlanError(BAD_TEXT, field=name)
    return text


def _date(value: Any, name: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise PlanError(BAD_DATE, field=name) from None


def _items(value: Any, name: str) -> tuple[str, ...]:
    if value is None:
        raise PlanError(MISSING, field=name)
    items = value if isinstance(value, list) else [value]
    if len(items) > MAX_ITEMS:
        raise PlanError(BAD_TEXT, field=name)
    return tuple(_text(item, name) for item in items if str(item).strip())


def parse(doc: Any, config: OrgConfig) -> Plan:
    """A plan from its file form (or the chat's answers); PlanError on the first bad field."""
    if not isinstance(doc, dict):
        raise PlanError(NOT_A_PLAN)
    for key in doc:
        if key not in FIELDS:
            raise PlanError(UNKNOWN_FIELD, field=str(key)[:40])
    place, activity = doc.get("place"), doc.get("activity")
    if bool(place) == bool(activity):
        raise PlanError(PLACE_OR_ACTIVITY)
    if place:
        place = _place(str(place), config)
    actions = doc.get("actions")
    if actions is None:
        raise PlanError(MISSING, field="actions")
    if not isinstance(actions, list) or len(actions) > MAX_ITEMS:
        raise PlanError(NOT_A_PLAN)
    plan_id = doc.get("id")
    if plan_id is not None and not PLAN_ID.match(str(plan_id).upper()):
        raise PlanError(NO_SUCH_PLAN, id=str(plan_id)[:20])
    return Plan(
        id=str(plan_id).upper() if plan_id else None,
        place=place or None,
        activity=_text(activity, "activity") if activity else None,
        risk=_text(doc.get("risk"), "risk"),
        threats=_items(doc.get("threats"), "threats"),
        vulnerabilities=_items(doc.get("vulnerabilities"), "vulnerabilities"),
        existing_capacity=_items(doc.get("existing_capacity"), "existing_capacity"),
        required_capacity=_items(doc.get("required_capacity"), "required_capacity"),
        actions=tuple(parse_action(a, n) for n, a in enumerate(actions, 1)),
        owner=_code(doc.get("owner"), "owner"),
        review=_date(doc.get("review"), "review") if doc.get("review") is not None else _missing("review"),
        early_review=bool(doc.get("early_review", False)),
    )


def _missing(name: str) -> date:
    raise PlanError(MISSING, field=name)


def _place(name: str, config: OrgConfig) -> str:
    for hotspot in config.hotspots:
        if hotspot.name.casefold() == name.strip().casefold():
            return hotspot.name
    raise PlanError(NO_PLACE, place=name.strip()[:60])


def _code(value: Any, name: str) -> str:
    text = _text(value, name).upper()
    if not CODE.match(text):
        raise PlanError(UNKNOWN_CODE, field=name, code=text[:20])
    return text


def parse_action(doc: Any, n: int) -> Action:
    """One action; its person responsible is required (a code, or a role in words)."""
    if not isinstance(doc, dict):
        raise PlanError(NOT_A_PLAN)
    for key in doc:
        if key not in ACTION_FIELDS:
            raise PlanError(UNKNOWN_FIELD, field=str(key)[:40])
    if not str(doc.get("responsible") or "").strip():
        raise PlanError(NO_RESPONSIBLE, n=n)
    responsible = _text(doc.get("responsible"), "responsible")
    if CODE.match(responsible.upper()):
        responsible = responsible.upper()
    status = str(doc.get("status") or "todo").strip().lower()
    if status not in STATUSES:
        raise PlanError(BAD_STATUS, n=n)
    if doc.get("deadline") is None:
        raise PlanError(MISSING, field="deadline")
    return Action(
        measure=_text(doc.get("measure"), "measure"),
        responsible=responsible,
        cost=_text(doc.get("cost"), "cost", required=False),
        deadline=_date(doc.get("deadline"), "deadline"),
        status=status,
    )


def from_json(stored: StoredPlan) -> Plan:
    """A stored plan (it was checked when stored: its place may since have left the list)."""
    d = json.loads(stored.data)
    actions = tuple(
        Action(a["measure"], a["responsible"], a["cost"], date.fromisoformat(a["deadline"]), a["status"])
        for a in d["actions"]
    )
    return Plan(
        id=stored.id,
        place=d.get("place"),
        activity=d.get("activity"),
        risk=d["risk"],
        threats=tuple(d["threats"]),
        vulnerabilities=tuple(d["vulnerabilities"]),
        existing_capacity=tuple(d["existing_capacity"]),
        required_capacity=tuple(d["required_capacity"]),
        actions=actions,
        owner=d["owner"],
        review=date.fromisoformat(d["review"]),
        early_review=bool(d.get("early_review")),
    )


def to_yaml(plan: Plan) -> str:
    """The plan's file: YAML, keys in the table's order, empty values left out."""
    d = {k: v for k, v in plan.to_dict().items() if v not in (None, False)}
    return yaml.safe_dump(d, allow_unicode=True, sort_keys=False, width=100)


def from_yaml(text: str, config: OrgConfig) -> Plan:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError:
        raise PlanError(NOT_A_PLAN) from None
    return parse(doc, config)


def from_file(data: bytes, config: OrgConfig) -> Plan:
    """A plan from its file's bytes (UTF-8 YAML, at most MAX_FILE): the CLI's import and the chat's."""
    if len(data) > MAX_FILE:
        raise PlanError(TOO_BIG, kib=MAX_FILE // 1024)
    try:
        text = data.decode("utf-8-sig")  # a laptop's editor may add a byte-order mark
    except UnicodeDecodeError:
        raise PlanError(NOT_A_PLAN) from None
    return from_yaml(text, config)


async def import_file(
    storage: Storage, org_id: str, data: bytes, config: OrgConfig, actor_id: str | None, now: datetime
) -> Plan:
    """An edited (its id) or new plan from a file, checked whole and saved (audit-logged); PlanError
    on the first bad field, and nothing is stored."""
    return await save(storage, org_id, from_file(data, config), actor_id, now)


def new_plan_id() -> str:
    """Random: an id says nothing of how many plans there are."""
    return "P-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(5))


async def check_person(storage: Storage, org_id: str, name: str, code: str) -> None:
    """A code must be an active person's of this organisation (a role in words passes, except for owners)."""
    text = code.strip().upper()
    if not CODE.match(text):
        if name == "owner":
            raise PlanError(UNKNOWN_CODE, field=name, code=text[:20])
        return
    async with storage.db.read() as tx:
        person = await storage.people.by_code(tx, org_id, text)
    if person is None or person.status != "active":
        raise PlanError(UNKNOWN_CODE, field=name, code=text)


async def save(storage: Storage, org_id: str, plan: Plan, actor_id: str | None, now: datetime) -> Plan:
    """Store a new plan or replace one (its owner and coded persons must be enrolled here); audit-logged."""
    for name, code in [("owner", plan.owner)] + [("responsible", a.responsible) for a in plan.actions]:
        await check_person(storage, org_id, name, code)
    async with storage.db.tx() as tx:
        if plan.id is not None and await storage.plans.get(tx, org_id, plan.id) is None:
            raise PlanError(NO_SUCH_PLAN, id=plan.id)
        stored = replace(plan, id=plan.id or new_plan_id())
        assert stored.id is not None
        data = json.dumps(stored.to_dict(), ensure_ascii=False)
        await storage.plans.put(tx, stored.id, org_id, data, stored.place, stored.next_due(), now)
        await storage.audit.record(tx, now, "plan.save", org_id=org_id, actor_id=actor_id, subject_id=stored.id)
    return stored


async def get(storage: Storage, org_id: str, plan_id: str) -> Plan | None:
    async with storage.db.read() as tx:
        stored = await storage.plans.get(tx, org_id, plan_id.strip().upper())
    return None if stored is None else from_json(stored)


async def visible(storage: Storage, person: Person, now: datetime) -> list[Plan]:
    """The active plans this person may see: managers and admins all; a supervisor those of places where
    their team's workers checked in over the last 180 days; a worker none."""
    if person.role in ("manager", "admin"):
        async with storage.db.read() as tx:
            return [from_json(s) for s in await storage.plans.all(tx, person.org_id)]
    if person.role != "supervisor" or person.team_id is None:
        return []
    async with storage.db.read() as tx:
        plans = [from_json(s) for s in await storage.plans.all(tx, person.org_id)]
        places = await storage.checkins.places_of_team(tx, person.team_id, now - SUPERVISOR_WINDOW)
    folded = {p.casefold() for p in places}
    return [p for p in plans if p.place is not None and p.place.casefold() in folded]


async def archive(storage: Storage, org_id: str, plan_id: str, actor_id: str | None, now: datetime) -> None:
    async with storage.db.tx() as tx:
        if not await storage.plans.archive(tx, org_id, plan_id.strip().upper(), now):
            raise PlanError(NO_SUCH_PLAN, id=plan_id.strip()[:20])
        await storage.audit.record(tx, now, "plan.archive", org_id=org_id, actor_id=actor_id, subject_id=plan_id)
