"""Risk by place from the record: incidents at a place raise its level, its managers and supervisors are
told once (across a restart), the next check-in there gets the stronger advice and needs two; /risk gives
the register and the map by role; coordinates are set by an admin or from a check-in's shared location."""

from __future__ import annotations

import json
import os
from datetime import timedelta

import pytest

from bot.handlers.risk import marks_of
from bot.riskmap import COLOURS, MapTexts, Mark, map_figure, map_png, size
from bot.services import lists as list_service
from bot.services.incidents import week_of
from bot.services.risk import compute, places_now
from bot.services.risk_export import csv_bytes, geojson
from bot.telegram.context import BotContext
from bot.telegram.jobs import sweep
from config.errors import ConfigError
from config.lists import NotOnList, set_coords
from config.org import parse_org_config
from config.risk import RiskSettings
from storage.risk import Event
from tests.auxil.harness import EXAMPLE, Chatter, Harness
from tests.test_checkin import check_in

UNKNOWN = "I did not understand. Send /help to see what you can do."
HIGH_ADVICE = "High-risk place: stay with your partner, keep your phone charged, know your way out."
MEDIUM_ADVICE = "Stay alert and keep your phone at hand."
TEXTS = MapTexts("Risk by place", {"low": "low", "medium": "medium", "high": "high"})


async def _incidents(harness: Harness, worker: Chatter, place: str, severities: list[int], days_ago: int = 1) -> None:
    """Incidents reported at `place` by `worker`, `days_ago` days before the test clock's now."""
    now = harness.clock.now() - timedelta(days=days_ago)
    async with harness.storage.db.tx() as tx:
        for severity in severities:
            await harness.storage.incidents.create(
                tx,
                org_id=worker.person.org_id,
                reporter_id=worker.person.id,
                team_id=worker.person.team_id,
                fields={"category": "verbal_abuse", "place": place, "place_kind": "bar", "severity": severity},
                occurred_on=now.date(),
                week=week_of(now.date()),
                now=now,
            )


async def _coords(harness: Harness, org: str, name: str, lat: float, lon: float) -> None:
    """What `outreach-bot places set-coords NAME LAT LON` does."""
    await list_service.change(
        harness.storage, org, harness.config, set_coords(name, lat, lon), "t", None, harness.clock.now()
    )


async def _sweep(harness: Harness) -> list:
    before = len(harness.api.sent)
    await sweep(BotContext(harness.app))
    return [s for s in harness.api.sent[before:] if s.method == "sendMessage" and "Risk at" in (s.text or "")]


async def test_incidents_raise_the_level_told_once_and_the_next_checkin_is_stronger(harness: Harness) -> None:
    supervisor = await harness.enrol("supervisor", "north")
    other_supervisor = await harness.enrol("supervisor", "south")
    manager = await harness.enrol("manager")
    worker, colleague = await harness.enrol("worker", "north"), await harness.enrol("worker", "north")
    # Before: Bar La Luna is "medium" on the list, nothing happened there: the usual advice, no pairs question.
    assert await _sweep(harness) == []
    sent = await check_in(colleague, place="ci:place:1")
    assert MEDIUM_ADVICE in sent[-1].text
    await _incidents(harness, worker, "Bar La Luna", [4, 2, 2])  # 8 + 2 + 2 points: "high" from 10
    harness.clock.advance(timedelta(minutes=5))  # the sweep recomputes at most every 5 minutes
    got = await _sweep(harness)
    assert sorted(s.chat_id for s in got) == sorted([supervisor.chat_id, manager.chat_id])
    text = got[0].text
    assert text.startswith("Risk at Bar La Luna is now high.")
    assert "Incidents in 30 days: 3 (1 critical)." in text and other_supervisor.chat_id not in [s.chat_id for s in got]
    assert await _sweep(harness) == []  # once per rise
    await harness.restart()
    harness.clock.advance(timedelta(hours=2))  # a restart and a recomputation later: still told once
    assert await _sweep(harness) == []
    # The next check-in there: the stronger advice, and going alone needs a second tap.
    sent = await worker.say("/checkin")
    sent = await worker.tap(sent[-1], "ci:place:1")
    sent = await worker.tap(sent[-1], "ci:partner:alone")
    assert sent[-1].text.startswith("This place needs two people.")
    sent = await worker.tap(sent[-1], "ci:alone:yes")
    sent = await worker.tap(sent[-1], "ci:dur:60")
    sent = await worker.tap([s for s in sent if s.chat_id == worker.chat_id][-1], "ci:loc:skip")
    assert HIGH_ADVICE in sent[-1].text
    # Nothing on the workers' phones names risk or incidents.
    for person in (worker, colleague):
        assert not [
            s for s in harness.api.to(person.chat_id) if "Risk" in (s.text or "") or "incident" in (s.text or "")
        ]


