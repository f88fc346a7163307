"""At a shred from the chat, the clean-ups that would otherwise never run: once the key is gone, the
outbox cannot be read, so every conversation's messages that were waiting for the organisation's
delay (and every conversation still under way) would stay on the phones for good.

`owed` reads them while the key is still there, into memory only; `clean_up_now` deletes them once
the key is destroyed, so that reading them never delays the destruction by a network call.
"""

from __future__ import annotations

import logging

from bot.flows.model import CLEANUP, Conversation
from bot.jobs.outbox import DELETE
from bot.messenger import Messenger
from bot.redaction import redacted
from storage import Storage

log = logging.getLogger("outreach.shred")
Owed = list[tuple[int, list[int]]]  # (chat id, message ids)


async def owed(storage: Storage, skip: str | None = None) -> Owed:
    """Every message a clean-up still owes, and every message of a conversation under way (but
    `skip`'s, the admin's own, already gone). A kept line whose clean-up is pending still shows
    its full text: it goes too."""
    found: Owed = []
    async with storage.db.read() as tx:
        items = await storage.outbox.pending_of(tx, (CLEANUP, DELETE))
        under_way = [p for p in await storage.conversations.under_way(tx) if p != skip]
        people = await storage.people.get_many(tx, [i.recipient_id for i in items] + under_way)
        for person_id in under_way:
            stored = await storage.conversations.get(tx, person_id)
            person = people.get(person_id)
            if stored is not None and person is not None:
                conv = Conversation.load(*stored)
                found.append((person.chat_id, conv.shown + conv.got))
    for item in items:
        if item.kind == DELETE:
            found.append((int(item.params["chat_id"]), [int(m) for m in item.params["message_ids"]]))
            continue
        person = people.get(item.recipient_id)
        if person is None:
            continue
        keep = item.params.get("keep")
        ids = [int(m) for m in item.params.get("delete", [])]
        found.append((person.chat_id, ids + ([int(keep)] if keep is not None else [])))
    return [(chat, ids) for chat, ids in found if ids]


async def clean_up_now(messenger: Messenger, found: Owed) -> int:
    """Delete them all; one that fails (gone, too old, the network) does not stop the rest. How many
    deletions were asked for."""
    asked = 0
    for chat_id, message_ids in found:
        for message_id in message_ids:
            asked += 1
            try:
                await messenger.delete(chat_id, message_id)
            except Exception as exc:  # the bot is going away: nothing to retry with
                log.info("A message could not be deleted at the shred: %s", redacted(exc))
    return asked
