"""Sends what the outbox holds, retrying network errors and flood limits until the messenger accepts.

Messenger-neutral: it sends through a bot.messenger.Messenger and decides from its neutral errors
(bot/telegram/jobs.py runs it for Telegram)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from weakref import WeakKeyDictionary

from bot.clock import Clock
from bot.flows.engine import queue_cleanup_for
from bot.flows.model import CLEANUP, Choice
from bot.messenger import Blocked, Gone, Messenger, RetryLater, Unreachable, urgent_as
from bot.render import render
from bot.services.escalation import EDIT
from config import OrgConfig
from storage import Person, Storage
from storage.outbox import OutboxItem

log = logging.getLogger("outreach.outbox")
BATCH = 500
PARALLEL = 64
# Alerts must arrive within 35 s of the Bot API coming back: a 15 s cap leaves room for a retry that
# just missed the recovery, the 1 s tick and the sending itself (30 s left about 5 s).
MAX_BACKOFF = timedelta(seconds=15)
DELETE = "delete"  # an outbox item that removes messages instead of sending one
OWED_TO_REVOKED = (DELETE, EDIT, CLEANUP)  # taking something off a screen is still owed to a revoked person
Delivery = dict[int, tuple[str, int | None]]  # outbox id -> (status, message id), of the messages edits replace
GIVE_UP_AFTER = 8  # attempts, for answers that will not change (blocked bot, chat gone)
# What the outbox tells a worker unasked (a reminder naming the place, the prompt at the deadline, a
# half-written note's reminder) leaves their chat once the organisation's clean-up delay has passed,
# as a conversation's messages do: a phone seized later shows none of it.
PASSING = ("reminder", "due", "draft_reminder", "draft_dropped", "plan_action", "plan_overdue")


def backoff(attempts: int) -> timedelta:
    """1, 2, 4 ... seconds, at most MAX_BACKOFF."""
    return min(timedelta(seconds=2 ** min(attempts, 10)), MAX_BACKOFF)


async def _delete(messenger: Messenger, chat_id: int, message_ids: list[int]) -> None:
    """Remove messages from a chat ([privacy] delete_after); one already gone, or too old for a bot
    to delete (48 h), counts as done: asking again would not change the answer."""
    for message_id in message_ids:
        try:
            await messenger.delete(chat_id, message_id)
        except Gone:
            log.info("A message to delete was already gone or too old")


async def _clean_up(messenger: Messenger, chat_id: int, params: dict[str, Any], *, active: bool = True) -> None:
    """A finished conversation leaves the chat: its messages go, and its one kept line is edited to
    the neutral words it keeps (with its buttons). Someone no longer active keeps nothing: the kept
    line goes too, so a revoked person's phone is shown no text and no button of ours."""
    keep, text = params.get("keep"), params.get("text")
    delete = [int(m) for m in params.get("delete", [])]
    if not active:
        await _delete(messenger, chat_id, delete + ([int(keep)] if keep is not None else []))
        return
    await _delete(messenger, chat_id, delete)
    if keep is None or not text:
        return
    kept_rows = tuple(tuple(Choice(code, label) for code, label in row) for row in params.get("rows") or [])
    try:
        await messenger.edit(chat_id, int(keep), text, kept_rows)
    except Gone:
        log.info("A kept line could not be edited (gone, or already as it should be)")


async def _edit(
    messenger: Messenger, config: OrgConfig, person: Person | None, item: OutboxItem, message_id: int, now: datetime
) -> None:
    """Replace a message's text (and drop its buttons). A message already gone from the chat, or already
    showing this text, counts as done: asking again would not change the answer."""
    locale = person.locale if person is not None else config.language
    text, _ = render(item.params["kind"], item.params["params"], locale, config.tz, now, config)
    try:
        await messenger.edit(item.params["chat_id"], message_id, text)
    except Gone:
        log.info("A message to edit was already gone or unchanged")


def _edited_message(item: OutboxItem, delivery: Delivery) -> int | str:
    """The id of the message an edit replaces, or why there is none yet ("pending") or ever ("gone")."""
    if item.params.get("message_id") is not None:
        return int(item.params["message_id"])
    status, message_id = delivery.get(item.params["source"], ("gone", None))
    if message_id is not None:
        return message_id
    return "pending" if status == "pending" else "gone"


async def _send(
    messenger: Messenger,
    config: OrgConfig,
    person: Person | None,
    item: OutboxItem,
    now: datetime,
    delivery: Delivery | None = None,
) -> tuple[str, Any]:
    """Try one message: ("sent", message_id) | ("retry", when) | ("failed", reason)."""
    if item.kind not in OWED_TO_REVOKED and (person is None or person.status != "active"):
        return "failed", "no_recipient"  # a deletion is still owed to a revoked person: their phone may be seized
    try:
        if item.kind == DELETE:
            await _delete(messenger, item.params["chat_id"], item.params["message_ids"])
            return "sent", None
        if item.kind == CLEANUP:  # a conversation's messages (bot/flows/engine.py), for the person's own chat
            if person is None:
                return "failed", "no_recipient"
            await _clean_up(messenger, person.chat_id, item.params, active=person.status == "active")
            return "sent", None
        if item.kind == EDIT:
            target = _edited_message(item, delivery or {})
            if target == "pending":  # the message itself is not out yet: edit it once it is
                return "retry", now + backoff(item.attempts)
            if isinstance(target, int):
                await _edit(messenger, config, person, item, target, now)
            return "sent", None  # ("gone": never shown, or no longer stored: nothing to replace)
        assert person is not None
        text, choices = render(item.kind, item.params, person.locale, config.tz, now, config)
        message_id = await messenger.send(person.chat_id, text, choices)
    except RetryLater as exc:  # a flood limit: as long as the messenger asks
        return "retry", now + exc.after
    except (Blocked, Gone) as exc:  # an answer that will not change: a few tries, then given up
        if item.attempts + 1 >= GIVE_UP_AFTER:
            return "failed", type(exc).__name__
        return "retry", now + backoff(item.attempts)
    except Unreachable:  # a timeout too: the message may come through later
        return "retry", now + backoff(item.attempts)
    except (KeyError, ValueError) as exc:  # a message we cannot render will not render on retry either
        return "failed", f"render:{type(exc).__name__}"
    return "sent", message_id


