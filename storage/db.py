"""The one SQLite connection: durable pragmas, serialised transactions, migrations on open."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite
from aiosqlite import Row

from storage.migrations import MIGRATIONS

__all__ = ["Database", "Row", "Tx"]

READER_PRAGMAS = ("PRAGMA query_only=ON", "PRAGMA busy_timeout=200")
PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA secure_delete=ON",
    "PRAGMA busy_timeout=5000",
)


class Database:
    """One write connection (aiosqlite) under a lock, plus read-only connections for reads.

    SQLite allows one writer; sharing one connection and serialising on a lock keeps a
    transaction of one coroutine from seeing half of another's. In WAL mode readers never wait
    for the writer and see only committed data, so reads skip the lock: short indexed reads run
    on the event loop's own thread (a hop to aiosqlite's thread costs more than the query), long
    scans on a second aiosqlite connection, so neither a scan nor a write stalls the loop.
    """

    def __init__(
        self, conn: aiosqlite.Connection, reader: sqlite3.Connection, scanner: aiosqlite.Connection, path: Path
    ) -> None:
        self._conn = conn
        self._lock = asyncio.Lock()
        self._reader = reader
        self._scanner = scanner
        self._scan_lock = asyncio.Lock()
        self.path = path

    @classmethod
    async def open(cls, path: Path) -> Database:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Created 0600 up front: SQLite gives the -wal and -shm files the database file's mode.
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
        conn = await aiosqlite.connect(path, isolation_level=None)
        conn.row_factory = aiosqlite.Row
        for pragma in PRAGMAS:
            await conn.execute(pragma)
        # Readers open after the writer: it has set WAL mode, which is a property of the file.
        reader = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        reader.row_factory = sqlite3.Row
        scanner = await aiosqlite.connect(path, isolation_level=None)
        scanner.row_factory = aiosqlite.Row
        for pragma in READER_PRAGMAS:
            reader.execute(pragma)
            await scanner.execute(pragma)
        db = cls(conn, reader, scanner, path)
        await db.migrate()
        return db

    async def close(self) -> None:
        async with self._scan_lock:
            await self._scanner.close()
        self._reader.close()
        async with self._lock:
            await self._conn.close()

    async def migrate(self) -> list[str]:
        """Apply each named migration not yet recorded, each in its own transaction."""
        applied: list[str] = []
        async with self._lock:
            await self._conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
            )
            async with self._conn.execute("SELECT name FROM schema_migrations") as cur:
                done = {row[0] for row in await cur.fetchall()}
            for name, statements in MIGRATIONS:
                if name in done:
                    continue
                await self._conn.execute("BEGIN IMMEDIATE")
                try:
                    for statement in statements:
                        await self._conn.execute(statement)
                    await self._conn.execute(
                        "INSERT INTO schema_migrations (name, applied_at) VALUES (?, datetime('now'))", (name,)
                    )
                    await self._conn.execute("COMMIT")
                except BaseException:
                    await self._conn.execute("ROLLBACK")
                    raise
                applied.append(name)
        return applied

    @asynccontextmanager
    async def tx(self) -> AsyncIterator[Tx]:
        """A write transaction: committed when the block ends, rolled back if it raises."""
        async with self._lock:
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield Tx(self._conn)
            except BaseException:
                await self._conn.execute("ROLLBACK")
                raise
            await self._conn.execute("COMMIT")

    def read(self) -> _ReadBlock:
        """Short reads (by key or index, a page at most), on one committed snapshot, on this thread.

        The block must await nothing but its statements (which never suspend), so no other
        coroutine can use the reader in between.
        """
        return _ReadBlock(self._reader)

    @asynccontextmanager
    async def scan(self) -> AsyncIterator[Tx]:
        """Long reads (summaries, exports, whole tables) on one snapshot, off the event loop."""
        async with self._scan_lock:
            await self._scanner.execute("BEGIN")
            try:
                yield Tx(self._scanner)
            finally:
                await self._scanner.execute("COMMIT")

    async def checkpoint(self) -> None:
        async with self._lock:
            await self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


class Tx:
    """Statements inside a transaction (or a read block)."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> int:
        """Run a statement; returns how many rows it inserted, changed or deleted.

        One trip to aiosqlite's thread instead of two (execute, then closing the cursor): the count
        comes from the connection's running total, which nothing else moves while the block holds
        the write lock (the schema has no triggers or cascades that would add to it)."""
        before = self._conn.total_changes
        await self._conn.execute_fetchall(sql, params)
        return self._conn.total_changes - before

    async def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            await self._conn.executemany(sql, rows)

    async def insert(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        """Run an INSERT and return the new row's id (in one trip to aiosqlite's thread)."""
        row = await self._conn.execute_insert(sql, params)
        return int(row[0]) if row else 0

    async def one(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> Row | None:
        rows = await self.all(sql, params)
        return rows[0] if rows else None

    async def all(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[Row]:
        # One trip to aiosqlite's thread instead of three (execute, fetch, close).
        return list(await self._conn.execute_fetchall(sql, params))


class _ReadBlock:
    """`async with db.read() as tx`: BEGIN and COMMIT around the block (a plain class: this is the
    most frequent block of all, and asynccontextmanager's generator costs more than the query)."""

    def __init__(self, reader: sqlite3.Connection) -> None:
        self._reader = reader

    async def __aenter__(self) -> Tx:
        if self._reader.in_transaction:
            raise RuntimeError("a read block awaited something other than its own statements")
        self._reader.execute("BEGIN")
        return Snapshot(self._reader)

    async def __aexit__(self, *exc: object) -> None:
        self._reader.execute("COMMIT")


class Snapshot(Tx):
    """Tx's reading methods over the loop-thread reader; writing raises (the reader is query_only)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._reader = conn

    async def execute(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> int:
        return self._reader.execute(sql, params).rowcount

    async def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        self._reader.executemany(sql, rows)

    async def insert(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        return int(self._reader.execute(sql, params).lastrowid or 0)

    async def all(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[Row]:
        return self._reader.execute(sql, params).fetchall()
