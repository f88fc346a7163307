"""No telling metadata in clear (issue 13): after a realistic shift, no column of the database, nor its bytes
(WAL included), says duress, police, sexual violence, arrest, who was affected, what support was needed or
'afraid'; summaries, timelines, /incident and exports still show every value; rotate-key re-codes the
tokens; rows of an older version, written in clear, are re-coded once when storage opens."""

from __future__ import annotations

import csv
import io
import secrets
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.services import incidents as inc
from bot.services.summary import build, this_week
from storage import Storage
from storage.codes import CODED
from storage.db import Database
from storage.rotation import rotate
from storage.sealing import Sealer
from tests.auxil.harness import Chatter, Harness
from tests.test_alert_codes import _config, _people, _set_pins, _urgent
from tests.test_checkin import check_in
from tests.test_reports import BUTTONS, file_by_buttons

# Words no value may contain, anywhere in the database.
TELLING = ("duress", "police", "sexual", "arrest", "afraid", "legal_action", "missed_checkout", "alert.raise")
# Values no column may hold, whole or as a part of an action ("alert.raise:duress").
VOCABULARY = (
    set(inc.CATEGORIES)
    | set(inc.PERPETRATORS)
    | set(inc.AFFECTED)
    | (set(inc.SUPPORT) - {"none"})
    | {"afraid", "legal_action", "support_given", "referred", "duress", "red", "yellow", "missed_checkout"}
    | {"something_happened"}
)
SEXUAL = ["rp:category:sexual", "rp:affected:colleague", *BUTTONS[2:7], "rp:support:medical", "rp:authorities:afraid"]


def _db(h: Harness) -> Path:
    return h.settings.data_dir / "outreach.db"


def _raw(h: Harness) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(h.settings.data_dir.glob("outreach.db*")))


def _text_values(db: Path) -> list[tuple[str, str, str]]:
    """(table, column, value) of every text value of every column of every table."""
    found = []
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            columns = [r[1] for r in connection.execute(f"PRAGMA table_info({table})")]
            for row in connection.execute(f"SELECT * FROM {table}"):
                found += [(table, c, v) for c, v in zip(columns, row, strict=True) if isinstance(v, str)]
    finally:
        connection.close()
    return found


def _assert_nothing_tells(h: Harness) -> None:
    values = _text_values(_db(h))
    assert len(values) > 100
    for table, column, value in values:
        lowered = value.casefold()
        assert not any(word in lowered for word in TELLING), (table, column, value)
        parts = {lowered, *lowered.replace(".", ":").split(":")}
        assert not parts & VOCABULARY, (table, column, value)
    raw = _raw(h).lower()
    for word in TELLING:
        clear = raw.count(word.encode())
        if word == "duress":  # the schema's column name people.pin_duress says nothing about anyone
            clear -= raw.count(b"pin_duress")
        assert clear == 0, word
    schema = _schema(_db(h))
    # Shorter ones ("me", "red") are found by chance in any file; the schema names tables ("organizations").
    for value in sorted(v for v in VOCABULARY if len(v) >= 5 and v not in schema):
        assert value.encode() not in raw, value


def _schema(db: Path) -> str:
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return " ".join(r[0] or "" for r in connection.execute("SELECT sql FROM sqlite_master")).lower()
    finally:
        connection.close()


async def _shift(h: Harness) -> tuple[Chatter, Chatter, str]:
    """A red code word, a duress PIN at check-out, a missed check-out, two reports (arrest by the police,
    sexual assault with a colleague affected, support needed, afraid to tell), a follow-up with a note.
    Returns the worker, a manager and the second report's reference."""
    worker, supervisor, manager = await _people(h)
    other = await h.enrol("worker", "north")
    await _set_pins(worker)
    await check_in(worker)
    await worker.say("Buy bread!")
    question = (await worker.say("/checkout"))[-1]
    await worker.tap(question, question.buttons[0][1])
    mine = [s.text for s in await worker.say("1379") if s.shows and s.chat_id == worker.chat_id]
    assert mine == ["Checked out. Thank you, take care."]
    assert len(_urgent(h, supervisor.chat_id)) == 2  # the red code, then the duress PIN
    await check_in(other, duration="ci:dur:30")
    h.clock.advance(timedelta(minutes=41))
    await h.tick()  # missed check-out
    await file_by_buttons(worker)
    sexual = await file_by_buttons(other, SEXUAL)
    sent = await supervisor.say(f"/incident {sexual}")
    await supervisor.tap(sent[-1], f"fu:{sexual}:legal_action")
    await supervisor.say("Mkfollow lawyer called")
    return worker, manager, sexual


