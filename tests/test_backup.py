"""`outreach-bot backup` while the bot works, and `restore` that checks before it replaces anything."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from storage import backup
from storage.sealing import Sealer
from tests.auxil.harness import Harness
from tests.test_checkin import check_in
from tests.test_keys import _cli, _running, one_line


def _open_checkins(db: Path) -> set[str]:
    conn = sqlite3.connect(db)
    try:
        return {r[0] for r in conn.execute("SELECT person_id FROM checkins WHERE status = 'open'")}
    finally:
        conn.close()


async def test_a_backup_under_load_restores_everything_confirmed_before_it(tmp_path: Path) -> None:
    harness = Harness(tmp_path)
    await harness.start()
    workers = [await harness.enrol("worker", "north") for _ in range(40)]
    confirmed: set[str] = set()

    async def shift(worker) -> None:
        sent = await check_in(worker)
        assert sent[-1].text.startswith("Checked in"), sent[-1].text
        confirmed.add(worker.person.id)

    async def shifts(some: list) -> None:  # one after another: the harness reads each answer in turn
        for worker in some:
            await shift(worker)

    await shifts(workers[:20])
    before = set(confirmed)
    out = tmp_path / "outreach.backup"
    sealer = Sealer(harness.app.bot_data.key)
    copying = asyncio.to_thread(backup.make, harness.settings.db_path, out, sealer)
    await asyncio.gather(copying, shifts(workers[20:]))  # still checking in while the copy is made
    await harness.stop()
    raw = out.read_bytes()
    assert b"SQLite format" not in raw and raw.startswith(backup.MAGIC)  # sealed whole

    restored = tmp_path / "elsewhere" / "data"  # a new machine: the backup and the key file, nothing else
    key = {"OUTREACH_KEY_FILE": str(tmp_path / "keys" / "key")}
    done = _cli(restored, "restore", "--yes", str(out), env_extra=key)
    assert done.returncode == 0 and "Restored." in done.stdout and "40 people" in done.stdout, done.stderr
    present = _open_checkins(restored / "outreach.db")
    assert before <= present and present <= confirmed | before  # all confirmed before it, nothing invented
    opened = _cli(restored, "revoke", workers[0].person.code, env_extra=key)  # the restored database opens and works
    assert opened.returncode == 0, opened.stderr


async def test_restore_refuses_what_it_cannot_trust_and_changes_nothing(tmp_path: Path) -> None:
    harness = Harness(tmp_path)
    await harness.start()
    worker = await harness.enrol("worker", "north")
    await check_in(worker)
    await harness.stop()
    data = harness.settings.data_dir
    good = tmp_path / "good.backup"
    with _running(data):  # the bot may run while a backup is taken
        assert _cli(data, "backup", str(good)).returncode == 0
        one_line(_cli(data, "restore", "--yes", str(good)), "stop it first")
    one_line(_cli(data, "backup", str(good)), "never overwrites")
    snapshot = (data / "outreach.db").read_bytes()

    damaged = tmp_path / "damaged.backup"
    raw = bytearray(good.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    damaged.write_bytes(bytes(raw))
    one_line(_cli(data, "restore", "--yes", str(damaged)), "damaged")
    cut = tmp_path / "cut.backup"
    cut.write_bytes(good.read_bytes()[: len(raw) - 100])
    one_line(_cli(data, "restore", "--yes", str(cut)), "cut short")
    notes = tmp_path / "notes.txt"
    notes.write_text("not a backup")
    one_line(_cli(data, "restore", "--yes", str(notes)), "is not an outreach-bot backup")

    other_key = tmp_path / "other" / "keys" / "key"
    assert _cli(other_key.parent.parent / "data", "init").returncode == 0
    one_line(_cli(data, "restore", "--yes", str(good), env_extra={"OUTREACH_KEY_FILE": str(other_key)}), "another key")

    # Another organisation's installation with the same key (a copied key file): its backup is refused.
    twin, same_key = tmp_path / "twin" / "data", {"OUTREACH_KEY_FILE": str(tmp_path / "keys" / "key")}
    assert _cli(twin, "init", env_extra=same_key).returncode == 0
    theirs = tmp_path / "theirs.backup"
    assert _cli(twin, "backup", str(theirs), env_extra=same_key).returncode == 0
    one_line(_cli(data, "restore", "--yes", str(theirs)), "another organisation")
    one_line(_cli(data, "restore", str(good), stdin="no\n"), "nothing replaced")
    assert (data / "outreach.db").read_bytes() == snapshot
