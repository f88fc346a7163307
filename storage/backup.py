"""Backups: a consistent copy of the database taken while the bot runs, sealed whole under the key.

The copy is SQLite's online backup (one read snapshot: every transaction committed before it began is
in it, none half). The file is then sealed in chunks with AES-GCM under a key derived from the master
key, so that even the columns kept in clear in the database (statuses, times) say nothing without the
key. Each chunk's associated data binds its number and whether it is the last: a backup cut short, or
with chunks swapped, does not open.

    OUTREACH-BACKUP 1\n | key id (4) | chunk*   where chunk = length (4, big-endian) | nonce (12) | ciphertext
"""

from __future__ import annotations

import os
import sqlite3
import struct
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from storage.sealing import Sealer

MAGIC = b"OUTREACH-BACKUP 1\n"
CHUNK = 1 << 20
COUNTED = {  # each statement written out: no SQL is built from strings
    "people": "SELECT count(*) FROM people",
    "checkins": "SELECT count(*) FROM checkins",
    "alerts": "SELECT count(*) FROM alerts",
    "incidents": "SELECT count(*) FROM incidents",
    "outbox": "SELECT count(*) FROM outbox",
}


class BackupProblem(Exception):
    """A backup that cannot be restored: one line saying why."""


@dataclass(frozen=True)
class Checked:
    """What a backup holds, once opened and checked."""

    org_id: str | None
    counts: dict[str, int]
    migrations: int


def _copy(db_path: Path, target: Path) -> None:
    """SQLite's online backup into `target`, from a connection of its own (the bot may be writing)."""
    source = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)  # all pages in one step: one snapshot
    finally:
        copy.close()
        source.close()


def _private(path: Path) -> int:
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)


def make(db_path: Path, out: Path, sealer: Sealer) -> int:
    """Write the sealed backup of `db_path` to `out` (0600, refused if it exists); its size in bytes.
    The plain copy is made in the data dir, beside the database it copies, and removed at once."""
    plain = db_path.with_name(f".backup-{os.getpid()}.db")
    plain.unlink(missing_ok=True)
    os.close(_private(plain))
    try:
        _copy(db_path, plain)
        aead = AESGCM(sealer.derive(b"backup"))
        with plain.open("rb") as source, os.fdopen(_private(out), "wb") as target:
            target.write(MAGIC + sealer.key_id)
            number, chunk = 0, source.read(CHUNK)
            while True:
                following = source.read(CHUNK)
                nonce = os.urandom(12)
                sealed = aead.encrypt(nonce, chunk, _ad(sealer.key_id, number, last=not following))
                target.write(struct.pack(">I", len(sealed)) + nonce + sealed)
                if not following:
                    break
                number, chunk = number + 1, following
            target.flush()
            os.fsync(target.fileno())
    finally:
        plain.unlink(missing_ok=True)
    return out.stat().st_size


def _ad(key_id: bytes, number: int, *, last: bool) -> bytes:
    return MAGIC + key_id + struct.pack(">Q?", number, last)


def unseal(backup: Path, target: Path, sealer: Sealer) -> None:
    """The database inside a backup, written to `target` (0600); BackupProblem if it does not open."""
    try:
        data = backup.read_bytes()
    except OSError as exc:
        raise BackupProblem(f"cannot read {backup} ({exc.strerror})") from None
    if not data.startswith(MAGIC):
        raise BackupProblem(f"{backup} is not an outreach-bot backup")
    key_id = data[len(MAGIC) : len(MAGIC) + 4]
    if key_id != sealer.key_id:
        raise BackupProblem(
            f"{backup} was sealed under another key (made before a key rotation, or by another installation):"
            " restore with the key it was made with"
        )
    aead = AESGCM(sealer.derive(b"backup"))
    at, number, last = len(MAGIC) + 4, 0, False
    with os.fdopen(_private(target), "wb") as out:
        while at < len(data):
            if len(data) < at + 16:
                raise BackupProblem(f"{backup} is cut short or damaged")
            (length,) = struct.unpack(">I", data[at : at + 4])
            nonce, sealed = data[at + 4 : at + 16], data[at + 16 : at + 16 + length]
            at += 16 + length
            last = at >= len(data)
            try:
                out.write(aead.decrypt(nonce, sealed, _ad(key_id, number, last=last)))
            except InvalidTag:
                raise BackupProblem(f"{backup} is cut short or damaged (part {number + 1} does not open)") from None
            number += 1
    if not last:
        raise BackupProblem(f"{backup} is empty")


def check(db_file: Path, sealer: Sealer) -> Checked:
    """Integrity, that the key opens what is sealed inside, and what it holds."""
    conn = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True)
    try:
        if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupProblem("the database inside the backup is damaged (integrity check failed)")
        org = conn.execute("SELECT id, name_sealed FROM organizations ORDER BY created_at, id LIMIT 1").fetchone()
        if org is not None:
            sealer.open(org[1], "organizations", "name", org[0])  # SealError if the key does not open it
        counts = {table: conn.execute(sql).fetchone()[0] for table, sql in COUNTED.items()}
        migrations = conn.execute("SELECT count(*) FROM schema_migrations").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise BackupProblem(f"the database inside the backup does not read ({exc})") from None
    finally:
        conn.close()
    return Checked(org[0] if org else None, counts, migrations)


def org_of(db_path: Path) -> str | None:
    """The organisation of the database in place, if there is one (a restore must not mix two)."""
    if not db_path.exists():
        return None
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT id FROM organizations ORDER BY created_at, id LIMIT 1").fetchone()
    except sqlite3.DatabaseError:
        return None
    finally:
        conn.close()
    return row[0] if row else None


def put_in_place(restored: Path, db_path: Path) -> None:
    """Replace the database (stopped) by the restored one: its old WAL must not be replayed onto it."""
    if db_path.exists():
        conn = sqlite3.connect(db_path)
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
    for suffix in ("-wal", "-shm"):
        db_path.with_name(db_path.name + suffix).unlink(missing_ok=True)
    os.replace(restored, db_path)