async def test_a_fall_then_a_new_rise_is_told_again(harness: Harness) -> None:
    manager = await harness.enrol("manager")
    worker = await harness.enrol("worker", "north")
    await _incidents(harness, worker, "Bar La Luna", [3, 3])  # 8 points: medium
    got = await _sweep(harness)
    assert [s.chat_id for s in got] == [manager.chat_id] and "now medium" in got[0].text
    harness.clock.advance(timedelta(days=95))  # out of the 90 days: back to low, nobody told
    assert await _sweep(harness) == []
    await _incidents(harness, worker, "Bar La Luna", [3, 3])
    harness.clock.advance(timedelta(minutes=4))
    assert await _sweep(harness) == []  # at most every 5 minutes (bot/services/risk.py MIN_GAP)
    harness.clock.advance(timedelta(minutes=1))
    assert "now medium" in (await _sweep(harness))[0].text


async def test_risk_register_and_map_by_role(harness: Harness) -> None:
    supervisor, south = await harness.enrol("supervisor", "north"), await harness.enrol("supervisor", "south")
    manager = await harness.enrol("manager")
    worker = await harness.enrol("worker", "north")
    await _incidents(harness, worker, "Bar La Luna", [4, 2, 2])
    await _incidents(harness, worker, "Bar La Luna", [1], days_ago=45)
    await _incidents(harness, worker, "Mercado Sur", [2])  # a typed place, not on the list
    await _sweep(harness)
    assert (await worker.say("/risk"))[-1].text == UNKNOWN
    assert (await south.say("/risk"))[-1].text == "No places to show yet."
    org = worker.person.org_id
    await list_service.change(
        harness.storage, org, harness.config, set_coords("Bar La Luna", 14.64, -90.51), "t", None, harness.clock.now()
    )
    sent = await manager.say("/risk")
    text = next(s.text for s in sent if s.method == "sendMessage")
    lines = text.splitlines()
    at = lines.index("Bar La Luna: high (computed high, set medium)")
    assert lines[at + 1].strip() == "30 days: 3 (1 critical) · 90 days: 4 · ↑"
    assert "Parque Central: high (computed low, set high)" in lines and any(
        line.startswith("Mercado Sur: low") for line in lines
    )
    assert "Not on the map (no coordinates): 2." in text
    assert [s.method for s in sent].count("sendPhoto") == 1
    files = [s for s in await manager.say("/risk export") if s.method == "sendDocument"]
    assert len(files) == 2
    assert [s.text for s in await supervisor.say("/risk export") if s.shows][-1] == "This command is for managers."
    seen = await supervisor.say("/risk")
    names = [
        line.split(":")[0] for line in next(s.text for s in seen if s.method == "sendMessage").splitlines()[1:-1:2]
    ]
    assert names == ["Bar La Luna", "Mercado Sur"]  # their team's places only


async def test_a_shared_location_gives_a_place_its_coordinates_rounded(harness: Harness) -> None:
    worker = await harness.enrol("worker", "north")
    await check_in(worker, place="ci:place:1", location=(14.634567, -90.506789))
    bar = next(h for h in harness.config.hotspots if h.name == "Bar La Luna")
    assert (bar.lat, bar.lon) == (14.635, -90.507)
    await worker.say("/checkout")
    assert bar.lat == 14.635  # the next location does not move an admin's or an earlier point


async def test_coordinates_outside_the_world_and_unknown_places_change_nothing(harness: Harness) -> None:
    org = harness.app.bot_data.org.id
    for lat, lon in ((91.0, 0.0), (0.0, -180.5), (float("nan"), 0.0)):
        with pytest.raises(ConfigError):
            await list_service.change(
                harness.storage,
                org,
                harness.config,
                set_coords("Bar La Luna", lat, lon),
                "t",
                None,
                harness.clock.now(),
            )
    with pytest.raises(NotOnList):
        await list_service.change(
            harness.storage, org, harness.config, set_coords("Nowhere", 1.0, 1.0), "t", None, harness.clock.now()
        )
    assert all(h.lat is None for h in harness.config.hotspots)


