"""The sensitive lists at run time: read from the database at start, changed by admins (CLI or chat),
and taken up by the running bot at once, with no restart.

The OrgConfig every part of the bot holds carries one `Lists` object; it is replaced in place, so a
change made here is seen by the next update at once, and one made by another process (the CLI) by
the next tick, which compares a single revision number.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from config import OrgConfig
from config.lists import Doc, Edit, parse_lists, to_doc
from config.org import LIST_SECTIONS, Lists
from storage import Storage
from storage.db import Tx

log = logging.getLogger("outreach")


async def _read(storage: Storage, tx: Tx, org_id: str) -> tuple[Doc, int]:
    text, revision = await storage.lists.get(tx, org_id)
    doc = json.loads(text) if text else {}
    return {key: list(doc.get(key, [])) for key in LIST_SECTIONS}, revision


async def load(storage: Storage, org_id: str, config: OrgConfig) -> None:
    """Fill the config's lists from the database (empty lists when none were stored yet)."""
    async with storage.db.read() as tx:
        doc, revision = await _read(storage, tx, org_id)
    config.lists.take(parse_lists(doc), revision, org_id)


async def refresh_if_changed(storage: Storage, config: OrgConfig) -> bool:
    """Another process (the CLI) changed the lists: take them up. One indexed read when nothing did."""
    org_id = config.lists.org_id
    if org_id is None:
        return False
    async with storage.db.read() as tx:
        revision = await storage.lists.revision(tx, org_id)
    if revision == config.lists.revision:
        return False
    await load(storage, org_id, config)
    return True


async def change(
    storage: Storage,
    org_id: str,
    config: OrgConfig | None,
    edit: Edit,
    action: str,
    actor_id: str | None,
    now: datetime,
) -> Lists:
    """Apply `edit` to the stored lists, validated as a whole, stored sealed and audit-logged (the action,
    never the value), in one transaction; the running bot's config takes it up at once. Raises
    ConfigError (a bad value) or config.lists.NotOnList, and then nothing is changed."""
    async with storage.db.tx() as tx:
        doc, _ = await _read(storage, tx, org_id)
        edit(doc)
        lists = parse_lists(doc)  # raises before anything is written
        revision = await storage.lists.put(tx, org_id, json.dumps(to_doc(lists), ensure_ascii=False), now)
        await storage.audit.record(tx, now, action, org_id=org_id, actor_id=actor_id, subject_id=None)
    if config is not None:
        config.lists.take(lists, revision, org_id)
    return lists


async def import_lists(
    storage: Storage, org_id: str, config: OrgConfig | None, lists: Lists, now: datetime, *, replace: bool
) -> Lists:
    """Store lists read from a file: in place of the stored ones (`replace`), or added to them."""

    def edit(doc: Doc) -> None:
        new = to_doc(lists)
        for key in LIST_SECTIONS:
            doc[key] = new[key] if replace else doc[key] + new[key]

    return await change(storage, org_id, config, edit, "lists.import", None, now)


async def seed(storage: Storage, org_id: str, config: OrgConfig | None, data: dict[str, Any]) -> bool:
    """The list sections of `data` (a TOML document: an old config file, the sandbox's example lists, a
    test's) into the database, when it holds none yet; whether it did. Raises ConfigError naming the key."""
    if await has_lists(storage, org_id):
        return False
    await import_lists(storage, org_id, config, parse_lists(data, others_allowed=True), datetime.now(UTC), replace=True)
    return True


async def has_lists(storage: Storage, org_id: str) -> bool:
    """Whether lists were ever stored (an empty list stored on purpose counts)."""
    async with storage.db.read() as tx:
        return await storage.lists.revision(tx, org_id) > 0


def legacy_warning(config: OrgConfig, path: object, imported: bool, name_imported: bool = False) -> str | None:
    """The one line for a config file that still holds lists or the organisation's name, or None."""
    held = []
    if config.legacy_name is not None:
        held.append(
            "[organization] name, imported into the database (sealed) this once"
            if name_imported
            else "[organization] name, which is ignored: the name is in the database (`outreach-bot rename NAME`)"
        )
    if config.legacy_lists:
        sections = ", ".join(f"[[{name}]]" for name in config.legacy_lists)
        held.append(
            f"{sections}: imported into the database (sealed) this once"
            if imported
            else f"{sections}, which are ignored: the lists are in the database. Import them with"
            f" `outreach-bot init --import-lists {path}` if they are newer"
        )
    if not held:
        return None
    what = "those sections" if config.legacy_lists else "that line"
    if config.legacy_lists and config.legacy_name is not None:
        what = "those sections and the name"
    return (
        f"{path} still holds "
        + "; and ".join(held)
        + f"; delete {what} from the file now"
        + (", and manage the lists with `outreach-bot places|codes|contacts`." if config.legacy_lists else ".")
    )
