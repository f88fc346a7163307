"""The messenger seam (bot/messenger.py): the Telegram messenger turns the Bot API's answers into the
neutral errors, and the outbox and the tick deliver through any Messenger, a Telegram-free one included
(set up through the services alone: no adapter, no python-telegram-bot)."""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.clock import FakeClock
from bot.flows.model import CLEANUP, Attachment, Choice, Rows
from bot.jobs import outbox, ticker
from bot.logs import quiet_noisy_loggers
from bot.messenger import Blocked, Gone, MessengerError, RetryLater, Unreachable
from bot.services.alerts import raise_code_alert
from bot.services.checkins import NewCheckin, open_checkin
from bot.services.enrolment import create_invite, ensure_organization, redeem
from bot.telegram.lean_bot import LeanBot
from bot.telegram.messenger import TelegramMessenger
from config import OrgConfig
from config.org import parse_org_config
from storage import Person, Storage
from tests.auxil.harness import EXAMPLE, TOKEN
from tests.auxil.standin import FakeBotApi, StandinRequest

CHAT = 424242
ROWS: Rows = ((Choice("ack:1", "I'm handling it"),), (Choice("safe:1", "Safe"), Choice("x", "Other")))


def _error(status: int, description: str, **parameters: Any) -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return status, body


@pytest.fixture
async def telegram() -> AsyncIterator[tuple[FakeBotApi, TelegramMessenger]]:
    api = FakeBotApi()
    quiet_noisy_loggers()  # as build_application does: the Bot logs its URL, token included
    bot = LeanBot(TOKEN, base_url="http://stand-in.invalid/bot", request=StandinRequest(api))
    async with bot:
        yield api, TelegramMessenger(bot)


async def test_telegram_messenger_sends_edits_deletes_and_files(telegram: tuple[FakeBotApi, TelegramMessenger]) -> None:
    api, messenger = telegram
    first = await messenger.send(CHAT, "Hello", ROWS)
    assert api.sent[-1].method == "sendMessage" and api.sent[-1].message_id == first
    assert api.sent[-1].buttons == [("I'm handling it", "ack:1"), ("Safe", "safe:1"), ("Other", "x")]
    assert api.sent[-1].params["reply_markup"]["inline_keyboard"][1][1] == {"text": "Other", "callback_data": "x"}
    plain = await messenger.send(CHAT, "No buttons")
    assert plain != first and "reply_markup" not in api.sent[-1].params
    await messenger.edit(CHAT, first, "Edited")  # no rows: the buttons go (no reply_markup sent)
    assert api.sent[-1].method == "editMessageText" and "reply_markup" not in api.sent[-1].params
    await messenger.edit(CHAT, first, "Edited again", ROWS[:1])
    assert api.sent[-1].buttons == [("I'm handling it", "ack:1")]
    await messenger.delete(CHAT, plain)
    assert api.chats[CHAT] == {first: "Edited again\nI'm handling it"}
    photo = await messenger.send_file(CHAT, Attachment("photo", b"\x89PNG", "incidents.png", "Week"))
    document = await messenger.send_file(CHAT, Attachment("document", b"a,b\n", "incidents.csv"))
    assert [s.method for s in api.sent[-2:]] == ["sendPhoto", "sendDocument"] and photo != document
    sent = {m: p for m, p in api.calls if m in ("sendPhoto", "sendDocument")}
    assert sent["sendPhoto"]["photo"]["file_name"] == "incidents.png" and sent["sendPhoto"]["caption"] == "Week"
    assert sent["sendDocument"]["document"]["content"] == b"a,b\n"