async def test_a_shift_leaves_no_telling_value_in_any_column_and_every_view_still_reads(tmp_path: Path) -> None:
    h = Harness(tmp_path, _config(checkout={"pin": True}))
    await h.start()
    try:
        worker, manager, sexual = await _shift(h)
        assert (h.settings.data_dir / "outreach.db-wal").exists()  # the WAL is scanned too, before a checkpoint
        _assert_nothing_tells(h)

        # Everything still reads as it was written.
        async with h.storage.db.read() as tx:
            actions = [a for a, _, _ in await h.storage.audit.actions(tx)]
            alerts = await h.storage.alerts.active_in_org(tx, worker.person.org_id)
            found = await h.storage.incidents.by_ref(tx, worker.person.org_id, sexual)
            assert found is not None
            followups = await h.storage.incidents.followups(tx, found.id)
        assert {"alert.raise:red", "alert.raise:duress", "checkin.close:fine", "incident.followup:legal_action"} <= set(
            actions
        )
        assert sorted(a.kind for a in alerts) == ["duress", "missed_checkout", "red"]
        assert (found.category, found.affected, found.perpetrator) == ("sexual", "colleague", "police")
        assert found.severity == 3
        assert (found.support, found.authorities, found.status) == ("medical", "afraid", "legal_action")
        assert [(f.status, f.note) for f in followups] == [("legal_action", "Mkfollow lawyer called")]
        shown = (await manager.say(f"/incident {sexual}"))[-1].text
        assert "Sexual harassment or assault" in shown and "Legal action" in shown
        page = (await manager.say("/timeline 4w sexual"))[-1].text
        assert page.startswith("Incidents 1–1 of 1") and sexual in page
        await manager.say("/summary")
        text = [s for s in h.api.to(manager.chat_id) if s.method == "sendMessage"][-1].text
        assert "Arrest or detention 1" in text and "Sexual harassment or assault 1" in text
        assert "By who did it: Police or security forces 2" in text and "Missed check-outs: 1. Alerts: 3." in text
        summary = await build(h.storage, worker.person.org_id, this_week(h.clock.now(), h.config.tz), h.config.tz)
        assert summary.by_category == {"arrest": 1, "sexual": 1} and summary.by_severity == {3: 2}
        assert summary.by_perpetrator == {"police": 2} and summary.missed_checkouts == 1
        await manager.say("/export")
        document = [c for m, c in h.api.calls if m == "sendDocument"][-1]
        rows = list(csv.reader(io.StringIO(document["document"]["content"].decode("utf-8-sig"))))
        content = "\n".join(",".join(r) for r in rows)
        assert "Arrest or detention" in content and "Sexual harassment or assault" in content
        assert "Police or security forces" in content
    finally:
        await h.stop()
    _assert_nothing_tells(h)  # and after the last checkpoint


async def _coded_values(db_path: Path) -> dict[str, set[str]]:
    """Every value every coded column holds, by column."""
    connection = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return {
            f"{spec.table}.{c}": {str(r[0]) for r in connection.execute(f"SELECT {c} FROM {spec.table}") if r[0]}
            for spec in CODED
            for c in spec.columns
        }
    finally:
        connection.close()


def _code_tokens(db_path: Path) -> set[str]:
    connection = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return {r[0] for r in connection.execute("SELECT token FROM codes")}
    finally:
        connection.close()


async def test_rotate_key_recodes_every_token_interrupted_and_resumed(tmp_path: Path) -> None:
    h = Harness(tmp_path, _config(checkout={"pin": True}))
    await h.start()
    worker, _, sexual = await _shift(h)
    org_id, week = worker.person.org_id, this_week(h.clock.now(), h.config.tz)
    before = await build(h.storage, org_id, week, h.config.tz)
    old_key = h.app.bot_data.key
    await h.stop()
    db_path = _db(h)
    old_values = await _coded_values(db_path)
    old_tokens = set().union(*old_values.values())
    assert old_tokens <= _code_tokens(db_path)

    new_key = secrets.token_bytes(32)
    runs, mixed = 0, False
    while True:  # a few rows at a time, as runs that were interrupted and resumed
        db = await Database.open(db_path)
        try:
            _, left = await rotate(db, Sealer(new_key, old_masters=(old_key,)), stop_after=7)
        finally:
            await db.close()
        runs += 1
        tokens = _code_tokens(db_path)
        mixed |= bool(tokens & old_tokens) and bool(tokens - old_tokens)
        if left == 0:
            break
        assert runs < 500
    assert runs > 2 and mixed  # stopped half-way through the re-coding at least once

    new_values = await _coded_values(db_path)
    assert not set().union(*new_values.values()) & old_tokens  # no old token in any column
    assert not _code_tokens(db_path) & old_tokens  # nor in the codes table
    assert {k: len(v) for k, v in new_values.items()} == {k: len(v) for k, v in old_values.items()}

    storage = await Storage.open(db_path, new_key)
    try:
        after = await build(storage, org_id, week, h.config.tz)
        async with storage.db.read() as tx:
            found = await storage.incidents.by_ref(tx, org_id, sexual)
            actions = [a for a, _, _ in await storage.audit.actions(tx)]
    finally:
        await storage.close()
    assert (after.by_category, after.by_perpetrator, after.by_severity) == (
        before.by_category,
        before.by_perpetrator,
        before.by_severity,
    )
    assert after.missed_checkouts == before.missed_checkouts == 1 and after.open_followups == before.open_followups
    assert found is not None
    assert (found.category, found.status, found.authorities) == ("sexual", "legal_action", "afraid")
    assert "alert.raise:duress" in actions


