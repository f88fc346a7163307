"""Migrations, durable pragmas, and sealing with real SQLite files and real AES-GCM."""

from __future__ import annotations

import asyncio
import base64
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from storage import Storage
from storage.db import Database
from storage.migrations import MIGRATIONS
from storage.sealing import KeyProblem, Sealer, SealError, load_or_create_key

KEY = bytes(range(32))


async def test_migrations_are_recorded_once_and_pragmas_set(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "t.db")
    try:
        async with db.read() as tx:
            names = [r["name"] for r in await tx.all("SELECT name FROM schema_migrations ORDER BY name")]
            assert names == [name for name, _ in MIGRATIONS]
        async with db.tx() as tx:  # pragmas are the write connection's
            assert (await tx.one("PRAGMA journal_mode"))[0] == "wal"
            assert (await tx.one("PRAGMA synchronous"))[0] == 2  # FULL
            assert (await tx.one("PRAGMA foreign_keys"))[0] == 1
            assert (await tx.one("PRAGMA secure_delete"))[0] == 1
        assert await db.migrate() == []  # applying again changes nothing
    finally:
        await db.close()


async def test_reads_see_committed_data_only_and_cannot_write(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "t.db")
    try:
        async with db.tx() as tx:
            await tx.execute("INSERT INTO meta (key, value_sealed) VALUES ('a', x'00')")
        async with db.tx() as tx:
            await tx.execute("INSERT INTO meta (key, value_sealed) VALUES ('b', x'00')")
            # A reader during an open write transaction neither waits for it nor sees it.
            async with db.read() as reader:
                assert [r["key"] for r in await reader.all("SELECT key FROM meta ORDER BY key")] == ["a"]
            async with db.scan() as reader:
                assert [r["key"] for r in await reader.all("SELECT key FROM meta ORDER BY key")] == ["a"]
        async with db.read() as reader:
            assert [r["key"] for r in await reader.all("SELECT key FROM meta ORDER BY key")] == ["a", "b"]
            with pytest.raises(sqlite3.OperationalError):
                await reader.execute("DELETE FROM meta")
        async with db.scan() as reader:
            with pytest.raises(sqlite3.OperationalError):
                await reader.execute("DELETE FROM meta")
        async with db.read() as reader:
            assert len(await reader.all("SELECT key FROM meta")) == 2
    finally:
        await db.close()


async def test_execute_counts_rows_and_insert_returns_the_row_id(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "t.db")
    try:
        async with db.tx() as tx:
            sql = "INSERT INTO meta (key, value_sealed) VALUES (?, x'00') ON CONFLICT (key) DO NOTHING"
            assert [await tx.execute(sql, (k,)) for k in ("a", "b", "c", "a")] == [1, 1, 1, 0]
            assert await tx.execute("UPDATE meta SET value_sealed = x'01' WHERE key != ?", ("a",)) == 2
            assert await tx.execute("SELECT * FROM meta") == 0
            assert await tx.execute("DELETE FROM meta WHERE key IN ('a', 'b', 'zz')") == 2
            first = await tx.insert("INSERT INTO schema_migrations (name, applied_at) VALUES ('x', 'now')")
            row = await tx.one("SELECT rowid FROM schema_migrations WHERE name = 'x'")
            assert row is not None and first == row[0] > 0
    finally:
        await db.close()


