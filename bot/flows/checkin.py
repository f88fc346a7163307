"""/checkin: place -> partner -> expected duration -> optional location -> one confirmation.

The check-in is stored as soon as its time is chosen: from there the worker is covered, even if
they put the phone away at the optional location question or go on to something else.
"""

from __future__ import annotations

from datetime import timedelta

from bot.flows.common import is_worker, location_text, not_a_worker
from bot.flows.model import LOCATION, TEXT, Ctx, Done, Flow, Input, Next, Result, Screen, Stay, rows
from bot.i18n import N_
from bot.services.checkins import NewCheckin, Outcome, open_checkin, set_location
from bot.services.ladder import MAX_CHECKIN, parse_worker_duration
from bot.services.lists import change as change_lists
from bot.services.risk import checkin_level, computed_levels
from bot.timefmt import when
from config.errors import ConfigError
from config.lists import NotOnList, set_coords
from storage.checkins import Checkin

PLACE, PLACE_TEXT, PARTNER, ALONE, DURATION, WHERE = (
    "place",
    "place_text",
    "partner",
    "alone",
    "duration",
    "location",
)
MAX_PARTNERS = 40  # Telegram refuses a keyboard of more than 100 buttons
DURATIONS = ((30, N_("30 min")), (60, N_("1 h")), (120, N_("2 h")), (180, N_("3 h")))
ADVICE = {
    "high": N_("High-risk place: stay with your partner, keep your phone charged, know your way out."),
    "medium": N_("Stay alert and keep your phone at hand."),
    "low": N_("Have a good shift."),
}
DURATION_EXAMPLE = N_("Write the time like 45, 45m or 1h30 (up to 12 hours).")
KEPT = N_("Until {time}.")  # what stays on the phone: no place, no advice


def checkin_choices(c: Ctx, checkin_id: str) -> tuple:
    """The buttons under a check-in: check out, more time."""
    return rows([(c.t("Check out"), f"co:ask:{checkin_id}"), (c.t("Extend"), f"ext:ask:{checkin_id}")])


async def start(c: Ctx, inp: Input) -> Result:
    """Offer the places, the worker's recent ones first; or check-out/extend if already in."""
    if not is_worker(c):
        return not_a_worker(c)
    assert c.person is not None
    async with c.storage.db.read() as tx:
        current = await c.storage.checkins.open_for(tx, c.person.id)
        recent = await c.storage.checkins.recent_places(tx, c.person.id)
    if current is not None:
        text = c.t(
            "You are already checked in at {place} until {time}.",
            place=c.config.place_label(current.place, c.locale),
            time=when(current.deadline_at, c.locale, c.config.tz, c.now()),
        )
        return Done(text, kept=_kept(c, current), rows=checkin_choices(c, current.id), replaces_kept=True)
    hotspots = c.config.hotspots
    order = sorted(
        range(len(hotspots)),
        key=lambda i: recent.index(hotspots[i].name) if hotspots[i].name in recent else len(recent) + i,
    )
    lines = [[(hotspots[i].label(c.locale), f"ci:place:{i}")] for i in order]
    lines += [[(c.t("Other place"), "ci:place:other")], [(c.t("Cancel"), "ci:cancel")]]
    c.answers["places"] = [h.name for h in hotspots]  # an admin may change the list before the tap
    return Next(PLACE, Screen(c.t("Where are you going?"), rows(*lines)))


async def place_chosen(c: Ctx, inp: Input) -> Result:
    """A place button: remember it, ask for a partner (or for the typed name of another place)."""
    choice = inp.value.removeprefix("ci:place:")
    if inp.value == "ci:cancel":
        return await cancel(c, inp)
    if choice == "other":
        return Next(PLACE_TEXT, Screen(c.t("Write the name of the place."), takes=TEXT))
    index = int(choice) if choice.isdecimal() else -1  # isdigit() takes "²", int() does not
    shown = c.answers.get("places") or [h.name for h in c.config.hotspots]
    name = shown[index] if 0 <= index < len(shown) else None
    hotspot = next((h for h in c.config.hotspots if h.name == name), None)
    if hotspot is None:  # a forged index, or a place removed since the buttons were shown
        return Stay(c.t("This button is no longer current."))
    assert c.person is not None
    # The higher of the admin's level and the one computed from the record (bot/services/risk.py).
    levels = await computed_levels(c.storage, c.person.org_id)
    risk, pairs = checkin_level(c.storage, c.config, hotspot.name, hotspot.risk, hotspot.pairs_required, levels)
    c.answers.update(place=hotspot.name, custom=False, risk=risk, pairs=pairs)
    return await ask_partner(c)


