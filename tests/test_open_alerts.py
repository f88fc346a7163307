"""/alerts: every open alert of a supervisor's team, or of a manager's whole organisation, acknowledged
or not, oldest first, with the buttons to acknowledge and to close; refused for another team; workers
get the line any unknown command gets."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.auxil.harness import Harness

OUT_OF_ORDER = "I did not understand. Send /help to see what you can do."
STALE = "This button is no longer current."


async def _status(harness: Harness, alert_id: str) -> str:
    async with harness.storage.db.read() as tx:
        alert = await harness.storage.alerts.get(tx, alert_id)
    assert alert is not None
    return alert.status


async def _alert_of(harness: Harness, person_id: str) -> str:
    async with harness.storage.db.read() as tx:
        row = await tx.one("SELECT id FROM alerts WHERE person_id = ? ORDER BY raised_at DESC", (person_id,))
    return str(row["id"])


async def test_alerts_lists_open_ones_oldest_first_and_its_buttons_work(harness: Harness) -> None:
    sup_n = await harness.enrol("supervisor", "north")
    sup_s = await harness.enrol("supervisor", "south")
    manager = await harness.enrol("manager")
    first, second = await harness.enrol("worker", "north"), await harness.enrol("worker", "north")
    south = await harness.enrol("worker", "south")
    assert [s.text for s in await sup_n.say("/alerts") if s.shows] == ["No open alerts."]
    await first.say("buy bread")
    harness.clock.advance(timedelta(minutes=3))
    await second.tap_forged("alert:yellow")
    harness.clock.advance(timedelta(minutes=3))
    await south.say("buy bread")
    a1, a2, a3 = [await _alert_of(harness, w.person.id) for w in (first, second, south)]
    # The oldest is acknowledged from its own alert message: it must still be listed.
    alert_message = next(s for s in sup_n.received() if f"ack:{a1}" in [d for _, d in s.buttons])
    await sup_n.tap(alert_message, f"ack:{a1}")

    sent = await sup_n.say("/alerts")
    listed = sent[-1]
    lines = listed.text.splitlines()
    assert lines[0] == "Open alerts: 2"
    assert lines[1].startswith(f"• {first.person.code} · red code · ")
    assert lines[1].endswith(f"· {sup_n.person.code} is handling it")
    assert lines[2].startswith(f"• {second.person.code} · yellow code · ") and lines[2].endswith("· not acknowledged")
    assert south.person.code not in listed.text  # another team's
    assert [d for _, d in listed.buttons] == [f"safe:{a1}", f"ack:{a2}", f"safe:{a2}"]
    # The whole organisation for a manager, oldest first.
    text = [s for s in await manager.say("/alerts") if s.shows][-1].text
    assert [line.split(" · ")[0] for line in text.splitlines()[1:]] == [
        f"• {w.person.code}" for w in (first, second, south)
    ]
    # The buttons: acknowledge, then close.
    await sup_n.tap(listed, f"ack:{a2}")
    assert await _status(harness, a2) == "acknowledged"
    sent = await sup_n.tap(listed, f"safe:{a1}")
    assert await _status(harness, a1) == "resolved"
    assert "Open alerts: 1" in [s for s in await sup_n.say("/alerts") if s.shows][-1].text
    # Refused for another team: nothing changes.
    assert [s.text for s in await sup_s.tap_forged(f"safe:{a2}") if s.shows] in ([STALE], [])
    assert [s.text for s in await sup_s.tap_forged(f"ack:{a2}") if s.shows] in ([STALE], [])
    assert await _status(harness, a2) == "acknowledged" and await _status(harness, a3) == "open"


async def test_workers_get_the_unknown_command_line(harness: Harness) -> None:
    await harness.enrol("supervisor", "north")
    worker = await harness.enrol("worker", "north")
    await worker.say("buy bread")
    assert [s.text for s in await worker.say("/alerts") if s.shows] == [OUT_OF_ORDER]
    assert [s.text for s in await worker.say("/nosuchcommand") if s.shows] == [OUT_OF_ORDER]
    assert "/alerts" not in [s for s in await worker.say("/help") if s.shows][-1].text
    alert_id = await _alert_of(harness, worker.person.id)
    assert [s.text for s in await worker.tap_forged(f"safe:{alert_id}") if s.shows] in ([STALE], [])
    assert await _status(harness, alert_id) == "open"


async def test_help_names_alerts_for_supervisors_and_managers(harness: Harness) -> None:
    for role, team in (("supervisor", "north"), ("manager", None)):
        person = await harness.enrol(role, team)
        assert "/alerts – open alerts" in [s for s in await person.say("/help") if s.shows][-1].text


async def test_alerts_on_the_plain_adapter(tmp_path: Path) -> None:
    from tests.auxil.plain import PlainHarness

    harness = PlainHarness(tmp_path)
    await harness.start()
    try:
        supervisor = await harness.enrol("supervisor", "north")
        worker = await harness.enrol("worker", "north")
        await worker.say("buy bread")
        said = await supervisor.say("/alerts")
        assert said[-1].text.startswith("Open alerts: 1\n• " + worker.person.code + " · red code · ")
        alert_id = next(code for _, code in said[-1].buttons if code.startswith("safe:")).removeprefix("safe:")
        await supervisor.tap(said[-1], f"safe:{alert_id}")
        async with harness.storage.db.read() as tx:
            alert = await harness.storage.alerts.get(tx, alert_id)
        assert alert is not None and alert.status == "resolved"
        assert (await supervisor.say("/alerts"))[-1].text == "No open alerts."
    finally:
        await harness.stop()


async def test_a_drill_is_listed_as_a_drill(harness: Harness) -> None:
    """An open drill among real alerts must not read like one: /alerts names it a drill."""
    supervisor = await harness.enrol("supervisor", "north")
    worker = await harness.enrol("worker", "north")
    await supervisor.say(f"/drill {worker.person.code}")
    text = [s for s in await supervisor.say("/alerts") if s.shows][-1].text
    assert text.splitlines()[1].startswith(f"• {worker.person.code} · DRILL (practice) · "), text