async def test_a_write_waits_off_the_loop_while_another_process_writes(tmp_path: Path) -> None:
    """`outreach-bot revoke` writing from another process: the bot's write waits, the loop does not."""
    db = await Database.open(tmp_path / "t.db")
    other = sqlite3.connect(tmp_path / "t.db", isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO meta (key, value_sealed) VALUES ('other', x'00')")

        async def write() -> None:
            async with db.tx() as tx:
                await tx.execute("INSERT INTO meta (key, value_sealed) VALUES ('bot', x'00')")

        writing = asyncio.create_task(write())
        ticks = 0
        for _ in range(20):  # the event loop keeps running while the write waits for the lock
            await asyncio.sleep(0)
            ticks += 1
        assert not writing.done() and ticks == 20
        other.execute("COMMIT")
        await asyncio.wait_for(writing, 5)
        async with db.read() as tx:
            assert [r["key"] for r in await tx.all("SELECT key FROM meta ORDER BY key")] == ["bot", "other"]
    finally:
        other.close()
        await db.close()


async def test_failed_migration_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = [*MIGRATIONS, ("9999_broken", ("CREATE TABLE half (x INTEGER)", "THIS IS NOT SQL"))]
    monkeypatch.setattr("storage.db.MIGRATIONS", broken)
    with pytest.raises(sqlite3.OperationalError):
        await Database.open(tmp_path / "t.db")
    conn = sqlite3.connect(tmp_path / "t.db")
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    applied = {r[0] for r in conn.execute("SELECT name FROM schema_migrations")}
    conn.close()
    assert "half" not in tables and "9999_broken" not in applied and "0001_foundation" in applied


async def test_transaction_rolls_back_on_error(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "t.db")
    try:
        with pytest.raises(RuntimeError):
            async with db.tx() as tx:
                await tx.execute("INSERT INTO audit_log (at, action) VALUES ('x', 'y')")
                raise RuntimeError("boom")
        async with db.read() as tx:
            assert (await tx.one("SELECT count(*) FROM audit_log"))[0] == 0
    finally:
        await db.close()


def test_seal_round_trip_and_binding() -> None:
    sealer = Sealer(KEY)
    sealed = sealer.seal("Parque Central", "checkins", "place", "row1")
    assert b"Parque" not in sealed and sealed[1:5] == sealer.key_id
    assert sealer.open(sealed, "checkins", "place", "row1") == "Parque Central"
    assert sealer.seal("x", "t", "c", "r") != sealer.seal("x", "t", "c", "r")  # fresh nonce every time
    with pytest.raises(SealError, match="another row"):
        sealer.open(sealed, "checkins", "place", "row2")
    with pytest.raises(SealError):
        sealer.open(sealed, "checkins", "note", "row1")


def test_tampering_and_wrong_key_fail_loudly() -> None:
    sealer = Sealer(KEY)
    sealed = bytearray(sealer.seal("secret", "t", "c", "r"))
    sealed[-1] ^= 1
    with pytest.raises(SealError, match="tampered"):
        sealer.open(bytes(sealed), "t", "c", "r")
    with pytest.raises(SealError, match="unknown key"):
        Sealer(os.urandom(32)).open(sealer.seal("secret", "t", "c", "r"), "t", "c", "r")
    with pytest.raises(SealError, match="not a sealed value"):
        sealer.open(b"plain text", "t", "c", "r")


def test_old_key_still_opens_during_rotation() -> None:
    old = Sealer(KEY)
    sealed = old.seal("v", "t", "c", "r")
    new = Sealer(os.urandom(32), old_masters=(KEY,))
    assert new.open(sealed, "t", "c", "r") == "v"
    assert new.seal("v", "t", "c", "r")[1:5] == new.key_id != old.key_id


def test_key_file_is_created_0600_and_env_key_wins(tmp_path: Path) -> None:
    path = tmp_path / "data" / "key"
    key = load_or_create_key(None, path, create=True)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(key) == 32
    assert load_or_create_key(None, path, create=False) == key
    other = base64.b64encode(os.urandom(32)).decode()
    assert load_or_create_key(other, path, create=False) == base64.b64decode(other)
    with pytest.raises(KeyProblem):
        load_or_create_key("not base64!!", path, create=False)
    with pytest.raises(KeyProblem):
        load_or_create_key(None, tmp_path / "none", create=False)


async def test_database_opened_with_wrong_key_refuses_to_read(tmp_path: Path) -> None:
    storage = await Storage.open(tmp_path / "t.db", KEY)
    await storage.meta_set("bot_username", "demo_bot")
    await storage.close()
    stranger = await Storage.open(tmp_path / "t.db", os.urandom(32))
    try:
        with pytest.raises(SealError):
            await stranger.meta_get("bot_username")
    finally:
        await stranger.close()


async def test_database_files_are_private(tmp_path: Path) -> None:
    storage = await Storage.open(tmp_path / "data" / "outreach.db", KEY)
    await storage.meta_set("k", "v")
    try:
        for file in (tmp_path / "data").glob("outreach.db*"):
            assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
        assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700
    finally:
        await storage.close()