async def place_typed(c: Ctx, inp: Input) -> Result:
    """A typed place: kept sealed and flagged for an admin to add to the list."""
    name = " ".join(inp.value.split())[:80]
    if len(name) < 2:
        return Stay(c.t("Write the name of the place."))
    assert c.person is not None
    levels = await computed_levels(c.storage, c.person.org_id)  # a typed place has a record too
    risk, pairs = checkin_level(c.storage, c.config, name, "medium", False, levels)
    c.answers.update(place=name, custom=True, risk=risk, pairs=pairs)
    return await ask_partner(c)


async def ask_partner(c: Ctx) -> Result:
    """Colleagues of the same team, or alone."""
    assert c.person is not None
    colleagues = []
    if c.person.team_id:
        async with c.storage.db.read() as tx:
            team = await c.storage.people.in_team(tx, c.person.team_id, "worker")
            colleagues = [p for p in team if p.id != c.person.id]
            if len(colleagues) > MAX_PARTNERS:  # a big team: those out now first, they are the likely partners
                out = {x.person_id for x in await c.storage.checkins.open_in_team(tx, c.person.team_id)}
                colleagues = sorted(colleagues, key=lambda p: p.id not in out)[:MAX_PARTNERS]
    lines = [[(p.display, f"ci:partner:{p.id}")] for p in colleagues]
    lines.append([(c.t("Alone"), "ci:partner:alone")])
    return Next(PARTNER, Screen(c.t("Who is with you?"), rows(*lines)))


async def partner_chosen(c: Ctx, inp: Input) -> Result:
    """A colleague or "alone"; alone at a place that needs two asks once more."""
    assert c.person is not None
    choice = inp.value.removeprefix("ci:partner:")
    if choice == "alone":
        c.answers["partner"] = None
        if c.answers.get("pairs"):
            choices = rows([(c.t("Yes, I go alone"), "ci:alone:yes")], [(c.t("Choose a partner"), "ci:alone:back")])
            text = c.t("This place needs two people. Go alone anyway? Your supervisor will be told.")
            return Next(ALONE, Screen(text, choices))
        return ask_duration(c)
    async with c.storage.db.read() as tx:
        partner = await c.storage.people.get(tx, choice)
    if partner is None or partner.team_id != c.person.team_id or partner.status != "active":
        return Stay(c.t("This button is no longer current."))
    c.answers["partner"] = partner.id
    return ask_duration(c)


async def alone_confirmed(c: Ctx, inp: Input) -> Result:
    """Second tap for going alone where two are needed, or back to the partner list."""
    if inp.value == "ci:alone:back":
        return await ask_partner(c)
    c.answers["alone_at_pairs"] = True
    return ask_duration(c)


def ask_duration(c: Ctx) -> Next:
    """Buttons for the usual times; any other time may be typed."""
    row = [(c.t(label), f"ci:dur:{m}") for m, label in DURATIONS]
    text = c.t("How long will you stay? Tap, or write it (like 45 or 1h30).")
    return Next(DURATION, Screen(text, rows(row[:2], row[2:]), takes=TEXT))


async def duration_given(c: Ctx, inp: Input) -> Result:
    """A duration button, or a typed duration; anything else gets one line showing what works."""
    if inp.kind == TEXT:
        duration = parse_worker_duration(inp.value)
        if duration is None:
            return Stay(c.t(DURATION_EXAMPLE))
        minutes = duration.total_seconds() / 60
    else:
        value = inp.value.removeprefix("ci:dur:")
        minutes = int(value) if value.isdecimal() else 0
        if not 0 < minutes <= MAX_CHECKIN // timedelta(minutes=1):
            return Stay(c.t("This button is no longer current."))
    c.answers["minutes"] = minutes
    return await commit(c)


