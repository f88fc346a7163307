"""The organisation's name: sealed in the database, never in the config file (a seized server's file
must not say whose it is). Set by `init --name`, changed by `rename` (audit-logged); an older config
file's `[organization] name` is taken once, when the database has none."""

from __future__ import annotations

import unicodedata
from dataclasses import replace
from datetime import datetime

from bot.clock import Clock
from config import OrgConfig
from storage import Storage
from storage.db import Tx
from storage.orgs import Organization

# Neutral on purpose: shown only to whoever runs the CLI, and says nothing of the programme.
DEFAULT_NAME = "Our organisation"
NAME_MAX = 100


class BadName(ValueError):
    """A name that cannot be stored; the message says why, in one line."""


def clean_name(text: str) -> str:
    """The name as stored: trimmed, one line, printable, at most NAME_MAX characters."""
    name = " ".join(text.split())
    if not name:
        raise BadName("the name is empty")
    if len(name) > NAME_MAX:
        raise BadName(f"the name is too long ({len(name)} characters; at most {NAME_MAX})")
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        raise BadName("the name holds control characters")
    return name


async def open_organization(
    storage: Storage, config: OrgConfig, clock: Clock, name: str | None = None
) -> tuple[Organization, bool]:
    """Create the organisation or bring zone and language up to date from the config; `name` (already
    clean) renames it. Second value: whether the config file's old name was taken (the first init)."""
    now = clock.now()
    first = name or config.legacy_name or DEFAULT_NAME
    async with storage.db.tx() as tx:
        org, created = await storage.orgs.ensure(tx, config.timezone, config.language, now, first)
        if not created and name is not None and name != org.name:
            org = await _rename(storage, tx, org, name, now)
    return org, created and name is None and config.legacy_name is not None


async def rename(storage: Storage, org: Organization, name: str, now: datetime) -> Organization:
    """Store a new name (already clean), audit-logged (the action, never the name)."""
    async with storage.db.tx() as tx:
        return await _rename(storage, tx, org, name, now)


async def _rename(storage: Storage, tx: Tx, org: Organization, name: str, now: datetime) -> Organization:
    await storage.orgs.rename(tx, org.id, name)
    await storage.audit.record(tx, now, "org.rename", org_id=org.id, actor_id=None, subject_id=None)
    return replace(org, name=name)
