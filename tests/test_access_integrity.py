"""The columns that decide access are authenticated with the key: a row edited in the database file
without it (plain sqlite3, as whoever copied or seized the server could) makes that person a stranger,
and one warning line is logged per row. Rotating the key keeps every intact row working."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from storage import Storage
from storage.integrity import BACKFILLED
from storage.rotation import rotate
from storage.sealing import Sealer
from tests.auxil.harness import Chatter, Harness
from tests.auxil.plain import PlainHarness
from tests.test_checkin import check_in
from tests.test_supervisor_privacy import first_alert, missed_checkout, team, with_coordinates

NEUTRAL = "This chat is by invitation only."
NOT_VALID = "This code is not valid. Check it, or ask your supervisor for a new one."


def _edit(db_path: Path, *statements: tuple[str, tuple[object, ...]]) -> None:
    """What someone with the file and no key can do: change columns with plain SQL."""
    conn = sqlite3.connect(db_path)
    try:
        with conn:
            for sql, params in statements:
                conn.execute(sql, params)
    finally:
        conn.close()


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "outreach.integrity" and r.levelname == "WARNING"]


async def _shown(chatter: Chatter, text: str) -> list[str]:
    return [s.text for s in await chatter.say(text) if s.shows]


async def _miss_checkout(harness: Harness, worker: Chatter) -> list:
    """The worker checks in for 30 minutes and never checks out: what the tick past the grace sends."""
    await check_in(worker, duration="ci:dur:30")
    harness.clock.advance(timedelta(minutes=41))
    return await harness.tick()


def _to(sent: list, chatter: Chatter) -> list[str]:
    return [s.text for s in sent if s.chat_id == chatter.chat_id and s.shows]


async def test_worker_made_manager_without_the_key_is_a_stranger(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    worker = await harness.enrol("worker", "north")
    other = await harness.enrol("worker", "north")
    assert await _shown(worker, "/export") == ["This command is for managers."]
    _edit(harness.storage.db.path, ("UPDATE people SET role = 'manager' WHERE id = ?", (worker.person.id,)))
    assert await _shown(worker, "/export") == [NEUTRAL]
    assert await _shown(worker, "/summary") == [NEUTRAL]
    assert await _shown(worker, "/status") == [NEUTRAL]
    warned = _warnings(caplog)
    assert len(warned) == 1, warned  # once per row, not per message
    assert worker.person.id in warned[0] and str(worker.chat_id) not in warned[0]
    # Nobody else is touched, and the edited row cannot enrol again with a fresh invite either.
    assert (await _shown(other, "/status"))[-1] == "You are not checked in. To start: /checkin."
    code = await harness.invite("manager")
    assert await _shown(worker, f"/start {code}") == [NOT_VALID]
    async with harness.storage.db.read() as tx:
        assert (await tx.one("SELECT count(*) FROM people"))[0] == 2
    # Putting the old value back (still without the key) restores the row exactly as it was.
    _edit(harness.storage.db.path, ("UPDATE people SET role = 'worker' WHERE id = ?", (worker.person.id,)))
    assert (await _shown(worker, "/status"))[-1] == "You are not checked in. To start: /checkin."


async def test_swapped_lookup_digests_make_both_strangers(harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    worker = await harness.enrol("worker", "north")
    manager = await harness.enrol("manager")
    bystander = await harness.enrol("worker", "south")
    async with harness.storage.db.read() as tx:
        rows = {r["id"]: r["tg_user_hmac"] for r in await tx.all("SELECT id, tg_user_hmac FROM people")}
    w, m = worker.person.id, manager.person.id
    _edit(
        harness.storage.db.path,
        ("UPDATE people SET tg_user_hmac = 'x' WHERE id = ?", (w,)),
        ("UPDATE people SET tg_user_hmac = ? WHERE id = ?", (rows[w], m)),
        ("UPDATE people SET tg_user_hmac = ? WHERE id = ?", (rows[m], w)),
    )
    assert await _shown(worker, "/export") == [NEUTRAL]  # the worker would otherwise be read as the manager
    assert await _shown(manager, "/summary") == [NEUTRAL]
    assert await _shown(worker, "/status") == [NEUTRAL]
    assert len(_warnings(caplog)) == 2
    assert (await _shown(bystander, "/status"))[-1] == "You are not checked in. To start: /checkin."


async def test_supervisor_moved_to_another_team_gets_neither_teams_alerts(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    sup_n = await harness.enrol("supervisor", "north")
    sup_s = await harness.enrol("supervisor", "south")
    manager = await harness.enrol("manager")
    worker_n = await harness.enrol("worker", "north")
    worker_s = await harness.enrol("worker", "south")
    _edit(
        harness.storage.db.path,
        ("UPDATE people SET team_id = ? WHERE id = ?", (sup_s.person.team_id, sup_n.person.id)),
    )
    sent = await _miss_checkout(harness, worker_s)
    assert _to(sent, sup_s) and not _to(sent, sup_n)  # the moved supervisor does not join the south team
    assert not _to(sent, manager)
    sent = await _miss_checkout(harness, worker_n)
    # North has no supervisor the key vouches for: the managers are told at once, the edited row never.
    assert not _to(sent, sup_n) and _to(sent, manager)
    assert await _shown(sup_n, "/team") == [NEUTRAL]
    assert len(_warnings(caplog)) == 1


async def test_manager_row_edited_gets_no_escalation(harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    manager = await harness.enrol("manager")
    honest = await harness.enrol("manager")
    worker = await harness.enrol("worker", "north")  # no supervisor: managers are told at once
    _edit(
        harness.storage.db.path,
        ("UPDATE people SET team_id = ? WHERE id = ?", (worker.person.team_id, manager.person.id)),
    )
    sent = await _miss_checkout(harness, worker)
    assert _to(sent, honest) and not _to(sent, manager)
    assert await _shown(manager, "/summary") == [NEUTRAL]
    assert len(_warnings(caplog)) == 1


async def test_edited_or_forged_invites_are_not_valid(harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    code = await harness.invite("worker", "north")
    _edit(harness.storage.db.path, ("UPDATE invites SET role = 'admin', team_id = NULL", ()))
    newcomer = harness.chatter()
    assert await _shown(newcomer, f"/start {code}") == [NOT_VALID]
    # A row added without the key, with a code of the forger's choosing, opens nothing either.
    import hashlib

    forged = "forged-code-1234567890"
    async with harness.storage.db.read() as tx:
        org_id = (await tx.one("SELECT id FROM organizations"))[0]
    _edit(
        harness.storage.db.path,
        (
            "INSERT INTO invites (id, org_id, team_id, role, code_hash, created_at, expires_at)"
            " VALUES ('inv-x', ?, NULL, 'manager', ?, '2000-01-01T00:00:00+00:00', '2999-01-01T00:00:00+00:00')",
            (org_id, hashlib.sha256(forged.encode()).hexdigest()),
        ),
    )
    assert await _shown(harness.chatter(), f"/start {forged}") == [NOT_VALID]
    async with harness.storage.db.read() as tx:
        assert (await tx.one("SELECT count(*) FROM people"))[0] == 0
    assert len(_warnings(caplog)) == 2
    # An intact invite still works.
    fine = await harness.enrol("worker", "north")
    assert (await _shown(fine, "/status"))[-1] == "You are not checked in. To start: /checkin."


async def test_plain_adapter_reads_an_edited_row_as_a_stranger(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    harness = PlainHarness(tmp_path)
    await harness.start()
    try:
        worker = await harness.enrol("worker", "north")
        _edit(harness.storage.db.path, ("UPDATE people SET role = 'manager' WHERE id = ?", (worker.person.id,)))
        assert [s.text for s in await worker.say("/export")] == [NEUTRAL]
        assert [s.text for s in await worker.say("/summary")] == [NEUTRAL]
        assert len(_warnings(caplog)) == 1
    finally:
        await harness.stop()


async def test_rows_from_before_macs_are_backfilled_once_then_a_missing_mac_is_an_edit(tmp_path: Path) -> None:
    harness = Harness(tmp_path)
    await harness.start()
    worker = await harness.enrol("worker", "north")
    code = await harness.invite("supervisor", "north")
    await harness.stop()
    db_path = harness.settings.data_dir / "outreach.db"
    # As a database written by the version before: no MACs, no record of the backfill.
    _edit(
        db_path,
        ("UPDATE people SET access_mac = NULL", ()),
        ("UPDATE invites SET access_mac = NULL", ()),
        ("DELETE FROM meta WHERE key = ?", (BACKFILLED,)),
    )
    # A wrong key backfills nothing (it would make every row unknown to the right key).
    stranger = await Storage.open(db_path, bytes(32))
    await stranger.close()
    _assert_macs(db_path, people=0)
    await harness.restart()
    try:
        _assert_macs(db_path, people=1)
        assert (await _shown(worker, "/status"))[-1] == "You are not checked in. To start: /checkin."
        supervisor = harness.chatter()
        await supervisor.say(f"/start {code}")
        async with harness.storage.db.read() as tx:
            assert await harness.storage.people.by_telegram_user(tx, supervisor.chat_id) is not None
        # Once backfilled, a row without a MAC was written without the key.
        _edit(db_path, ("UPDATE people SET access_mac = NULL WHERE id = ?", (worker.person.id,)))
        assert await _shown(worker, "/status") == [NEUTRAL]
    finally:
        await harness.stop()


def _assert_macs(db_path: Path, *, people: int) -> None:
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("SELECT count(*) FROM people WHERE access_mac IS NOT NULL").fetchone()[0] == people
    finally:
        conn.close()


async def test_after_rotation_intact_rows_work_and_edited_ones_stay_strangers(tmp_path: Path) -> None:
    harness = Harness(tmp_path)
    await harness.start()
    supervisor = await harness.enrol("supervisor", "north")
    worker = await harness.enrol("worker", "north")
    edited = await harness.enrol("worker", "north")
    code = await harness.invite("worker", "north")
    old_key = harness.app.bot_data.key
    await harness.stop()
    db_path = harness.settings.data_dir / "outreach.db"
    _edit(db_path, ("UPDATE people SET role = 'manager' WHERE id = ?", (edited.person.id,)))

    new_key = bytes(range(32))
    storage = await Storage.open(db_path, old_key)
    try:
        sealer = Sealer(new_key, old_masters=(old_key,))
        _, left = await rotate(storage.db, sealer, stop_after=3)
        assert left == -1
        _, left = await rotate(storage.db, sealer)  # resumed
        assert left == 0
        async with storage.db.read() as tx:
            macs = [
                bytes(r[0][:4])
                for r in await tx.all("SELECT access_mac FROM people UNION ALL SELECT access_mac FROM invites")
            ]
        # 3 people and 4 invites; the edited row's MAC is not made anew (a rotation launders nothing)
        assert macs.count(Sealer.key_id_of(new_key)) == 6 and macs.count(Sealer.key_id_of(old_key)) == 1
    finally:
        await storage.close()

    harness2 = Harness(tmp_path, key=new_key)
    await harness2.start()
    try:
        for chatter in (supervisor, worker, edited):
            chatter.harness = harness2
        assert (await _shown(worker, "/status"))[-1] == "You are not checked in. To start: /checkin."
        assert await _shown(edited, "/export") == [NEUTRAL]
        sent = await _miss_checkout(harness2, worker)
        assert _to(sent, supervisor)
        newcomer = harness2.chatter()
        await newcomer.say(f"/start {code}")
        async with harness2.storage.db.read() as tx:
            assert await harness2.storage.people.by_telegram_user(tx, newcomer.chat_id) is not None
    finally:
        await harness2.stop()


async def test_a_location_is_still_taken_off_an_edited_rows_screen(harness: Harness) -> None:
    """An edited row gets nothing new, but what must leave its chat still does: its chat id is sealed to the
    row, so it is the chat the alert really went to."""
    worker, supervisor, manager = await team(harness)
    await missed_checkout(harness, worker)
    assert len(with_coordinates(harness.api, manager.chat_id)) == 1
    _edit(harness.storage.db.path, ("UPDATE people SET role = 'admin' WHERE id = ?", (manager.person.id,)))
    alert = first_alert(harness.api, supervisor.chat_id)
    await supervisor.tap(alert, alert.buttons[1][1])  # "Reached them, they are safe"
    assert with_coordinates(harness.api, manager.chat_id) == []
    assert with_coordinates(harness.api, supervisor.chat_id) == []