def test_map_marks_follow_coordinates_counts_and_levels() -> None:
    marks = [Mark("Bar", 14.64, -90.51, 9, "high"), Mark("Park", 14.60, -90.55, 1, "low")]
    ax = map_figure(marks, TEXTS).axes[0]
    scatter = ax.collections[0]
    assert len(scatter.get_offsets()) == 2
    assert sorted(scatter.get_sizes()) == [size(1), size(9)] and size(9) > size(1)
    colours = {tuple(round(c, 3) for c in rgba[:3]) for rgba in scatter.get_facecolors()}
    from matplotlib.colors import to_rgb

    assert colours == {tuple(round(c, 3) for c in to_rgb(COLOURS[k])) for k in ("high", "low")}
    offsets = scatter.get_offsets()
    east = offsets[list(scatter.get_sizes()).index(size(9))][0] - offsets[list(scatter.get_sizes()).index(size(1))][0]
    assert 4.0 < east < 4.6  # 0.04° of longitude at 14.6° N is about 4.3 km
    labels = {t.get_text() for t in ax.texts}
    assert {"Bar", "Park"} <= labels and any(t.endswith("km") for t in labels)
    # A level that changes changes the drawn colour, and the image.
    changed = [Mark("Bar", 14.64, -90.51, 9, "high"), Mark("Park", 14.60, -90.55, 1, "high")]
    again = map_figure(changed, TEXTS).axes[0].collections[0]
    assert {tuple(round(c, 3) for c in rgba[:3]) for rgba in again.get_facecolors()} == {
        tuple(round(c, 3) for c in to_rgb(COLOURS["high"]))
    }
    assert map_png(marks, TEXTS) != map_png(changed, TEXTS)


async def test_the_map_follows_the_record(harness: Harness) -> None:
    worker = await harness.enrol("worker", "north")
    org = worker.person.org_id
    await _coords(harness, org, "Bar La Luna", 14.64, -90.51)
    await _coords(harness, org, "Parque Central", 14.60, -90.55)

    async def drawn() -> dict[str, tuple]:
        places = await places_now(harness.storage, harness.config, org, harness.clock.now())
        marks = marks_of(places)
        scatter = map_figure(marks, TEXTS).axes[0].collections[0]
        by_size = sorted(marks, key=lambda m: m.incidents)  # the scatter draws the busiest last
        colours = [tuple(round(c, 3) for c in rgba[:3]) for rgba in scatter.get_facecolors()]
        return {m.name: (size(m.incidents), colour) for m, colour in zip(by_size, colours, strict=True)}

    before = await drawn()
    assert before["Bar La Luna"] == (size(0), _rgb("medium")) and before["Parque Central"][1] == _rgb("high")
    await _incidents(harness, worker, "Bar La Luna", [4, 2, 2])
    after = await drawn()
    assert after["Bar La Luna"] == (size(3), _rgb("high")) and after["Parque Central"] == before["Parque Central"]


def _rgb(level: str) -> tuple:
    from matplotlib.colors import to_rgb

    return tuple(round(c, 3) for c in to_rgb(COLOURS[level]))


def test_compute_weighs_severity_recency_missed_and_alerts() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 12, 1, tzinfo=UTC)
    s = RiskSettings()
    events = [
        Event("k", "incident", now - timedelta(days=2), "t1", 4),
        Event("k", "incident", now - timedelta(days=40), "t2", 4),  # older: half
        Event("k", "missed", now - timedelta(days=3), "t1"),
        Event("k", "alert", now - timedelta(days=3), None),
        Event("k", "incident", now - timedelta(days=100), "t1", 4),  # out of the window
    ]
    p = compute(events, s, now)["k"]
    assert p.score == 8 + 4 + 2 + 3 and p.level == "high" and p.teams == {"t1", "t2"}
    assert (p.incidents30, p.incidents90, p.previous30, p.critical30, p.missed30, p.alerts30) == (1, 2, 1, 1, 1, 1)
    assert p.trend == "same"


