"""`outreach-bot init` and `rename`: the key where the operator says, the database, the organisation
(its name sealed in the database, never in the config) and its lists."""

from __future__ import annotations

import argparse
import sys

from bot import cli_keys, cli_lists, keys
from bot.cli_base import load, open_storage
from bot.cli_base import organization as open_organization_of
from bot.clock import SystemClock
from bot.failure import Fail
from bot.services import lists, organization
from config import ConfigError, OrgConfig, Settings
from config.lists import read_toml
from storage import Storage
from storage.orgs import Organization


async def cmd_init(args: argparse.Namespace, key: bytes | None = None) -> None:
    """Create the data directory, the key where the operator says, the database, and the organisation
    from the config (idempotent); --name names it (or renames it)."""
    settings, config = load()
    assert config is not None
    name = _clean_name(getattr(args, "name", None))
    created = False
    if key is None:
        key, source, created = cli_keys.key_for_init(settings, getattr(args, "key_file", None))
    storage = await open_storage(settings, key)
    try:
        org, name_imported = await organization.open_organization(storage, config, SystemClock(), name)
        await lists.load(storage, org.id, config)
        told = await _lists_at_init(args, settings, storage, org, config, name_imported)
        await cli_keys.offer_phrase(storage, ask=created)
    finally:
        await storage.close()
    note = f"new key in {source.path} (0600)" if created else "key from " + keys.locate(settings).describe()
    print(f"Ready: {settings.db_path} ({note}), organisation {org.name!r}, time zone {org.timezone}.")
    if created:
        if source.variable == "--key-file":
            print(f"Set OUTREACH_KEY_FILE={source.path} for `outreach-bot run` and the other commands.")
        cli_keys.print_paper(key)
    if org.name == organization.DEFAULT_NAME:
        print('Name it (kept sealed in the database, never in the config): outreach-bot rename "NAME".')
    if told:
        print(told)


def _clean_name(text: str | None, label: str = "--name") -> str | None:
    try:
        return None if text is None else organization.clean_name(text)
    except organization.BadName as exc:
        raise Fail(f"{label}: {exc}; nothing changed") from None


async def _lists_at_init(
    args: argparse.Namespace,
    settings: Settings,
    storage: Storage,
    org: Organization,
    config: OrgConfig,
    name_imported: bool = False,
) -> str | None:
    """--import-lists FILE; else lists still in the config file: imported when the database has none
    (an older install's way to move them), one warning either way (the config's old name folded into
    it); else a hint when there are none."""
    imported = False
    if config.legacy_lists and not getattr(args, "import_lists", None):
        try:
            imported = await lists.seed(storage, org.id, config, read_toml(settings.config_path))
        except ConfigError as exc:
            raise Fail(f"config error: {exc}") from None
    warning = lists.legacy_warning(config, settings.config_path, imported, name_imported)
    if warning:
        print(f"outreach-bot: warning: {warning}", file=sys.stderr)
    if getattr(args, "import_lists", None):
        return await cli_lists.import_file(args.import_lists, storage, org, config)
    if config.legacy_lists:
        return None
    if not await lists.has_lists(storage, org.id):
        return (
            "No places, code words or contacts yet: import them once with `outreach-bot init --import-lists FILE`"
            " (config/lists.example.toml shows the shape), or add them with `outreach-bot places|codes|contacts add`."
        )
    return None


async def cmd_rename(args: argparse.Namespace) -> None:
    """Give the organisation a new name, sealed in the database; audit-logged."""
    name = _clean_name(args.name, "rename")
    assert name is not None
    async with open_organization_of() as (storage, org, _, clock):
        await organization.rename(storage, org, name, clock.now())
    print(f"The organisation is now called {name!r}.")