async def _record(
    storage: Storage, results: list[tuple[OutboxItem, str, Any]], done: datetime, clean_up_after: timedelta
) -> None:
    """Write down what became of these messages, and queue the clean-up of passing ones, in one transaction."""
    async with storage.db.tx() as tx:
        delivered = [(item, detail) for item, status, detail in results if status == "sent"]
        await storage.outbox.mark_sent_many(tx, [(item.id, done, detail) for item, detail in delivered])
        for item, message_id in delivered:
            if item.kind in PASSING and message_id is not None:
                job = {"delete": [message_id], "keep": None, "text": None, "rows": []}
                await queue_cleanup_for(storage, tx, item.recipient_id, job, done + clean_up_after, done)
        await storage.alerts.events_many(
            tx,
            [(i.alert_id, done, f"sent:{i.kind}", i.recipient_id) for i, _ in delivered if i.alert_id],
        )
        for item, status, detail in results:
            if status == "sent":
                continue
            if status == "retry":
                await storage.outbox.mark_retry(tx, item.id, detail, "retry")
            else:
                await storage.outbox.mark_failed(tx, item.id, detail)
                log.warning("Gave up sending a %s message: %s", item.kind, detail)
                if item.alert_id:
                    await storage.alerts.event(
                        tx, item.alert_id, done, "delivery_failed", recipient_id=item.recipient_id
                    )


@dataclass
class _Lanes:
    """What the flushes of one outbox are sending now: the main one, and alerts beside it."""

    inflight: set[int] = field(default_factory=set)
    done: set[int] = field(default_factory=set)  # sent while another pass's read may predate it
    active: int = 0


_lanes: WeakKeyDictionary[asyncio.Lock, _Lanes] = WeakKeyDictionary()


async def flush(
    storage: Storage, config: OrgConfig, messenger: Messenger, clock: Clock, lock: asyncio.Lock, *, wait: bool = False
) -> int:
    """Send every due message, most urgent first; one flush at a time (the one `lock` of this outbox and
    messenger). Returns how many were sent. While a flush runs (a backlog of reminders, say), another
    call (not `wait`) sends at once the alerts that came due meanwhile, beside it: an alert never
    waits for a batch of routine messages; the send budget then lets it overtake them.

    What came back is written down as soon as it came back (all that did since the last write, in one
    transaction), not once the whole batch is through: a crash then sends again at most the messages
    the messenger accepted in the instant before it, never a batch that was long delivered."""
    lanes = _lanes.setdefault(lock, _Lanes())
    if lock.locked() and not wait:
        sent, _ = await _pass(storage, config, messenger, clock, lanes, urgent_only=True)
        return sent
    sent_total = 0
    async with lock:
        while True:
            sent, taken = await _pass(storage, config, messenger, clock, lanes, urgent_only=False)
            sent_total += sent
            if sent == 0 or taken < BATCH:
                return sent_total


async def _pass(
    storage: Storage, config: OrgConfig, messenger: Messenger, clock: Clock, lanes: _Lanes, *, urgent_only: bool
) -> tuple[int, int]:
    """One batch of due messages that no other pass is sending: (how many were sent, how many taken)."""
    lanes.active += 1
    items: list[OutboxItem] = []
    try:
        gate = asyncio.Semaphore(PARALLEL)
        now = clock.now()
        async with storage.db.read() as tx:
            # Sent ones are no longer pending, but for a read begun before they were written down: rare
            found = await storage.outbox.due(tx, now, BATCH + len(lanes.inflight), urgent_only=urgent_only)
            # No await between the read and this: another pass then skips what this one took.
            items = [i for i in found if i.id not in lanes.inflight and i.id not in lanes.done][:BATCH]
            lanes.inflight.update(i.id for i in items)
            people = await storage.people.get_many(tx, [item.recipient_id for item in items])
            sources = [i.params["source"] for i in items if i.kind == EDIT and i.params.get("message_id") is None]
            delivery = await storage.outbox.delivery(tx, sources) if sources else {}
        if not items:
            return 0, 0
        finished: asyncio.Queue[tuple[OutboxItem, str, Any]] = asyncio.Queue()

        async def one(item: OutboxItem) -> None:
            status, detail = "retry", now + backoff(item.attempts)
            try:
                async with gate:
                    with urgent_as(item.priority):  # the send budget serves alerts first
                        status, detail = await _send(
                            messenger, config, people.get(item.recipient_id), item, now, delivery
                        )
            finally:
                finished.put_nowait((item, status, detail))

        senders = [asyncio.create_task(one(item)) for item in items]
        sent = 0
        remaining = len(items)
        while remaining:
            results = [await finished.get()]
            while not finished.empty():
                results.append(finished.get_nowait())
            remaining -= len(results)
            await _record(storage, results, clock.now(), config.clean_up_after)
            lanes.done.update(item.id for item, _, _ in results)
            lanes.inflight.difference_update(item.id for item, _, _ in results)
            sent += sum(1 for _, status, _ in results if status == "sent")
        await asyncio.gather(*senders)
        return sent, len(items)
    finally:
        lanes.inflight.difference_update(i.id for i in items)
        lanes.active -= 1
        if lanes.active == 0:
            lanes.done.clear()  # every read from now on sees what was written
