"""What every `outreach-bot` command shares: the settings and config, the private data dir, the
database opened with the key from its source, and the organisation."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bot import cli_keys
from bot.clock import SystemClock
from bot.failure import Fail
from bot.services.enrolment import ensure_organization
from bot.services.shred import MARKER as SHREDDED
from config import ConfigError, OrgConfig, Settings, load_org_config, load_settings
from storage import Storage
from storage.orgs import Organization

log = logging.getLogger("outreach")


def load(require_config: bool = True) -> tuple[Settings, OrgConfig | None]:
    try:
        settings = load_settings()
        config = load_org_config(settings.config_path) if require_config else None
    except ConfigError as exc:
        raise Fail(f"config error: {exc}") from None
    return settings, config


def private_dir(path: Path) -> None:
    """The data directory, readable by the bot's user only (a copied dir still needs the key; a
    neighbour on the host should not get even that far)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        path.chmod(0o700)
    except OSError:  # not ours (a volume mounted by root): leave it as the operator set it
        log.warning("Could not make %s private (0700)", path)


async def open_storage(settings: Settings, key: bytes | None = None) -> Storage:
    """The database, opened with `key` or the key from its source (bot.keys)."""
    refuse_shredded(settings)
    pending = settings.data_dir / "key.new"
    if pending.exists():  # rows are under two keys until rotate-key ends: nothing else may write meanwhile
        raise Fail(f"a key rotation is unfinished ({pending} exists): run `outreach-bot rotate-key` to finish it")
    key = key if key is not None else cli_keys.key_for_run(settings)
    private_dir(settings.data_dir)
    return await Storage.open(settings.db_path, key)


def refuse_shredded(settings: Settings) -> None:
    """A data dir whose key was destroyed from the chat stays shut, even if a key command or the
    environment still gives that key (a restart policy must not bring the bot back)."""
    marker = settings.data_dir / SHREDDED
    if marker.exists():
        raise Fail(
            f"the key was destroyed from the chat ({marker} says so): this data dir stays shut; after a false"
            f" alarm, with the key restored, delete {marker}"
        )


@asynccontextmanager
async def organization() -> AsyncIterator[tuple[Storage, Organization, OrgConfig, SystemClock]]:
    """The open storage and the organisation (brought up to date from the config), closed afterwards."""
    settings, config = load()
    assert config is not None
    clock = SystemClock()
    storage = await open_storage(settings)
    try:
        yield storage, await ensure_organization(storage, config, clock), config, clock
    finally:
        await storage.close()


async def run_in_org(command: Any, args: Any) -> None:
    """Run `command(args, storage, org, config, clock)` in the organisation (a group of commands in its module)."""
    async with organization() as (storage, org, config, clock):
        await command(args, storage, org, config, clock)
