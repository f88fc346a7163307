"""Retention covers everything (issue 13): the audit log, revoked people, expired and used invites and the
outbox. After a purge nothing purged stays in the database file, its WAL or its free pages; the data dir
is 0700 and every file in it 0600, whatever the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.jobs.retention import run_purge
from bot.services.enrolment import revoke
from config.org import Retention
from storage import backup
from storage.invites import code_hash
from tests.auxil.harness import Chatter, Harness
from tests.auxil.plain import PlainHarness
from tests.test_checkin import check_in
from tests.test_reports import file_by_buttons


def _files(harness: Harness) -> dict[str, bytes]:
    """The database, its WAL and shared-memory files, as a raid would copy them."""
    return {p.name: p.read_bytes() for p in (harness.tmp / "data").glob("outreach.db*")}


def _found(harness: Harness, markers: dict[str, bytes]) -> list[str]:
    files = _files(harness)
    return [f"{what} in {name}" for what, marker in markers.items() for name, raw in files.items() if marker in raw]


async def _count(harness: Harness, sql: str, params: tuple[object, ...] = ()) -> int:
    async with harness.storage.db.read() as tx:
        return int((await tx.one(sql, params))[0])


async def _sealed(harness: Harness, person: Chatter) -> dict[str, bytes]:
    async with harness.storage.db.read() as tx:
        row = await tx.one("SELECT * FROM people WHERE id = ?", (person.person.id,))
    found = {
        f"{person.person.code} {column}": bytes(row[column])
        for column in ("alias_sealed", "tg_user_sealed", "tg_chat_sealed", "pin_safe", "pin_duress")
        if row[column] is not None
    }
    return found | {f"{person.person.code} tg_user_hmac": row["tg_user_hmac"].encode()}


async def test_purge_leaves_no_trace_of_audit_invites_outbox_and_revoked_people(harness: Harness) -> None:
    storage = harness.storage
    org = harness.app.bot_data.org
    assert org is not None
    supervisor = await harness.enrol("supervisor", "north")
    kept = await harness.enrol("worker", "north")
    reporter = await harness.enrol("worker", "north")  # revoked, but an open incident names them
    passerby = await harness.enrol("worker", "north")  # revoked, and nothing names them
    ref = await file_by_buttons(reporter)
    await check_in(passerby)
    sent = await passerby.say("/checkout")
    await passerby.tap(sent[-1], sent[-1].buttons[0][1])
    start = harness.clock.now()
    async with storage.db.tx() as tx:
        for person in (reporter, passerby):
            await storage.people.set_alias(tx, person.person.id, f"Mkalias{person.person.code}")
            await storage.people.set_pins(tx, person.person.id, b"\x01" * 32, b"\x02" * 32)
        await storage.audit.record(tx, start, "test.marker", org_id=org.id, actor_id=None, subject_id="Mkauditsubject")
        await storage.outbox.enqueue(
            tx, key="Mkoutboxsent", recipient_id=kept.person.id, kind="text", params={"t": "Mkparams"}, now=start
        )
        await storage.outbox.enqueue(
            tx,
            key="Mkoutboxpending",
            recipient_id=kept.person.id,
            kind="text",
            params={"t": "Mkpending"},
            now=start,
            due=start + timedelta(days=3650),  # never due in this test: it must stay whatever its age
        )
        await tx.execute("UPDATE outbox SET status = 'sent' WHERE dedupe_key = 'Mkoutboxsent'")
    unused = await harness.invite("worker", "south", ttl=timedelta(days=1))
    async with storage.db.read() as tx:
        outbox_sealed = bytes((await tx.one("SELECT params_sealed FROM outbox WHERE dedupe_key = 'Mkoutboxsent'"))[0])
    markers = {
        # The row's subject: its action is stored as a token shared by every entry of that action.
        "audit entry": b"Mkauditsubject",
        "outbox key": b"Mkoutboxsent",
        "outbox params": outbox_sealed,
        "unused invite": code_hash(unused).encode(),
    }
    for person in (reporter, passerby):
        markers |= await _sealed(harness, person)
    for person in (reporter, passerby):
        assert await revoke(storage, org, person.person.code, harness.clock.now()) is not None
    await storage.db.checkpoint()
    present = {what for what, marker in markers.items() if any(marker in raw for raw in _files(harness).values())}
    assert present == set(markers), set(markers) - present  # all there before, so their absence below counts

    # A day short of every period: nothing of this goes.
    retention = harness.config.retention
    harness.clock.advance(timedelta(days=29))
    await harness.tick()  # clean-ups that fell due meanwhile
    early = await run_purge(storage, retention, harness.clock.now())
    assert (early.audit, early.invites, early.people_erased, early.people_deleted) == (0, 0, 0, 0)
    assert early.outbox == 0

    harness.clock.advance(retention.audit_log)  # past every period of the default retention
    await harness.tick()
    audit_before = await _count(harness, "SELECT count(*) FROM audit_log")
    invites_before = await _count(harness, "SELECT count(*) FROM invites")
    purged = await run_purge(storage, retention, harness.clock.now())
    assert purged.audit == audit_before and await _count(harness, "SELECT count(*) FROM audit_log") == 0
    assert purged.invites == invites_before and await _count(harness, "SELECT count(*) FROM invites") == 0
    assert purged.people_erased == 2 and purged.people_deleted == 1
    assert purged.outbox >= 1
    assert await _count(harness, "SELECT count(*) FROM outbox WHERE dedupe_key = 'Mkoutboxsent'") == 0
    assert await _count(harness, "SELECT count(*) FROM outbox WHERE dedupe_key = 'Mkoutboxpending'") == 1
    # The reporter stays as a tombstone (their open report names them): code, role and team, nothing else.
    async with storage.db.read() as tx:
        tomb = await tx.one("SELECT * FROM people WHERE id = ?", (reporter.person.id,))
        assert tomb is not None and tomb["erased_at"] is not None
        assert (tomb["alias_sealed"], tomb["pin_safe"], tomb["pin_duress"]) == (None, None, None)
        assert await storage.people.by_telegram_user(tx, reporter.chat_id) is None
        assert (await storage.people.get(tx, reporter.person.id)).code == reporter.person.code  # type: ignore[union-attr]
        assert await tx.one("SELECT 1 FROM people WHERE id = ?", (passerby.person.id,)) is None
        assert (await tx.one("PRAGMA foreign_key_check")) is None
        assert (await tx.one("PRAGMA integrity_check"))[0] == "ok"
    assert [s.text for s in await supervisor.say(f"/incident {ref}") if s.shows][-1].startswith(ref)
    assert _found(harness, markers) == []  # not in the pages, the free pages, the WAL or the shm file
    assert (await kept.say("/status"))[-1].text == "You are not checked in. To start: /checkin."
    # A second purge finds nothing more, and says so.
    again = await run_purge(storage, retention, harness.clock.now())
    assert (again.audit, again.invites, again.people_erased, again.people_deleted) == (0, 0, 0, 0)


async def test_revoked_people_are_erased_only_after_their_period_and_never_with_a_message_owed(
    harness: Harness,
) -> None:
    storage = harness.storage
    org = harness.app.bot_data.org
    assert org is not None
    worker = await harness.enrol("worker", "north")
    await revoke(storage, org, worker.person.code, harness.clock.now())
    async with storage.db.tx() as tx:  # a deletion still owed to their chat (their phone may be seized)
        await storage.outbox.enqueue(
            tx,
            key="owed",
            recipient_id=worker.person.id,
            kind="delete",
            params={"chat_id": worker.chat_id, "message_ids": []},
            now=harness.clock.now(),
            due=harness.clock.now() + timedelta(days=3650),
        )
    short = Retention(revoked_people=timedelta(days=10))
    harness.clock.advance(timedelta(days=9))
    assert (await run_purge(storage, short, harness.clock.now())).people_erased == 0
    harness.clock.advance(timedelta(days=2))
    assert (await run_purge(storage, short, harness.clock.now())).people_erased == 0  # owed a deletion
    async with storage.db.tx() as tx:
        await tx.execute("UPDATE outbox SET status = 'sent' WHERE dedupe_key = 'owed'")
    await harness.tick()  # and the clean-up of their enrolment's conversation, due meanwhile
    assert await _count(harness, "SELECT count(*) FROM outbox WHERE status = 'pending'") == 0
    assert (await run_purge(storage, short, harness.clock.now())).people_erased == 1


def _modes(root: Path) -> list[str]:
    """Every directory under `root` (itself included) that is not 0700, every file that is not 0600."""
    wrong = []
    for folder, dirs, files in os.walk(root):
        for name in [".", *dirs]:
            mode = stat.S_IMODE((Path(folder) / name).stat().st_mode)
            if mode != 0o700:
                wrong.append(f"{Path(folder) / name}: {mode:o}")
        for name in files:
            mode = stat.S_IMODE((Path(folder) / name).stat().st_mode)
            if mode != 0o600:
                wrong.append(f"{Path(folder) / name}: {mode:o}")
    return wrong


@pytest.fixture
def lax_umask() -> Iterator[None]:
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


@pytest.mark.usefixtures("lax_umask")
async def test_data_dir_is_private_after_a_run_whatever_the_umask(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)  # as an older version, or a volume, left it
    data.chmod(0o755)
    (data / "outreach.db").touch(mode=0o644)
    harness = Harness(tmp_path)
    await harness.start()
    try:
        manager = await harness.enrol("manager")
        worker = await harness.enrol("worker", "north")
        await check_in(worker)
        await harness.tick()  # writes the heartbeat
        await manager.say("/export")
        await run_purge(harness.storage, harness.config.retention, harness.clock.now())
        backup.make(harness.storage.db.path, tmp_path / "backup.sealed", harness.storage.sealer)
        assert harness.settings.heartbeat_path.exists() and (data / "outreach.db-wal").exists()
        assert _modes(data) == []
    finally:
        await harness.stop()
    assert _modes(data) == []


@pytest.mark.usefixtures("lax_umask")
async def test_plain_bot_data_dir_is_private_whatever_the_umask(tmp_path: Path) -> None:
    harness = PlainHarness(tmp_path)
    await harness.start()
    try:
        manager = await harness.enrol("manager")
        await manager.say("/export")
        assert _modes(tmp_path / "data") == []
    finally:
        await harness.stop()
    assert _modes(tmp_path / "data") == []


def test_retention_periods_are_read_and_checked() -> None:
    from config.errors import ConfigError
    from config.org import parse_org_config
    from tests.auxil.harness import EXAMPLE

    config = parse_org_config(
        EXAMPLE | {"retention": {"audit_log": "200d", "revoked_people": "30d", "invites": "7d", "outbox": "3d"}}
    )
    assert config.retention == Retention(
        audit_log=timedelta(days=200),
        revoked_people=timedelta(days=30),
        invites=timedelta(days=7),
        outbox=timedelta(days=3),
    )
    with pytest.raises(ConfigError, match=r"retention\.outbox"):
        parse_org_config(EXAMPLE | {"retention": {"outbox": "1d"}})  # Telegram's 48 h to delete
    with pytest.raises(ConfigError, match=r"retention\.audit_log"):
        parse_org_config(EXAMPLE | {"retention": {"audit_log": "soon"}})


def test_the_example_config_documents_every_retention_period() -> None:
    text = (Path(__file__).resolve().parent.parent / "config" / "org.example.toml").read_text()
    for name in Retention.__dataclass_fields__:
        assert f"\n{name} = " in text, name