@pytest.mark.parametrize(
    ("method", "answer", "neutral"),
    [
        ("deleteMessage", _error(400, "Bad Request: message to delete not found"), Gone),
        ("deleteMessage", _error(400, "Bad Request: message can't be deleted for everyone"), Gone),
        ("editMessageText", _error(400, "Bad Request: message is not modified"), Gone),
        ("editMessageText", _error(400, "Bad Request: message to edit not found"), Gone),
        ("sendMessage", _error(400, "Bad Request: chat not found"), Gone),
        ("sendMessage", _error(403, "Forbidden: bot was blocked by the user"), Blocked),
        ("sendPhoto", _error(403, "Forbidden: user is deactivated"), Blocked),
        ("sendMessage", _error(500, "Internal Server Error"), Unreachable),
        ("editMessageText", _error(502, "Bad Gateway"), Unreachable),
        ("sendMessage", (0, {}), Unreachable),  # the stand-in's "connection refused": a NetworkError
        ("sendMessage", _error(401, "Unauthorized"), Unreachable),  # any other TelegramError: retried, as ever
    ],
)
async def test_telegram_errors_become_neutral_ones(
    telegram: tuple[FakeBotApi, TelegramMessenger], method: str, answer: tuple[int, dict[str, Any]], neutral: type
) -> None:
    api, messenger = telegram
    api.fail = lambda name, params: answer if name == method else None
    calls = {
        "deleteMessage": lambda: messenger.delete(CHAT, 7),
        "editMessageText": lambda: messenger.edit(CHAT, 7, "text"),
        "sendMessage": lambda: messenger.send(CHAT, "text", ROWS),
        "sendPhoto": lambda: messenger.send_file(CHAT, Attachment("photo", b"x", "a.png")),
    }
    with pytest.raises(neutral) as raised:
        await calls[method]()
    others = {Gone, Blocked, RetryLater, Unreachable} - {neutral}
    assert isinstance(raised.value, MessengerError) and not isinstance(raised.value, tuple(others))
    assert answer[0] == 0 or answer[1]["description"].split(": ")[-1].lower() in str(raised.value).lower()


async def test_a_flood_limit_says_how_long_to_wait(telegram: tuple[FakeBotApi, TelegramMessenger]) -> None:
    api, messenger = telegram
    api.fail = lambda name, params: _error(429, "Too Many Requests: retry after 7", retry_after=7)
    for call in (lambda: messenger.send(CHAT, "text"), lambda: messenger.delete(CHAT, 1)):
        with pytest.raises(RetryLater) as raised:
            await call()
        assert raised.value.after == timedelta(seconds=7)


# ---------------------------------------------------------------------------------------------------
# The outbox and the tick over a messenger that is not Telegram
# ---------------------------------------------------------------------------------------------------


class MemoryMessenger:
    """A Messenger in memory: every chat as the phone would show it (message id -> text, choices);
    every call to a chat in `broken` raises that chat's neutral error."""

    def __init__(self) -> None:
        self.chats: dict[int, dict[int, tuple[str, Rows]]] = {}
        self.calls: list[tuple[str, int, int]] = []
        self.broken: dict[int, MessengerError] = {}
        self._ids = itertools.count(1)

    def _reach(self, chat_id: int) -> dict[int, tuple[str, Rows]]:
        if chat_id in self.broken:
            raise self.broken[chat_id]
        return self.chats.setdefault(chat_id, {})

    async def send(self, chat_id: int, text: str, rows: Rows = ()) -> int:
        chat = self._reach(chat_id)
        message_id = next(self._ids)
        chat[message_id] = (text, rows)
        self.calls.append(("send", chat_id, message_id))
        return message_id

    async def edit(self, chat_id: int, message_id: int, text: str, rows: Rows = ()) -> None:
        chat = self._reach(chat_id)
        self.calls.append(("edit", chat_id, message_id))
        if message_id not in chat:
            raise Gone("message to edit not found")
        if chat[message_id] == (text, rows):
            raise Gone("message is not modified")
        chat[message_id] = (text, rows)

    async def delete(self, chat_id: int, message_id: int) -> None:
        chat = self._reach(chat_id)
        self.calls.append(("delete", chat_id, message_id))
        if chat.pop(message_id, None) is None:
            raise Gone("message to delete not found")

    async def send_file(self, chat_id: int, file: Attachment) -> int:
        return await self.send(chat_id, f"[{file.kind} {file.filename}]")

    def texts(self, chat_id: int) -> list[str]:
        return [text for text, _ in self.chats.get(chat_id, {}).values()]


