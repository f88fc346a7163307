"""Check-ins, alerts and incidents carry their own team and organisation, which decide who is told and
who may see or act. Those ids are authenticated with the key: a row edited in the database file without
it (plain sqlite3) is not found by any supervisor, a missed check-out about an edited check-in goes to
the managers (never lost, never to the team the edit names), and one warning line is logged per row."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from storage import Storage
from storage.integrity import ROWS_BACKFILLED
from storage.rotation import rotate
from storage.sealing import Sealer
from tests.auxil.harness import Chatter, Harness
from tests.test_access_integrity import _edit, _shown, _to, _warnings
from tests.test_checkin import check_in
from tests.test_reports import file_by_buttons

STALE = "This button is no longer current."
HANDLING = "Thank you. The others are told that you are handling it."
NO_REPORT = "No report with this reference"
NONE_HERE = "No incidents for this choice."
TABLES = ("checkins", "alerts", "incidents")


async def _teams(h: Harness) -> tuple[Chatter, Chatter, Chatter, Chatter]:
    """North's supervisor and worker, south's supervisor, a manager."""
    return (
        await h.enrol("supervisor", "north"),
        await h.enrol("worker", "north"),
        await h.enrol("supervisor", "south"),
        await h.enrol("manager"),
    )


async def _missed(h: Harness, worker: Chatter) -> list:
    """A check-in of 30 min and no check-out: what the tick past the grace sends."""
    await check_in(worker, duration="ci:dur:30")
    h.clock.advance(timedelta(minutes=41))
    return await h.tick()


def _alert_message(sent: list, chatter: Chatter):
    return next(s for s in sent if s.chat_id == chatter.chat_id and (s.text or "").startswith("Missed"))


def _one(db_path: Path, sql: str, params: tuple[object, ...] = ()) -> object:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(sql, params).fetchone()[0]
    finally:
        conn.close()


async def test_an_alert_moved_to_another_team_is_handled_by_neither_team(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    sup_n, worker, sup_s, manager = await _teams(harness)
    sent = await _missed(harness, worker)
    message = _alert_message(sent, sup_n)
    alert_id = _one(harness.storage.db.path, "SELECT id FROM alerts")
    ack = f"ack:{alert_id}"
    assert ack in [d for _, d in message.buttons]
    _edit(harness.storage.db.path, ("UPDATE alerts SET team_id = ?", (sup_s.person.team_id,)))
    # South's supervisor, who now "owns" it by the edited row, cannot act on it: the neutral line.
    assert await _shown(sup_s, "/team") == ["Nobody is checked in right now."]
    assert _to(await sup_s.tap_forged(ack), sup_s) == [STALE]
    assert _to(await sup_s.tap_forged(f"safe:{alert_id}"), sup_s) == [STALE]
    # North's supervisor cannot either: the key no longer vouches for the alert's team.
    assert _to(await sup_n.tap(message, ack), sup_n) == [STALE]
    assert _one(harness.storage.db.path, "SELECT status FROM alerts") == "open"
    warned = _warnings(caplog)
    assert len(warned) == 1 and "alerts" in warned[0] and str(alert_id) in warned[0], warned
    # The organisation's managers still can (the escalation hands it to them): an alert is never lost.
    assert _to(await manager.tap_forged(ack), manager) == [HANDLING]
    assert _one(harness.storage.db.path, "SELECT status FROM alerts") == "acknowledged"
    assert len(_warnings(caplog)) == 1  # one line per row, however often it is read


async def test_an_intact_alert_is_handled_by_its_team(harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    sup_n, worker, sup_s, _ = await _teams(harness)
    sent = await _missed(harness, worker)
    alert_id = _one(harness.storage.db.path, "SELECT id FROM alerts")
    assert _to(await sup_s.tap_forged(f"ack:{alert_id}"), sup_s) == [STALE]
    assert _to(await sup_n.tap(_alert_message(sent, sup_n), f"ack:{alert_id}"), sup_n) == [HANDLING]
    assert _warnings(caplog) == []


async def test_an_incident_moved_to_another_team_is_seen_by_neither_supervisor(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    sup_n, worker, sup_s, manager = await _teams(harness)
    moved = await file_by_buttons(worker)
    kept = await file_by_buttons(worker)
    assert (await sup_n.say(f"/incident {moved}"))[-1].text.startswith(moved)
    assert (await sup_s.say(f"/incident {moved}"))[-1].text.startswith(NO_REPORT)
    _edit(harness.storage.db.path, ("UPDATE incidents SET team_id = ? WHERE ref = ?", (sup_s.person.team_id, moved)))
    # South's supervisor: not by reference, not on the timeline (shown or counted), not in the summary.
    assert (await sup_s.say(f"/incident {moved}"))[-1].text.startswith(NO_REPORT)
    assert (await sup_s.say("/timeline"))[-1].text == NONE_HERE
    assert (await sup_s.say("/timeline all"))[-1].text == NONE_HERE
    summary = "\n".join(s.text or "" for s in await sup_s.say("/summary"))
    assert "Incidents: 0." in summary, summary
    # North's supervisor sees the intact one only, and the total says so.
    assert (await sup_n.say(f"/incident {moved}"))[-1].text.startswith(NO_REPORT)
    page = (await sup_n.say("/timeline"))[-1].text
    assert page.startswith("Incidents 1–1 of 1:") and kept in page and moved not in page, page
    # The manager's export leaves the edited row out too (the key does not vouch for whose it is).
    sent = await manager.say("/export")
    assert sent[-1].text == "Incidents: 1."
    document = [c for m, c in harness.api.calls if m == "sendDocument"][-1]
    content = document["document"]["content"].decode("utf-8-sig")
    assert kept in content and moved not in content
    warned = _warnings(caplog)
    assert len(warned) == 1 and "incidents" in warned[0], warned
    # Put back (still without the key), the row is whole again.
    _edit(harness.storage.db.path, ("UPDATE incidents SET team_id = ? WHERE ref = ?", (sup_n.person.team_id, moved)))
    assert (await sup_n.say(f"/incident {moved}"))[-1].text.startswith(moved)


async def test_a_reporter_swapped_in_shows_the_worker_nothing(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    _, worker, _, _ = await _teams(harness)
    other = await harness.enrol("worker", "south")
    ref = await file_by_buttons(worker)
    _edit(harness.storage.db.path, ("UPDATE incidents SET reporter_id = ?", (other.person.id,)))
    assert (await other.say(f"/incident {ref}"))[-1].text.startswith(NO_REPORT)
    assert (await other.say("/timeline"))[-1].text == NONE_HERE
    assert (await worker.say("/timeline"))[-1].text == NONE_HERE
    assert len(_warnings(caplog)) == 1


async def test_a_checkin_moved_to_another_team_alerts_the_managers_not_that_team(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    sup_n, worker, sup_s, manager = await _teams(harness)
    await check_in(worker, duration="ci:dur:30")
    _edit(harness.storage.db.path, ("UPDATE checkins SET team_id = ?", (sup_s.person.team_id,)))
    assert await _shown(sup_s, "/team") == ["Nobody is checked in right now."]
    harness.clock.advance(timedelta(minutes=41))
    sent = await harness.tick()
    assert not _to(sent, sup_s) and not _to(sent, sup_n)
    told = _to(sent, manager)
    assert told and told[0].startswith("Missed check-out") and worker.person.code in told[0]
    # The alert the key now vouches for names no team: the managers handle it, no supervisor can.
    alert_id = _one(harness.storage.db.path, "SELECT id FROM alerts")
    assert _one(harness.storage.db.path, "SELECT team_id FROM alerts") is None
    assert _to(await sup_s.tap_forged(f"ack:{alert_id}"), sup_s) == [STALE]
    assert _to(await manager.tap_forged(f"ack:{alert_id}"), manager) == [HANDLING]
    warned = [w for w in _warnings(caplog) if "checkins" in w]
    assert len(warned) == 1, _warnings(caplog)
    # The worker, whose check-in is no longer vouched for, cannot open a second one over it.
    assert (await worker.say("/checkin"))[-1].text != ""
    assert _one(harness.storage.db.path, "SELECT count(*) FROM checkins") == 1


async def test_an_intact_checkin_alerts_its_own_team(harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    sup_n, worker, sup_s, manager = await _teams(harness)
    sent = await _missed(harness, worker)
    assert _to(sent, sup_n) and not _to(sent, sup_s) and not _to(sent, manager)
    assert _warnings(caplog) == []


async def test_a_checkin_moved_to_another_organisations_team_still_reaches_a_manager(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """The team cannot be trusted, nor can the organisation the edit names: if it has no managers, the
    worker's own organisation (whose row the key vouches for) gets it."""
    sup_n, worker, _, manager = await _teams(harness)
    await check_in(worker, duration="ci:dur:30")
    _edit(harness.storage.db.path, ("UPDATE checkins SET org_id = 'org-x', team_id = NULL", ()))
    harness.clock.advance(timedelta(minutes=41))
    sent = await harness.tick()
    assert _to(sent, manager) and not _to(sent, sup_n)
    assert len([w for w in _warnings(caplog) if "checkins" in w]) == 1


