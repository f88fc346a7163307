"""Teams are authenticated with the key too: `invite --team north` finds a team by its name's digest, so
swapping two teams' digests (or moving a team to another organisation) in the database file without the
key would enrol a new supervisor in the wrong team, who would then get that team's alerts. An edited team
row is never used: invites for it are refused with one line, it routes no alert (the managers get them),
and one warning line is logged per row."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from bot.services.enrolment import create_invite
from storage import Storage
from storage.integrity import TEAMS_BACKFILLED
from storage.orgs import TeamChanged
from storage.rotation import rotate
from storage.sealing import Sealer
from tests.auxil.harness import Harness
from tests.test_access_integrity import _edit, _miss_checkout, _to, _warnings
from tests.test_lists import _cli, _install

_DAY = timedelta(days=1)


def _swap_digests(db_path: Path, north: str, south: str) -> None:
    """Swap the two teams' name digests (through a placeholder: the pair is unique per organisation)."""
    conn = sqlite3.connect(db_path)
    try:
        with conn:
            (n,) = conn.execute("SELECT name_hmac FROM teams WHERE id = ?", (north,)).fetchone()
            (s,) = conn.execute("SELECT name_hmac FROM teams WHERE id = ?", (south,)).fetchone()
            conn.execute("UPDATE teams SET name_hmac = 'x' WHERE id = ?", (north,))
            conn.execute("UPDATE teams SET name_hmac = ? WHERE id = ?", (n, south))
            conn.execute("UPDATE teams SET name_hmac = ? WHERE id = ?", (s, north))
    finally:
        conn.close()


def _invite_teams(db_path: Path) -> list[str | None]:
    conn = sqlite3.connect(db_path)
    try:
        return [r[0] for r in conn.execute("SELECT team_id FROM invites ORDER BY rowid")]
    finally:
        conn.close()


