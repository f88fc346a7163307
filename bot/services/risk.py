"""Risk by place from the record: a level per place from its incidents (weighted by severity and recency),
missed check-outs and alerts over 30 and 90 days ([risk] in the config, config/risk.py); kept beside the
level an admin set, the higher of the two used at check-in; a rise told once to managers and supervisors.

`compute` is a plain function over events (no SQL, no messenger); `refresh` is what the minute's sweep
runs, and it recomputes only when an incident or alert came in, or once an hour (recency moves slowly)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from bot.i18n import N_, tr
from bot.services import plan_cycle
from config import OrgConfig
from config.risk import LEVELS, RiskSettings
from storage import Storage
from storage.risk import Change, Event

# The words of the levels (the register, the notice, the map and the summary say them).
LEVEL_WORDS = {"low": N_("low"), "medium": N_("medium"), "high": N_("high")}
CHANGES_KEPT = timedelta(days=14)  # in the sealed state, for the weekly summary

RECENT, WINDOW = timedelta(days=30), timedelta(days=90)
RECOMPUTE_EVERY = timedelta(hours=1)
# At most this often when something came in: over 75,000 incidents in 90 days a recomputation holds the
# event loop about a second (bench/risk.py); a notice five minutes late costs nothing.
MIN_GAP = timedelta(minutes=5)
RISE = "risk_rise"  # the outbox kind of the notice


@dataclass
class PlaceRisk:
    key: str
    name: str = ""
    score: float = 0.0
    incidents30: int = 0
    incidents90: int = 0
    previous30: int = 0  # incidents 31-60 days ago: the trend compares the last 30 days with these
    critical30: int = 0
    missed30: int = 0
    alerts30: int = 0
    teams: set[str] = field(default_factory=set)
    level: str = "low"  # computed
    set_level: str | None = None  # what an admin set on the list, if it is a hotspot
    lat: float | None = None
    lon: float | None = None

    @property
    def shown(self) -> str:
        """The higher of the computed and the admin-set level."""
        return higher(self.level, self.set_level or "low")

    @property
    def trend(self) -> str:
        return "up" if self.incidents30 > self.previous30 else "down" if self.incidents30 < self.previous30 else "same"


def higher(a: str, b: str) -> str:
    return a if LEVELS.index(a) >= LEVELS.index(b) else b


def compute(events: list[Event], settings: RiskSettings, now: datetime) -> dict[str, PlaceRisk]:
    """Every place with an event in the last 90 days, with its score, counts and computed level."""
    places: dict[str, PlaceRisk] = defaultdict(lambda: PlaceRisk(""))
    weights = settings.severity_weights
    for e in events:
        age = now - e.at
        if age > WINDOW or age < -timedelta(days=1):
            continue
        p = places[e.place]
        p.key = e.place
        recent = age <= RECENT
        if e.kind == "incident":
            points = weights[e.severity - 1] if e.severity and 1 <= e.severity <= 4 else 1.0
            p.incidents90 += 1
            p.incidents30 += recent
            p.previous30 += (not recent) and age <= 2 * RECENT
            p.critical30 += recent and e.severity == 4
        elif e.kind == "missed":
            points = settings.missed_checkout_weight
            p.missed30 += recent
        else:
            points = settings.alert_weight
            p.alerts30 += recent
        p.score += points * (1.0 if recent else settings.older_weight)
        if e.team_id:
            p.teams.add(e.team_id)
    for p in places.values():
        p.level = settings.level(p.score)
    return dict(places)


async def places_now(storage: Storage, config: OrgConfig, org_id: str, now: datetime) -> list[PlaceRisk]:
    """Every hotspot (even a quiet one), and every typed place with events, with its levels and names."""
    async with storage.db.read() as tx:
        computed = compute(await storage.risk.events(tx, org_id, now - WINDOW), config.risk, now)
        by_key = {storage.risk.place_key(h.name): h for h in config.hotspots}
        unnamed = [k for k in computed if k not in by_key]
        names = await storage.incidents.place_names(tx, org_id, unnamed) if unnamed else {}
    result = []
    for key, hotspot in by_key.items():
        p = computed.get(key) or PlaceRisk(key)
        p.key, p.name, p.set_level, p.lat, p.lon = key, hotspot.name, hotspot.risk, hotspot.lat, hotspot.lon
        result.append(p)
    for key in unnamed:
        p = computed[key]
        p.name = names.get(key, "?")
        result.append(p)
    result.sort(key=lambda p: (-LEVELS.index(p.shown), -p.score, p.name.casefold()))
    return result


def visible(places: list[PlaceRisk], team_id: str | None, role: str) -> list[PlaceRisk]:
    """Managers and admins: every place; a supervisor: the places their team's workers reported at."""
    if role in ("manager", "admin"):
        return places
    return [p for p in places if team_id is not None and team_id in p.teams]


