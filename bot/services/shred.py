"""Destroying the key from the chat: the shred phrase, and what the running bot does once an admin
has typed it and confirmed.

The phrase is kept only as a slow digest (scrypt, its own random salt), and that digest is sealed
in the meta table: without the key it cannot even be attacked, and with the key it still has to be
guessed at scrypt's pace, five tries an hour. Case and spacing do not matter (phones capitalise the
first letter).

`Shredder` is what an adapter's running bot hands its conversations: it overwrites and removes the
key file the bot was started from (bot.keys.shred_all, the CLI's own), forgets the key in memory as
far as Python allows (Sealer.forget), and calls the adapter's `silence`, which stops the jobs and
makes the gate drop every later update.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
import logging
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from bot import keys
from bot.jobs.shred_cleanup import Owed, clean_up_now, owed
from bot.messenger import Messenger
from bot.redaction import redacted
from config import Settings
from storage import Person, Storage

log = logging.getLogger("outreach.shred")

PHRASE_META = "shred_phrase"
MIN_LENGTH = 12
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1  # about 0.1 s and 32 MiB a try
TRIES, WINDOW, BLOCK = 5, timedelta(hours=1), timedelta(hours=1)
BUCKET = "shred"
MARKER = "shredded"  # left in the data dir: a restart (Docker's restart policy) must not serve again


def normal(phrase: str) -> str:
    """The phrase as compared: words in lower case, single spaces."""
    return " ".join(phrase.split()).casefold()


def phrase_problem(phrase: str) -> str | None:
    """One line saying what is wrong with a new phrase; None if it will do."""
    if len(normal(phrase)) < MIN_LENGTH:
        return f"the shred phrase must be at least {MIN_LENGTH} characters (a few words)"
    return None


def _digest(phrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(normal(phrase).encode(), salt=salt, n=n, r=r, p=p, maxmem=2**26, dklen=32)


async def set_phrase(storage: Storage, phrase: str) -> None:
    """Keep the phrase's digest (sealed); the phrase itself is never stored."""
    salt = secrets.token_bytes(16)
    digest = await asyncio.to_thread(_digest, phrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    await storage.meta_set(PHRASE_META, f"scrypt:{SCRYPT_N}:{SCRYPT_R}:{SCRYPT_P}:{salt.hex()}:{digest.hex()}")


async def clear_phrase(storage: Storage) -> None:
    """No phrase: the chat's shred is off."""
    await storage.meta_set(PHRASE_META, "")


async def phrase_is_set(storage: Storage) -> bool:
    return bool(await storage.meta_get(PHRASE_META))


async def phrase_matches(storage: Storage, typed: str) -> bool:
    """Whether `typed` is the shred phrase (False when none is set)."""
    stored = await storage.meta_get(PHRASE_META)
    if not stored:
        return False
    _, n, r, p, salt, digest = stored.split(":")
    got = await asyncio.to_thread(_digest, typed, bytes.fromhex(salt), int(n), int(r), int(p))
    return hmac.compare_digest(got, bytes.fromhex(digest))


def _rate_key(storage: Storage, person: Person) -> str:
    return storage.sealer.lookup("shred-tries", person.id)


async def blocked(storage: Storage, person: Person, now: datetime) -> bool:
    """Whether this admin has used up their tries for now."""
    async with storage.db.read() as tx:
        return await storage.rates.is_blocked(tx, _rate_key(storage, person), BUCKET, now)


async def count_wrong(storage: Storage, person: Person, now: datetime) -> None:
    """Count a wrong phrase; the fifth within the hour blocks this admin's tries for an hour."""
    async with storage.db.tx() as tx:
        key = _rate_key(storage, person)
        if await storage.rates.hit(tx, key, BUCKET, now, limit=TRIES, window=WINDOW, block_for=BLOCK):
            log.warning("Shred phrase: too many wrong tries from one admin; their tries wait an hour")


@dataclass
class Destroyed:
    """What a shred did: the key files overwritten and removed, and one line for each thing it could not
    destroy (a key command's store, the environment, a file it could not overwrite)."""

    files: list[Path] = field(default_factory=list)
    left: list[str] = field(default_factory=list)
    kind: str = keys.NONE  # where the key came from (bot.keys): a command's or the environment's is not ours
    failed: list[Path] = field(default_factory=list)  # key files that could not be overwritten


class Shredder:
    """The running bot's way to destroy its key; `silence` is the adapter's: stop the jobs, drop every
    later update, drop its own references to the key."""

    def __init__(self, settings: Settings, silence: Callable[[], None], messenger: Messenger | None = None) -> None:
        self.settings = settings
        self._silence = silence
        self._messenger = messenger  # deletes the clean-ups still owed (bot/jobs/shred_cleanup.py)
        self.shredded: Destroyed | None = None

    async def destroy(self, storage: Storage, admin_id: str | None = None) -> Destroyed:
        """Silence the bot, destroy the key's files and forget the key, then delete from the chats what
        was waiting to be cleaned up; what was and was not destroyed."""
        if self.shredded is not None:
            return self.shredded
        self.shredded = Destroyed()  # from here on the gate answers nobody, even while the files go
        self._silence()
        found: Owed = []
        if self._messenger is not None:
            try:
                found = await owed(storage, skip=admin_id)
            except Exception as exc:  # nothing may stand between the admin and the key's destruction
                log.error("Could not read the clean-ups owed: %s", redacted(exc))
        storage.forget()
        source = keys.locate(self.settings)
        there = keys.key_files(self.settings, source)
        files, left = await asyncio.to_thread(keys.shred_all, self.settings)
        if source.kind == keys.NONE and not there:
            left.append("the key file this bot was started from is not known to it: destroy it where it is")
        self.shredded.files, self.shredded.left, self.shredded.kind = files, left, source.kind
        self.shredded.failed = [path for path in there if path not in files]
        _leave_marker(self.settings.data_dir)
        if self.settings.key_b64:
            # Gone from os.environ and from these settings. Not from /proc/<pid>/environ: that shows the
            # environment the process started with, which Python cannot rewrite.
            os.environ.pop("OUTREACH_KEY", None)
            self.settings = dataclasses.replace(self.settings, key_b64=None)
        log.warning(
            "The key was destroyed from the chat (%d key file(s)); %s",
            len(files),
            "nothing left" if not left else "NOT destroyed: " + "; ".join(left),
        )
        if self._messenger is not None and found:
            await clean_up_now(self._messenger, found)
            found.clear()
        return self.shredded


def _leave_marker(data_dir: Path) -> None:
    """A line in the data dir that stops the next start: with a key that still exists elsewhere (a key
    command, the environment) a restart would otherwise open the data and answer again."""
    try:
        fd = os.open(data_dir / MARKER, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write("The key was destroyed from the chat.\n")
    except OSError as exc:
        log.warning("Could not leave the shredded marker in the data dir (%s)", exc.strerror)


def report(done: Destroyed) -> str:
    """One line, in English, for the console: what was destroyed and what was not."""
    files = ", ".join(str(p) for p in done.files)
    head = f"Key destroyed from the chat: {files}." if done.files and not done.left else ""
    if done.left:
        head = (f"Key file destroyed from the chat ({files}). " if done.files else "No key file destroyed. ") + (
            "NOT destroyed: " + "; ".join(done.left) + "."
        )
    return head
