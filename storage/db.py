"""The one write connection: durable pragmas, serialised transactions, migrations on open."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite
from aiosqlite import Row

from storage.migrations import MIGRATIONS

__all__ = ["Database", "Row", "Tx"]

T = TypeVar("T")
READER_PRAGMAS = ("PRAGMA query_only=ON", "PRAGMA busy_timeout=200")
PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA secure_delete=ON",
    "PRAGMA busy_timeout=0",  # never wait on the event loop; see Database.tx
)
WAIT_FOR_OTHER_WRITER = "PRAGMA busy_timeout=5000"  # ms; off the loop only, see _begin_waiting


class Database:
    """One write connection under a lock, plus read-only connections.

    SQLite allows one writer; sharing one connection and serialising on a lock keeps a
    transaction of one coroutine from seeing half of another's. Only what waits on the disk or on
    another process leaves the event loop: COMMIT (the fsync) runs on the writer's own thread, and
    so does BEGIN when another process (`outreach-bot revoke`) holds the write lock. The statements
    in between touch only SQLite's page cache and take microseconds, so they run inline: a trip to
    another thread for each (aiosqlite's way) held the write lock for as long as the busy event loop
    took to come back to the transaction, and at shift start that lock became the bottleneck.

    In WAL mode readers never wait for the writer and see only committed data, so reads skip the
    lock: short indexed reads run inline on a read-only connection, long scans on an aiosqlite
    connection of their own, so that neither a scan nor a write stalls the loop.
    """

    def __init__(
        self, writer: sqlite3.Connection, reader: sqlite3.Connection, scanner: aiosqlite.Connection, path: Path
    ) -> None:
        self._writer = writer
        self._io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
        self._lock = asyncio.Lock()
        self._reader = reader
        self._scanner = scanner
        self._scan_lock = asyncio.Lock()
        self._group: asyncio.Future[None] | None = None  # the transactions awaiting the next COMMIT
        self._committer: asyncio.Task[None] | None = None
        self.path = path
        # Called when a write transaction rolls back: what a repository remembered of it is forgotten.
        self.on_rollback: list[Callable[[], None]] = []

    @classmethod
    async def open(cls, path: Path) -> Database:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Created 0600 up front: SQLite gives the -wal and -shm files the database file's mode.
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
        _private(path)
        writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=0)
        writer.row_factory = sqlite3.Row
        for pragma in PRAGMAS:
            writer.execute(pragma)
        # Readers open after the writer: it has set WAL mode, which is a property of the file.
        reader = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        reader.row_factory = sqlite3.Row
        scanner = await aiosqlite.connect(path, isolation_level=None)
        scanner.row_factory = aiosqlite.Row
        for pragma in READER_PRAGMAS:
            reader.execute(pragma)
            await scanner.execute(pragma)
        db = cls(writer, reader, scanner, path)
        await db.migrate()
        return db

    async def _off_loop(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._io, fn)

    async def close(self) -> None:
        async with self._scan_lock:
            await self._scanner.close()
        self._reader.close()
        async with self._lock:
            await self._off_loop(self._writer.close)
        self._io.shutdown(wait=True)

    async def migrate(self) -> list[str]:
        """Apply each named migration not yet recorded, each in its own transaction."""
        applied: list[str] = []
        self._writer.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
        done = {row[0] for row in self._writer.execute("SELECT name FROM schema_migrations").fetchall()}
        for name, statements in MIGRATIONS:
            if name in done:
                continue
            async with self.tx() as tx:
                for statement in statements:
                    await tx.execute(statement)
                await tx.execute(
                    "INSERT INTO schema_migrations (name, applied_at) VALUES (?, datetime('now'))", (name,)
                )
            applied.append(name)
        return applied

    def _run(self, sql: str) -> list[Any]:
        """A statement run to its end: a cursor left behind (say, in a future's result) would keep
        its statement open, and SQLite refuses to COMMIT while one is."""
        return self._writer.execute(sql).fetchall()

    def _begin_waiting(self) -> None:
        """BEGIN IMMEDIATE that waits (off the loop) while another process holds the write lock."""
        self._writer.execute(WAIT_FOR_OTHER_WRITER)
        try:
            self._writer.execute("BEGIN IMMEDIATE")
        finally:
            self._writer.execute("PRAGMA busy_timeout=0")

    def tx(self) -> _WriteBlock:
        """A write transaction: durable when the block ends, rolled back if it raises.

        Transactions that run while a COMMIT is on its way to the disk commit together (group
        commit): each is a SAVEPOINT inside one open transaction, and each waits for the one COMMIT
        (one fsync) of its group. With synchronous=FULL an fsync per transaction was the bottleneck
        once every step of a conversation is stored."""
        return _WriteBlock(self)

    async def _enter(self) -> asyncio.Future[None]:
        """Take the lock and open this transaction's savepoint; the future of its group's COMMIT."""
        await self._lock.acquire()
        try:
            if not self._writer.in_transaction:
                try:
                    self._writer.execute("BEGIN IMMEDIATE")
                except sqlite3.OperationalError:  # busy: another process is writing
                    await self._off_loop(self._begin_waiting)
                self._group = asyncio.get_running_loop().create_future()
                self._committer = asyncio.create_task(self._commit_group())
            assert self._group is not None
            self._writer.execute("SAVEPOINT tx")
        except BaseException:
            self._lock.release()
            raise
        return self._group

    def _leave(self, failed: bool) -> None:
        """End the savepoint (undone if the block raised) and let the next transaction in."""
        try:
            if failed:
                self._writer.execute("ROLLBACK TO tx")
            self._writer.execute("RELEASE tx")
        finally:
            if failed:
                self._rolled_back()
            self._lock.release()

    def _rolled_back(self) -> None:
        for hook in self.on_rollback:
            hook()

    async def _commit_group(self) -> None:
        """Commit every transaction of the current group in one COMMIT; tell each of them."""
        await asyncio.sleep(0)  # let transactions that are ready to run join this group
        async with self._lock:
            group, self._group = self._group, None
            assert group is not None
            try:
                await self._off_loop(lambda: self._run("COMMIT"))
            except BaseException as exc:
                if self._writer.in_transaction:  # a failed COMMIT leaves the transaction open
                    self._writer.execute("ROLLBACK")
                self._rolled_back()
                group.set_exception(exc)
                group.exception()  # retrieved here too: no "never retrieved" warning if all waiters left
                return
            group.set_result(None)

    def read(self) -> _ReadBlock:
        """Short reads (by key or index, a page at most), on one committed snapshot, on this thread.

        The block must await nothing but its statements (which never suspend), so no other
        coroutine can use the reader in between.
        """
        return _ReadBlock(self._reader)

    def read_now(self, sql: str, params: tuple[Any, ...] = ()) -> Row | None:
        """One row by key, read at once on the reader: for a rare look-up in code that cannot await."""
        rows = self._reader.execute(sql, params).fetchall()  # fetched to the end: no statement left open
        return rows[0] if rows else None

    @asynccontextmanager
    async def scan(self) -> AsyncIterator[Tx]:
        """Long reads (summaries, exports, whole tables) on one snapshot, off the event loop."""
        async with self._scan_lock:
            await self._scanner.execute("BEGIN")
            try:
                yield Tx(self._scanner)
            finally:
                await self._scanner.execute("COMMIT")

    async def checkpoint(self) -> bool:
        """Copy the WAL into the database and truncate it; False if a reader's snapshot kept it from
        finishing (SQLite's `busy`), so the WAL may still hold old pages."""
        async with self._lock:
            rows = await self._off_loop(lambda: self._run("PRAGMA wal_checkpoint(TRUNCATE)"))
        return bool(rows) and rows[0][0] == 0


def _private(path: Path) -> None:
    """The data dir 0700 and the database's files 0600, also when an older version, a restore or a lax
    umask left them wider. What is not ours to change (a volume mounted by root) stays as the operator set
    it: `outreach-bot run` says so (bot/cli.py)."""
    for target, mode in ((path.parent, 0o700), (path, 0o600)):
        try:
            if target.is_dir() and target.stat().st_mode & stat.S_ISVTX:
                continue  # a shared directory such as /tmp is never the data dir: not ours to close
            target.chmod(mode)
        except OSError:
            pass
    for suffix in ("-wal", "-shm"):
        try:
            path.with_name(path.name + suffix).chmod(0o600)
        except OSError:  # absent, mostly: SQLite then makes it with the database file's mode
            pass


class Tx:
    """Statements in a block: `db.scan()` runs them on aiosqlite's thread (this class); `db.read()`
    and `db.tx()` inline (Snapshot, WriteTx). Repositories take any of them."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> int:
        """Run a statement; returns how many rows it inserted, changed or deleted (a scan: none)."""
        before = self._conn.total_changes
        await self._conn.execute_fetchall(sql, params)
        return self._conn.total_changes - before

    async def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            await self._conn.executemany(sql, rows)

    async def insert(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        """Run an INSERT and return the new row's id."""
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


class _WriteBlock:
    """`async with db.tx() as tx` (see Database.tx): a plain class, like _ReadBlock, because every
    step of every conversation is one."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._group: asyncio.Future[None] | None = None

    async def __aenter__(self) -> Tx:
        self._group = await self._db._enter()
        return WriteTx(self._db._writer)

    async def __aexit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        self._db._leave(failed=kind is not None)
        if kind is None:
            assert self._group is not None
            await asyncio.shield(self._group)


class Snapshot(Tx):
    """Tx's methods, inline on a plain sqlite3 connection: the read-only reader (writing raises,
    it is query_only), or the writer inside `Database.tx` (see WriteTx)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._reader = conn

    async def execute(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> int:
        cursor = self._reader.execute(sql, params)
        try:
            return max(cursor.rowcount, 0)
        finally:
            cursor.close()  # ends the statement even if it returned rows: COMMIT needs none open

    async def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        self._reader.executemany(sql, rows).close()

    async def insert(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        cursor = self._reader.execute(sql, params)
        try:
            return int(cursor.lastrowid or 0)
        finally:
            cursor.close()

    async def all(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[Row]:
        return self._reader.execute(sql, params).fetchall()


class WriteTx(Snapshot):
    """Statements of a write transaction, inline: they only touch SQLite's page cache."""