def checkin_level(
    storage: Storage, config: OrgConfig, name: str, set_level: str, pairs_set: bool, levels: dict[str, str]
) -> tuple[str, bool]:
    """The level a check-in at the place `name` uses (the higher of the admin's, or the default for a typed
    place, and the computed one), and whether two people are needed there (set on the list, or the computed
    level reaches [risk] pairs_from)."""
    computed = levels.get(storage.risk.place_key(name), "low")
    pairs_from = config.risk.pairs_from
    pairs = pairs_set or (pairs_from != "never" and LEVELS.index(computed) >= LEVELS.index(pairs_from))
    return higher(set_level, computed), pairs


async def refresh(storage: Storage, config: OrgConfig, now: datetime) -> int:
    """Recompute every organisation's levels if anything came in (or an hour passed); store them, and queue
    one notice per rise to the place's managers and supervisors. Returns how many were queued."""
    queued = 0
    async with storage.db.read() as tx:
        orgs = [org_id for org_id, _ in await storage.orgs.created(tx)]
    for org_id in orgs:
        async with storage.db.read() as tx:
            mark = await storage.risk.fingerprint(tx, org_id)
        last = storage.risk.computed.get(org_id)
        if last is not None:
            since = now - last[1]
            if since < MIN_GAP or (last[0] == mark and since < RECOMPUTE_EVERY):
                continue
        queued += await _recompute(storage, config, org_id, now)
        storage.risk.computed[org_id] = (mark, now)
    return queued


async def _recompute(storage: Storage, config: OrgConfig, org_id: str, now: datetime) -> int:
    """One organisation: compare with the stored levels and store the new ones, in one transaction with the
    notices (the outbox key names the place's digest, the level and the day: once per rise)."""
    places = await places_now(storage, config, org_id, now)
    queued = 0
    async with storage.db.tx() as tx:
        before = await storage.risk.state(tx, org_id)
        levels = {p.key: p.level for p in places}
        changes = _changes(await storage.risk.changes(tx, org_id), before, places, now)
        managers = await storage.people.with_role(tx, org_id, "manager")
        for p in places:
            if LEVELS.index(p.level) <= LEVELS.index(before.get(p.key, "low")):
                continue
            told = {m.id for m in managers}
            for team_id in sorted(p.teams):
                told |= {s.id for s in await storage.people.in_team(tx, team_id, "supervisor")}
            params = {
                "place": p.name,
                "level": p.level,
                "incidents": p.incidents30,
                "critical": p.critical30,
                "missed": p.missed30,
                "alerts": p.alerts30,
            }
            for person_id in sorted(told):
                queued += await storage.outbox.enqueue(
                    tx,
                    key=f"risk:{p.key[:24]}:{p.level}:{now.date().isoformat()}:{person_id}",
                    recipient_id=person_id,
                    kind=RISE,
                    params=params,
                    now=now,
                )
            # "Analyse risks after threats or incidents": the place's security plans are due for review.
            rise = f"risk:{p.key[:24]}:{p.level}:{now.date().isoformat()}"
            queued += await plan_cycle.flag_place(storage, tx, org_id, p.name, rise, now, plan_cycle.RISK_ROSE)
        await storage.risk.put_state(tx, org_id, levels, now, changes)
    return queued


def _changes(kept: list[Change], before: dict[str, str], places: list[PlaceRisk], now: datetime) -> list[Change]:
    """The changes of the last two weeks, and today's: every place whose level as the register shows it
    (the higher of the computed and the set one) went up or down."""
    since = (now - CHANGES_KEPT).date().isoformat()
    changes = [c for c in kept if c.day >= since]
    for p in places:
        old = higher(before.get(p.key, "low"), p.set_level or "low")
        if old != p.shown:
            changes.append(Change(now.date().isoformat(), p.name, old, p.shown))
    return changes


async def summary_lines(storage: Storage, org_id: str, today: date, locale: str) -> list[str]:
    """For a manager's weekly summary: the places whose level changed in the last 7 days."""
    async with storage.db.read() as tx:
        changes = await storage.risk.changes(tx, org_id)
    since = (today - timedelta(days=7)).isoformat()
    recent = [c for c in changes if c.day > since]
    shown = ", ".join(
        f"{c.place}: {tr(locale, LEVEL_WORDS[c.before])} → {tr(locale, LEVEL_WORDS[c.after])}" for c in recent
    )
    return [tr(locale, "Places whose risk level changed: {n} ({list})", n=len(recent), list=shown or "–")]


async def computed_levels(storage: Storage, org_id: str) -> dict[str, str]:
    """The levels last stored by `refresh` (what a check-in reads: one small sealed value)."""
    async with storage.db.read() as tx:
        return await storage.risk.state(tx, org_id)
