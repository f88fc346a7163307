"""Destroying the key from the chat: the shred phrase, and what the running bot does once an admin
has typed it and confirmed.

The phrase is kept only as a slow digest (scrypt, its own random salt), and that digest is sealed
in the meta table: without the key it cannot even be attacked, and with the key it still has to be
guessed at scrypt's pace, five tries an hour. Case and spacing do not matter (phones capitalise the
first letter).

What the running bot does (bot/shredder.py's `Shredder`) needs a messenger and the clean-ups still owed;
this module holds the rules that need neither: the phrase, its tries, and what a shred reports.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from bot import keys
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


def report(done: Destroyed) -> str:
    """One line, in English, for the console: what was destroyed and what was not."""
    files = ", ".join(str(p) for p in done.files)
    head = f"Key destroyed from the chat: {files}." if done.files and not done.left else ""
    if done.left:
        head = (f"Key file destroyed from the chat ({files}). " if done.files else "No key file destroyed. ") + (
            "NOT destroyed: " + "; ".join(done.left) + "."
        )
    return head