class Org:
    """An organisation in a temporary database with a supervisor and a worker, enrolled through the
    services, and its outbox flushed through a MemoryMessenger."""

    def __init__(self, storage: Storage, config: OrgConfig, clock: FakeClock, people: dict[str, Person]) -> None:
        self.storage, self.config, self.clock = storage, config, clock
        self.supervisor, self.worker = people["supervisor"], people["worker"]
        self.messenger = MemoryMessenger()
        self.lock = asyncio.Lock()

    async def flush(self) -> int:
        return await outbox.flush(self.storage, self.config, self.messenger, self.clock, self.lock, wait=True)

    async def tick(self) -> None:
        await ticker.tick(self.storage, self.config, self.clock, self.flush)

    async def failed(self) -> int:
        async with self.storage.db.read() as tx:
            return (await self.storage.outbox.counts(tx)).get("failed", 0)

    def urgent(self) -> list[str]:
        return [t for t in self.messenger.texts(self.supervisor.chat_id) if t.startswith("URGENT:")]

    async def red_code(self) -> None:
        await raise_code_alert(self.storage, self.config.escalation, self.worker, "red", self.clock.now())


@pytest.fixture
async def org(tmp_path: Path) -> AsyncIterator[Org]:
    config = parse_org_config({**EXAMPLE, "privacy": {"clean_up_after": "3m"}})
    clock = FakeClock()
    storage = await Storage.open(tmp_path / "outreach.db", os.urandom(32))
    try:
        organization = await ensure_organization(storage, config, clock)
        people = {}
        for user_id, role in enumerate(("supervisor", "worker"), start=800_000_001):
            code, _, _ = await create_invite(storage, clock, organization, role=role, team="north", ttl=timedelta(1))
            enrolled = await redeem(storage, clock, code, telegram_user_id=user_id, chat_id=user_id, locale="en")
            assert enrolled.person is not None
            people[role] = enrolled.person
        yield Org(storage, config, clock, people)
    finally:
        await storage.close()


async def test_the_outbox_delivers_an_alert_through_any_messenger(org: Org) -> None:
    await org.red_code()
    org.messenger.broken[org.supervisor.chat_id] = RetryLater(timedelta(seconds=30))  # a flood limit: it waits
    assert await org.flush() == 0
    del org.messenger.broken[org.supervisor.chat_id]
    org.clock.advance(timedelta(seconds=29))
    assert await org.flush() == 0 and not org.urgent()  # not before the time the messenger asked for
    org.clock.advance(timedelta(seconds=1))
    assert await org.flush() == 1
    [alert] = org.urgent()
    assert f"{org.worker.code} sent the red code" in alert
    [(_, choices)] = [m for m in org.messenger.chats[org.supervisor.chat_id].values() if m[0] == alert]
    assert [[c.code.split(":")[0] for c in row] for row in choices] == [["ack"], ["safe"]]
    assert await org.flush() == 0 and org.urgent() == [alert]  # nothing twice
    assert await org.failed() == 0


async def test_the_tick_sends_a_missed_check_out_through_any_messenger(org: Org) -> None:
    new = NewCheckin("Bar La Luna", False, None, False, timedelta(minutes=30))
    await open_checkin(org.storage, org.config.escalation, org.worker, new, org.clock.now())
    told: dict[int, tuple[str, Rows]] = {}
    for minutes in (25, 5, 10):  # reminder_before 5m, the deadline, grace 10m
        org.clock.advance(timedelta(minutes=minutes))
        await org.tick()
        told |= org.messenger.chats.get(org.worker.chat_id, {})
    worker = told.values()
    assert [text.split(":")[0] for text, _ in worker] == ["Reminder", "Your time at Bar La Luna is over (6"]
    assert all([c.code.split(":")[0] for c in row] == ["co", "ext"] for _, rows in worker for row in rows)
    # Both name the place: they leave the chat once the clean-up delay (5 min) has passed.
    reminder = next(iter(told))
    assert ("delete", org.worker.chat_id, reminder) in org.messenger.calls
    assert reminder not in org.messenger.chats[org.worker.chat_id]
    [alert] = org.messenger.texts(org.supervisor.chat_id)
    assert alert.startswith(f"Missed check-out: {org.worker.code} at Bar La Luna.")