async def test_swapped_team_digests_refuse_the_invite_and_route_no_alert(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    sup_n = await harness.enrol("supervisor", "north")
    sup_s = await harness.enrol("supervisor", "south")
    manager = await harness.enrol("manager")
    worker_n = await harness.enrol("worker", "north")
    north, south = sup_n.person.team_id, sup_s.person.team_id
    assert north and south and north != south
    before = _invite_teams(harness.storage.db.path)
    _swap_digests(harness.storage.db.path, north, south)
    # Without the check, "north" would now find the south team's row.
    for name in ("north", "NORTH", "south"):
        with pytest.raises(TeamChanged):
            await create_invite(
                harness.storage, harness.clock, harness.app.bot_data.org, role="supervisor", team=name, ttl=_DAY
            )
    assert _invite_teams(harness.storage.db.path) == before  # nothing was made
    # The edited team routes nothing: the north worker's missed check-out goes to the managers at once.
    sent = await _miss_checkout(harness, worker_n)
    assert not _to(sent, sup_n) and not _to(sent, sup_s) and _to(sent, manager)
    warnings = _warnings(caplog)
    assert len(warnings) == 2, warnings  # one line per row, however often it was met
    assert all("teams row" in w and "without the key" in w for w in warnings)
    # An intact team is unaffected.
    code = await harness.invite("worker", "east")
    assert code


async def test_a_team_moved_to_another_organisation_is_never_used(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    sup_n = await harness.enrol("supervisor", "north")
    manager = await harness.enrol("manager")
    worker_n = await harness.enrol("worker", "north")
    north = sup_n.person.team_id
    _edit(harness.storage.db.path, ("UPDATE teams SET org_id = 'other-org' WHERE id = ?", (north,)))
    sent = await _miss_checkout(harness, worker_n)
    assert not _to(sent, sup_n) and _to(sent, manager)
    # Putting it back as it was makes it intact again (the MAC is over the values, not a flag).
    org_id = harness.app.bot_data.org.id
    _edit(harness.storage.db.path, ("UPDATE teams SET org_id = ? WHERE id = ?", (org_id, north)))
    await harness.invite("supervisor", "north")
    assert _invite_teams(harness.storage.db.path)[-1] == north
    assert len(_warnings(caplog)) == 1


def test_cli_invite_for_a_swapped_team_refuses_with_one_line(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    env = _install(tmp_path)
    assert _cli(env, "init", "--name", "Test").returncode == 0
    for team in ("north", "south"):
        done = _cli(env, "invite", "--role", "supervisor", "--team", team)
        assert done.returncode == 0, done.stderr
    db_path = tmp_path / "data" / "outreach.db"
    north, south = _invite_teams(db_path)
    assert north and south
    _swap_digests(db_path, north, south)
    done = _cli(env, "invite", "--role", "supervisor", "--team", "north")
    assert done.returncode == 2 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    # The log's one warning line for the row, then the one line for the operator.
    assert len(lines) == 2 and lines[0].startswith("A teams row (id ") and "without the key" in lines[0], lines
    assert lines[-1].startswith("outreach-bot: team 'north' was changed in the database without the key"), lines
    assert "no invite made" in lines[-1] and "Traceback" not in done.stderr
    assert _invite_teams(db_path) == [north, south]
    # A new team name still works, and is a team of its own.
    done = _cli(env, "invite", "--role", "supervisor", "--team", "east")
    assert done.returncode == 0, done.stderr
    assert _invite_teams(db_path)[-1] not in (north, south)


async def test_teams_from_before_macs_are_backfilled_once_unless_already_swapped(tmp_path: Path) -> None:
    harness = Harness(tmp_path)
    await harness.start()
    sup_n = await harness.enrol("supervisor", "north")
    sup_s = await harness.enrol("supervisor", "south")
    sup_e = await harness.enrol("supervisor", "east")
    await harness.stop()
    db_path = harness.settings.data_dir / "outreach.db"
    # As a database written by the version before: no team MACs, no record of their backfill, and
    # north and south swapped by someone without the key meanwhile.
    _edit(db_path, ("UPDATE teams SET access_mac = NULL", ()), ("DELETE FROM meta WHERE key = ?", (TEAMS_BACKFILLED,)))
    _swap_digests(db_path, sup_n.person.team_id, sup_s.person.team_id)
    stranger = await Storage.open(db_path, bytes(32))  # a wrong key backfills nothing
    await stranger.close()
    assert _macs(db_path) == 0
    await harness.restart()
    try:
        assert _macs(db_path) == 1  # east only: a swapped digest is not the sealed name's
        org = harness.app.bot_data.org
        await harness.invite("worker", "east")
        assert _invite_teams(db_path)[-1] == sup_e.person.team_id
        with pytest.raises(TeamChanged):
            await create_invite(harness.storage, harness.clock, org, role="worker", team="north", ttl=_DAY)
        # Once backfilled, a team without a MAC was written without the key.
        async with harness.storage.db.tx():
            pass  # the refused invite's transaction ends its group's COMMIT: the file is free for an edit
        _edit(db_path, ("UPDATE teams SET access_mac = NULL WHERE id = ?", (sup_e.person.team_id,)))
        with pytest.raises(TeamChanged):
            await create_invite(harness.storage, harness.clock, org, role="worker", team="east", ttl=_DAY)
    finally:
        await harness.stop()


def _macs(db_path: Path) -> int:
    conn = sqlite3.connect(db_path)
    try:
        return int(conn.execute("SELECT count(*) FROM teams WHERE access_mac IS NOT NULL").fetchone()[0])
    finally:
        conn.close()


async def test_after_rotation_intact_teams_work_and_an_edited_one_stays_unused(tmp_path: Path) -> None:
    harness = Harness(tmp_path)
    await harness.start()
    supervisor = await harness.enrol("supervisor", "north")
    worker = await harness.enrol("worker", "north")
    sup_s = await harness.enrol("supervisor", "south")
    worker_s = await harness.enrol("worker", "south")
    manager = await harness.enrol("manager")
    old_key = harness.app.bot_data.key
    await harness.stop()
    db_path = harness.settings.data_dir / "outreach.db"
    _edit(db_path, ("UPDATE teams SET org_id = 'other-org' WHERE id = ?", (sup_s.person.team_id,)))

    new_key = bytes(range(32))
    storage = await Storage.open(db_path, old_key)
    try:
        sealer = Sealer(new_key, old_masters=(old_key,))
        _, left = await rotate(storage.db, sealer, stop_after=4)
        assert left == -1
        _, left = await rotate(storage.db, sealer)  # resumed
        assert left == 0
        async with storage.db.read() as tx:
            macs = [bytes(r[0][:4]) for r in await tx.all("SELECT access_mac FROM teams")]
        # The edited team's MAC is not made anew (a rotation launders nothing).
        assert sorted(macs) == sorted([Sealer.key_id_of(new_key), Sealer.key_id_of(old_key)])
    finally:
        await storage.close()

    harness2 = Harness(tmp_path, key=new_key)
    await harness2.start()
    try:
        for chatter in (supervisor, worker, sup_s, worker_s, manager):
            chatter.harness = harness2
        sent = await _miss_checkout(harness2, worker)
        assert _to(sent, supervisor) and not _to(sent, manager)
        await harness2.invite("worker", "north")  # found by its digest, made anew under the new key
        assert _invite_teams(db_path)[-1] == supervisor.person.team_id
        sent = await _miss_checkout(harness2, worker_s)
        assert not _to(sent, sup_s) and _to(sent, manager)
    finally:
        await harness2.stop()