async def commit(c: Ctx) -> Result:
    """Store the check-in as soon as its time is known; then ask for the (optional) location."""
    assert c.person is not None
    a = c.answers
    new = NewCheckin(
        place=a["place"],
        place_custom=a["custom"],
        partner_id=a.get("partner"),
        alone_at_pairs=bool(a.get("alone_at_pairs")),
        duration=timedelta(minutes=a["minutes"]),
        location=None,
    )
    result = await open_checkin(c.storage, c.config.escalation, c.person, new, c.now())
    if result.outcome is Outcome.ALREADY_OPEN:
        return Done(c.t("You are already checked in."))
    assert result.checkin is not None
    a["stored"] = result.checkin.id
    text = c.t("Share your location? It helps if something goes wrong.")
    return Next(
        WHERE,
        Screen(text, rows([(c.t("Skip"), "ci:loc:skip")]), takes=LOCATION, location_button=c.t("Share my location")),
    )


async def location_given(c: Ctx, inp: Input) -> Result:
    """A shared location (kept sealed), or "Skip"."""
    assert c.person is not None
    if inp.kind == LOCATION:
        where = location_text(inp.latitude or 0.0, inp.longitude or 0.0) if inp.latitude is not None else None
        if where is None:
            return Stay(c.t("This location cannot be used. Tap Skip to continue without it."))
        await set_location(c.storage, c.person, where, c.now())
        await place_coords(c, inp.latitude or 0.0, inp.longitude or 0.0)
    return await finish(c)


async def place_coords(c: Ctx, lat: float, lon: float) -> None:
    """A list place with no coordinates yet takes them from a worker's shared location, rounded as the
    organisation chose ([risk] coords_decimals): the map needs a point, never a worker's exact spot."""
    hotspot = next((h for h in c.config.hotspots if h.name == c.answers.get("place")), None)
    if hotspot is None or c.answers.get("custom") or hotspot.lat is not None or c.person is None:
        return
    digits = c.config.risk.coords_decimals
    edit = set_coords(hotspot.name, round(lat, digits), round(lon, digits))
    try:
        await change_lists(c.storage, c.person.org_id, c.config, edit, "lists.place.coords", None, c.now())
    except (ConfigError, NotOnList):  # removed meanwhile: the check-in stands without it
        return


async def finish(c: Ctx) -> Result:
    """The confirmation: where, until when, the place's advice; only "Until <time>." stays."""
    assert c.person is not None
    async with c.storage.db.read() as tx:  # a supervisor may have closed it meanwhile, or it was extended
        current = await c.storage.checkins.open_for(tx, c.person.id)
    if current is None:
        return Done(c.t("You are not checked in. To start: /checkin."))
    risk = c.answers.get("risk") or next((h.risk for h in c.config.hotspots if h.name == current.place), "medium")
    lines = [
        c.t(
            "Checked in at {place} until {time}.",
            place=c.config.place_label(current.place, c.locale),
            time=when(current.deadline_at, c.locale, c.config.tz, c.now()),
        ),
        c.t(ADVICE[risk]),
        c.t("When you leave: /checkout. Need more time: /extend."),
    ]
    return Done("\n".join(lines), kept=_kept(c, current), rows=checkin_choices(c, current.id), replaces_kept=True)


def _kept(c: Ctx, current: Checkin) -> str:
    return c.t(KEPT, time=when(current.deadline_at, c.locale, c.config.tz, c.now()))


async def cancel(c: Ctx, inp: Input) -> Result:
    """ "Cancel" or /cancel: nothing is stored; at the location question the check-in already is."""
    if c.answers.get("stored"):
        return await finish(c)
    return Done(c.t("Cancelled. Nothing was saved."))


FLOW = Flow(
    name="checkin",
    start=start,
    steps={
        PLACE: place_chosen,
        PLACE_TEXT: place_typed,
        PARTNER: partner_chosen,
        ALONE: alone_confirmed,
        DURATION: duration_given,
        WHERE: location_given,
    },
    commands=("checkin",),
    timeout=timedelta(minutes=30),
    cancel=cancel,
)
