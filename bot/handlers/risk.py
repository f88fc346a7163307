"""/risk: the register of places by level (computed from the record, beside the admin's), with counts over
30 and 90 days and the trend, and the map. Managers and admins see every place; a supervisor the places
their team's workers reported at; anyone else gets what an unknown command gets. A manager's map stays in
the chat; a supervisor's goes with the clean-up (their phone is as exposed as a worker's)."""

from __future__ import annotations

import asyncio

from bot.flows.model import Attachment, Ctx, Done, Flow, Input, Result
from bot.i18n import tr
from bot.riskmap import MapTexts, Mark, map_png
from bot.services.risk import LEVEL_WORDS, PlaceRisk, places_now, visible
from bot.services.risk_export import csv_bytes, geojson

MAX_LINES = 40  # one message; the rest are counted
TREND = {"up": "↑", "down": "↓", "same": "="}


async def admits(c: Ctx) -> bool:
    """Managers, admins, and supervisors with a team."""
    p = c.person
    return p is not None and (p.role in ("manager", "admin") or (p.role == "supervisor" and bool(p.team_id)))


def register_lines(places: list[PlaceRisk], locale: str) -> list[str]:
    """One line a place, highest first: level (and the admin's, when it differs), counts, trend."""
    lines = []
    for p in places[:MAX_LINES]:
        level = tr(locale, LEVEL_WORDS[p.shown])
        if p.set_level and p.set_level != p.level:
            level = tr(
                locale,
                "{level} (computed {computed}, set {set})",
                level=level,
                computed=tr(locale, LEVEL_WORDS[p.level]),
                set=tr(locale, LEVEL_WORDS[p.set_level]),
            )
        counts = tr(
            locale,
            "30 days: {n30} ({k} critical) · 90 days: {n90} · {trend}",
            n30=p.incidents30,
            k=p.critical30,
            n90=p.incidents90,
            trend=TREND[p.trend],
        )
        lines.append(f"{p.name}: {level}\n   {counts}")
    if len(places) > MAX_LINES:
        lines.append(tr(locale, "More places, not shown: {n}.", n=len(places) - MAX_LINES))
    return lines


def marks_of(places: list[PlaceRisk]) -> list[Mark]:
    """The map's marks: every place with coordinates, sized by its 90 days' incidents, at its shown level."""
    return [
        Mark(p.name, p.lat, p.lon, p.incidents90, p.shown) for p in places if p.lat is not None and p.lon is not None
    ]


async def risk(c: Ctx, inp: Input) -> Result:
    """The register as text, and the map of the places that have coordinates."""
    person = c.person
    assert person is not None
    places = visible(await places_now(c.storage, c.config, person.org_id, c.now()), person.team_id, person.role)
    if inp.args and inp.args[0].lower() == "export":
        return await export_files(c, places)
    if not places:
        return Done(c.t("No places to show yet."))
    header = c.t("Risk by place (incidents in 30 and 90 days; trend against the 30 days before):")
    text = "\n".join([header, *register_lines(places, c.locale)])
    marks = marks_of(places)
    if not marks:
        return Done(text + "\n" + c.t("No place has coordinates yet: no map."))
    texts = MapTexts(c.t("Risk by place"), {k: c.t(v) for k, v in LEVEL_WORDS.items()}, km=c.t("{n} km"))
    png = await asyncio.to_thread(map_png, marks, texts)
    if len(marks) < len(places):
        text += "\n" + c.t("Not on the map (no coordinates): {n}.", n=len(places) - len(marks))
    return Done(text, files=(Attachment("photo", png, "places.png"),), keep_files=person.role in ("manager", "admin"))


async def export_files(c: Ctx, places: list[PlaceRisk]) -> Result:
    """/risk export (managers and admins): the GeoJSON and CSV of `outreach-bot risk export`, audit-logged."""
    person = c.person
    assert person is not None
    if person.role not in ("manager", "admin"):
        return Done(c.t("This command is for managers."))
    least = c.config.risk.export_min_count
    async with c.storage.db.tx() as tx:
        await c.storage.audit.record(
            tx, c.now(), "risk.export", org_id=person.org_id, actor_id=person.id, subject_id=None
        )
    files = (
        Attachment("document", geojson(places, least), "places.geojson"),
        Attachment("document", csv_bytes(places, least), "places.csv"),
    )
    return Done(files=files, keep_files=True)


RISK = Flow(name="risk", start=risk, commands=("risk",), admits=admits)