async def test_the_outbox_cleans_up_a_chat_through_any_messenger(org: Org) -> None:
    """A finished conversation's messages go once the delay has passed; its kept line is edited to its
    neutral words and choices; one already gone counts as done."""
    chat = org.worker.chat_id
    shown = [await org.messenger.send(chat, text) for text in ("Where are you going?", "Bar La Luna", "Until 7:00.")]
    params = {"delete": [*shown[:2], 999], "keep": shown[2], "text": "Until 7:00 AM.", "rows": [[["co:ask:1", "Out"]]]}
    async with org.storage.db.tx() as tx:
        await org.storage.outbox.enqueue(
            tx,
            key="cleanup:test",
            recipient_id=org.worker.id,
            kind=CLEANUP,
            params=params,
            now=org.clock.now(),
            due=org.clock.now() + org.config.clean_up_after,
        )
    assert await org.flush() == 0 and len(org.messenger.texts(chat)) == 3  # not before the delay
    org.clock.advance(org.config.clean_up_after)
    assert await org.flush() == 1
    assert org.messenger.chats[chat] == {shown[2]: ("Until 7:00 AM.", ((Choice("co:ask:1", "Out"),),))}
    assert ("delete", chat, 999) in org.messenger.calls and await org.failed() == 0


async def test_the_outbox_retries_a_network_error_without_giving_up(org: Org) -> None:
    await org.red_code()
    org.messenger.broken[org.supervisor.chat_id] = Unreachable("timed out")
    for _ in range(3 * outbox.GIVE_UP_AFTER):
        await org.flush()
        org.clock.advance(outbox.MAX_BACKOFF)
    assert not org.urgent() and await org.failed() == 0
    del org.messenger.broken[org.supervisor.chat_id]  # the network is back
    await org.flush()
    assert len(org.urgent()) == 1 and await org.failed() == 0


async def test_the_outbox_gives_up_on_a_blocked_chat_after_a_few_tries(org: Org) -> None:
    await org.red_code()
    org.messenger.broken[org.supervisor.chat_id] = Blocked("bot was blocked by the user")
    for _ in range(outbox.GIVE_UP_AFTER - 1):
        await org.flush()
        org.clock.advance(outbox.MAX_BACKOFF)
    assert await org.failed() == 0  # asked again a few times
    await org.flush()
    assert await org.failed() == 1
    async with org.storage.db.read() as tx:
        [alert] = await org.storage.alerts.active_in_org(tx, org.worker.org_id)
        events = [e.event for e in await org.storage.alerts.history(tx, alert.id)]
    assert "delivery_failed" in events


async def test_an_alert_goes_before_routine_messages_queued_earlier(org: Org) -> None:
    """Urgency order: 30 reminders queued first, then a red alert; the alert is the first message out."""
    now = org.clock.now()
    async with org.storage.db.tx() as tx:
        for n in range(30):
            await org.storage.outbox.enqueue(
                tx, key=f"routine:{n}", recipient_id=org.worker.id, kind="draft_reminder", params={}, now=now
            )
    await org.red_code()
    await org.flush()
    sends = [chat for call, chat, _ in org.messenger.calls if call == "send"]
    assert sends[0] == org.supervisor.chat_id and sends.count(org.supervisor.chat_id) == 1
    assert len(sends) == 31


async def test_one_flush_at_a_time_and_alerts_beside_it(org: Org) -> None:
    """While a flush runs (the lock held), another call sends only the alerts that fell due, at once,
    and the flush after it sends the rest: nothing twice, nothing routine beside the running flush."""
    async with org.storage.db.tx() as tx:
        await org.storage.outbox.enqueue(
            tx, key="routine", recipient_id=org.worker.id, kind="draft_reminder", params={}, now=org.clock.now()
        )
    await org.red_code()
    async with org.lock:
        assert await outbox.flush(org.storage, org.config, org.messenger, org.clock, org.lock) == 1
        assert len(org.urgent()) == 1
        assert org.messenger.texts(org.worker.chat_id) == []  # the reminder waits for the lock
    assert await org.flush() == 1
    assert len(org.urgent()) == 1 and len(org.messenger.texts(org.worker.chat_id)) == 1