@pytest.mark.parametrize(
    ("risk", "key"),
    [
        ({"high_from": 2, "medium_from": 3}, "risk.high_from"),
        ({"severity_weights": [1, 2, 3]}, "risk.severity_weights"),
        ({"pairs_from": "low"}, "risk.pairs_from"),
        ({"coords_decimals": 9}, "risk.coords_decimals"),
        ({"export_min_count": 0}, "risk.export_min_count"),
        ({"older_weight": "half"}, "risk.older_weight"),
        ({"colour": "red"}, "risk.colour"),
    ],
)
def test_bad_risk_settings_name_their_key(risk: dict, key: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_org_config(EXAMPLE | {"risk": risk})
    assert err.value.key == key


async def test_export_hides_small_counts_and_is_private(harness: Harness, tmp_path) -> None:
    worker = await harness.enrol("worker", "north")
    await _incidents(harness, worker, "Bar La Luna", [1] * 6)
    await _incidents(harness, worker, "Parque Central", [1, 1])
    org = worker.person.org_id
    await list_service.change(
        harness.storage, org, harness.config, set_coords("Bar La Luna", 14.64, -90.51), "t", None, harness.clock.now()
    )
    places = await places_now(harness.storage, harness.config, org, harness.clock.now())
    doc = json.loads(geojson(places, 5))
    [feature] = doc["features"]
    assert feature["geometry"]["coordinates"] == [-90.51, 14.64]
    assert feature["properties"]["incidents_30d"] == 6 and feature["properties"]["critical_30d"] == 0
    rows = csv_bytes(places, 5).decode().splitlines()
    park = next(r for r in rows if r.startswith("Parque Central"))
    assert "fewer than 5" in park and park.endswith(",,")
    assert os.stat(tmp_path).st_mode  # the CLI writes 0600: tests/test_risk_cli.py


async def test_a_typed_place_with_a_record_gets_the_stronger_advice(harness: Harness) -> None:
    await harness.enrol("manager")
    worker, colleague = await harness.enrol("worker", "north"), await harness.enrol("worker", "north")
    await _incidents(harness, colleague, "Mercado Sur", [4, 4])  # not on the list: typed in the reports
    await _sweep(harness)
    sent = await worker.say("/checkin")
    sent = await worker.tap(sent[-1], "ci:place:other")
    sent = await worker.say("mercado sur")
    sent = await worker.tap(sent[-1], "ci:partner:alone")
    assert sent[-1].text.startswith("This place needs two people.")


async def test_admin_sets_a_place_location_in_the_chat_bad_input_changes_nothing(harness: Harness) -> None:
    admin = await harness.enrol("admin")
    sent = await admin.tap((await admin.say("/places"))[-1], "lst:loc")
    choice = next(code for label, code in sent[-1].buttons if label.startswith("Bar La Luna"))
    sent = await admin.tap(sent[-1], choice)
    assert sent[-1].text.startswith("Type the place's coordinates")
    for bad in ("91 0", "14.6 -190", "north", "1 2 3"):
        assert (await admin.say(bad))[-1].text.startswith("Latitude from -90 to 90"), bad
    assert all(h.lat is None for h in harness.config.hotspots)
    assert (await admin.say("14.634, -90.507"))[-1].text == "Saved. It holds from now on."
    bar = next(h for h in harness.config.hotspots if h.name == "Bar La Luna")
    assert (bar.lat, bar.lon) == (14.634, -90.507)


async def test_the_weekly_summary_names_places_whose_level_changed(harness: Harness) -> None:
    """Issue 15: the manager's summary lists the places whose level changed in the last 7 days."""
    manager = await harness.enrol("manager")
    supervisor = await harness.enrol("supervisor", "north")
    worker = await harness.enrol("worker", "north")
    await _incidents(harness, worker, "Bar La Luna", [4, 2, 2])  # medium (as set) -> high (computed)
    harness.clock.advance(timedelta(minutes=5))
    await _sweep(harness)
    line = "Places whose risk level changed: 1 (Bar La Luna: medium → high)"
    assert line in next(s for s in await manager.say("/summary") if s.shows).text
    assert "risk level changed" not in "".join(s.text or "" for s in await supervisor.say("/summary"))
    harness.clock.advance(timedelta(days=8))  # a week later, nothing new: no change listed
    await _sweep(harness)
    assert "Places whose risk level changed: 0 (–)" in next(s for s in await manager.say("/summary") if s.shows).text