async def test_clear_values_of_an_older_version_are_recoded_once_at_open(tmp_path: Path) -> None:
    h = Harness(tmp_path, _config(checkout={"pin": True}))
    await h.start()
    worker, _, sexual = await _shift(h)
    org_id, key = worker.person.org_id, h.app.bot_data.key
    await h.stop()
    db_path = _db(h)
    # As an older version left them: clear values, and no record that they were coded.
    connection = sqlite3.connect(db_path)
    with connection:
        connection.execute("UPDATE incidents SET category = 'sexual', perpetrator = 'police', severity = 4")
        connection.execute("UPDATE incidents SET support = 'medical', status = 'legal_action' WHERE ref = ?", (sexual,))
        connection.execute("UPDATE alerts SET kind = 'duress'")
        connection.execute("UPDATE checkins SET outcome = 'duress' WHERE outcome IS NOT NULL")
        connection.execute("UPDATE audit_log SET action = 'alert.raise:duress'")
        connection.execute("DELETE FROM meta WHERE key = 'columns_coded'")
    connection.close()
    assert "duress" in {v for _, _, v in _text_values(db_path)}

    storage = await Storage.open(db_path, key)
    try:
        async with storage.db.read() as tx:
            found = await storage.incidents.by_ref(tx, org_id, sexual)
            alerts = await storage.alerts.active_in_org(tx, org_id)
            actions = {a for a, _, _ in await storage.audit.actions(tx)}
    finally:
        await storage.close()
    assert found is not None and (found.category, found.perpetrator, found.severity) == ("sexual", "police", 4)
    assert (found.support, found.status) == ("medical", "legal_action")
    assert {a.kind for a in alerts} == {"duress"} and actions == {"alert.raise:duress"}
    for table, column, value in _text_values(db_path):
        assert not any(word in value.casefold() for word in TELLING), (table, column, value)


async def test_a_value_first_written_in_a_transaction_that_rolled_back_is_written_again(tmp_path: Path) -> None:
    """The code row goes with the rolled-back transaction; the next use must write it again, or the value
    could never be read back by the next process."""
    key, db_path = secrets.token_bytes(32), tmp_path / "outreach.db"
    storage = await Storage.open(db_path, key)
    try:
        now = datetime(2026, 11, 23, tzinfo=UTC)
        with pytest.raises(RuntimeError):
            async with storage.db.tx() as tx:
                await storage.audit.record(tx, now, "alert.raise:duress", org_id=None, actor_id=None, subject_id=None)
                raise RuntimeError("rolled back")
        async with storage.db.tx() as tx:
            await storage.audit.record(tx, now, "alert.raise:duress", org_id=None, actor_id=None, subject_id=None)
    finally:
        await storage.close()
    storage = await Storage.open(db_path, key)  # another process: only the codes table knows the value
    try:
        async with storage.db.read() as tx:
            assert await storage.audit.actions(tx) == [("alert.raise:duress", None, None)]
    finally:
        await storage.close()


def test_written_out_statements_name_the_coded_columns() -> None:
    """Each coded table's statements are written out (no SQL from names): they must name its columns."""
    from storage.codes import CODED

    for spec in CODED:
        assert spec.select == f"SELECT {spec.key}, {', '.join(spec.columns)} FROM {spec.table}", spec.table
        assignments = ", ".join(f"{c} = ?" for c in spec.columns)
        assert spec.update == f"UPDATE {spec.table} SET {assignments} WHERE {spec.key} = ?", spec.table