async def test_a_checkin_made_to_name_no_one_stops_no_other_alert(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """An edit cannot jam the escalation: the other workers' missed check-outs still go out."""
    sup_n, worker, _, _ = await _teams(harness)
    other = await harness.enrol("worker", "north")
    await check_in(worker, duration="ci:dur:30")
    await check_in(other, duration="ci:dur:30")
    _edit(harness.storage.db.path, ("UPDATE checkins SET person_id = 'ghost' WHERE person_id = ?", (worker.person.id,)))
    harness.clock.advance(timedelta(minutes=41))
    told = _to(await harness.tick(), sup_n)
    assert len(told) == 1 and other.person.code in told[0] and harness.errors == []
    assert any("names no one" in r.getMessage() for r in caplog.records)


async def _scene(h: Harness) -> tuple[Chatter, Chatter, Chatter, Chatter, str, str]:
    """Two teams, a missed check-out in north (its alert), and two reports from north."""
    sup_n, worker, sup_s, manager = await _teams(h)
    await _missed(h, worker)
    return sup_n, worker, sup_s, manager, await file_by_buttons(worker), await file_by_buttons(worker)


def _macs(db_path: Path) -> dict[str, int]:
    conn = sqlite3.connect(db_path)
    try:
        return {t: conn.execute(f"SELECT count(*) FROM {t} WHERE access_mac IS NOT NULL").fetchone()[0] for t in TABLES}
    finally:
        conn.close()


async def test_rows_from_before_are_backfilled_once_then_a_missing_mac_is_an_edit(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    harness = Harness(tmp_path)
    await harness.start()
    sup_n, _, _, _, ref, _ = await _scene(harness)
    await harness.stop()
    db_path = harness.settings.data_dir / "outreach.db"
    assert _macs(db_path) == {"checkins": 1, "alerts": 1, "incidents": 2}
    # As a database written by the version before: no MACs on these rows, no record of their backfill.
    _edit(
        db_path,
        *((f"UPDATE {t} SET access_mac = NULL", ()) for t in TABLES),
        ("DELETE FROM meta WHERE key = ?", (ROWS_BACKFILLED,)),
    )
    stranger = await Storage.open(db_path, bytes(32))  # a wrong key backfills nothing
    await stranger.close()
    assert _macs(db_path) == {"checkins": 0, "alerts": 0, "incidents": 0}
    await harness.restart()
    try:
        assert _macs(db_path) == {"checkins": 1, "alerts": 1, "incidents": 2}
        assert (await sup_n.say(f"/incident {ref}"))[-1].text.startswith(ref)
        assert (await sup_n.say("/timeline"))[-1].text.startswith("Incidents 1–2 of 2:")
        assert _warnings(caplog) == []
        # Once backfilled, a row without a MAC was written without the key; a second open adds none.
        _edit(db_path, ("UPDATE incidents SET access_mac = NULL WHERE ref = ?", (ref,)))
        await harness.restart()
        assert _macs(db_path)["incidents"] == 1
        assert (await sup_n.say(f"/incident {ref}"))[-1].text.startswith(NO_REPORT)
        assert len(_warnings(caplog)) == 1
    finally:
        await harness.stop()


async def test_after_rotation_intact_rows_work_and_an_edited_one_stays_rejected(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    harness = Harness(tmp_path)
    await harness.start()
    sup_n, worker, sup_s, manager, moved, kept = await _scene(harness)
    old_key = harness.app.bot_data.key
    await harness.stop()
    db_path = harness.settings.data_dir / "outreach.db"
    _edit(db_path, ("UPDATE incidents SET team_id = ? WHERE ref = ?", (sup_s.person.team_id, moved)))

    new_key = bytes(range(32))
    storage = await Storage.open(db_path, old_key)
    try:
        sealer = Sealer(new_key, old_masters=(old_key,))
        _, left = await rotate(storage.db, sealer, stop_after=5)
        assert left == -1
        _, left = await rotate(storage.db, sealer)  # resumed
        assert left == 0
        async with storage.db.read() as tx:
            macs = [
                bytes(r[0][:4])
                for r in await tx.all(
                    "SELECT access_mac FROM checkins UNION ALL SELECT access_mac FROM alerts"
                    " UNION ALL SELECT access_mac FROM incidents"
                )
            ]
        # 1 check-in, 1 alert, 2 incidents: the edited one keeps its old MAC (a rotation launders nothing)
        assert macs.count(Sealer.key_id_of(new_key)) == 3 and macs.count(Sealer.key_id_of(old_key)) == 1
    finally:
        await storage.close()

    harness2 = Harness(tmp_path, key=new_key)
    await harness2.start()
    try:
        for chatter in (sup_n, worker, sup_s, manager):
            chatter.harness = harness2
        assert (await sup_n.say(f"/incident {kept}"))[-1].text.startswith(kept)
        assert (await sup_n.say(f"/incident {moved}"))[-1].text.startswith(NO_REPORT)
        assert (await sup_s.say(f"/incident {moved}"))[-1].text.startswith(NO_REPORT)
        assert (await sup_s.say("/timeline"))[-1].text == NONE_HERE
        alert_id = _one(db_path, "SELECT id FROM alerts")
        assert _to(await sup_n.tap_forged(f"ack:{alert_id}"), sup_n) == [HANDLING]
        assert _to(await sup_s.tap_forged(f"safe:{alert_id}"), sup_s) == [STALE]
    finally:
        await harness2.stop()
