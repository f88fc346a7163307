"""The one SQLite connection: durable pragmas, serialised transactions, migrations on open."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite
from aiosqlite import Row

from storage.migrations import MIGRATIONS

__all__ = ["Database", "Row", "Tx"]

PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA secure_delete=ON",
    "PRAGMA busy_timeout=5000",
)


class Database:
    """Wraps the single aiosqlite connection; every statement runs under one lock.

    SQLite allows one writer; sharing one connection and serialising on a lock keeps a
    transaction of one coroutine from seeing half of another's.
    """

    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self._conn = conn
        self._lock = asyncio.Lock()
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
        db = cls(conn, path)
        await db.migrate()
        return db

    async def close(self) -> None:
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

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Tx]:
        """Reads only, under the same lock so they never see another coroutine's open transaction."""
        async with self._lock:
            yield Tx(self._conn)

    async def checkpoint(self) -> None:
        async with self._lock:
            await self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


class Tx:
    """Statements inside a transaction (or a read block)."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> int:
        async with self._conn.execute(sql, params) as cur:
            return cur.rowcount

    async def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            await self._conn.executemany(sql, rows)

    async def insert(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        """Run an INSERT and return the new row's id."""
        async with self._conn.execute(sql, params) as cur:
            return int(cur.lastrowid or 0)

    async def one(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> Row | None:
        rows = await self.all(sql, params)
        return rows[0] if rows else None

    async def all(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[Row]:
        # One trip to aiosqlite's thread instead of three (execute, fetch, close).
        return list(await self._conn.execute_fetchall(sql, params))
