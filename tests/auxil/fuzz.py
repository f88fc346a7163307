"""Helpers for tests/test_fuzz.py: a cast of people,
Bot API update JSON of every kind, and the invariants checked after every update."""

from __future__ import annotations

import asyncio
import atexit
import base64
import copy
import itertools
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from bot.handlers.start import NEUTRAL, REFUSED
from bot.i18n import LANGUAGES, tr
from bot.jobs.outbox import OWED_TO_REVOKED
from tests.auxil.harness import EXAMPLE, Chatter, Harness
from tests.auxil.standin import Sent, UpdateFactory

T = TypeVar("T")

FUZZ_CONFIG: dict[str, Any] = copy.deepcopy(EXAMPLE)
FUZZ_CONFIG["alert_codes"] = [
    {"word": "buy bread", "level": "red"},
    {"word": "call aunt", "level": "yellow"},
    {"word": "all good here", "level": "green"},
]
FUZZ_CONFIG["support"] = [
    {"kind": "emergency", "name": "Ambulance", "contact": "128"},
    {"kind": "legal", "name": "Legal aid", "contact": "+502 3", "area": "Zona 1"},
]

_ids = itertools.count(800_000_001)
_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?=\s|$)")
GROUP_CHAT = {"id": -1001234567890, "type": "supergroup", "title": "Outreach team"}
CHANNEL_CHAT = {"id": -1009876543210, "type": "channel", "title": "News"}


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass
class Cast:
    """Everyone who writes to the bot in a fuzz run."""

    workers: list[Chatter]  # north, north, south (the south team has no supervisor)
    supervisor: Chatter  # north
    manager: Chatter
    admin: Chatter
    strangers: list[Chatter]  # never enrolled, one with no language_code, and one revoked worker
    everyone: list[Chatter] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.everyone = [*self.workers, self.supervisor, self.manager, self.admin, *self.strangers]

    @property
    def stranger_ids(self) -> set[int]:
        return {s.chat_id for s in self.strangers}


async def make_cast(h: Harness) -> Cast:
    workers = [
        await h.enrol("worker", "north", language="en"),
        await h.enrol("worker", "north", language="ar"),
        await h.enrol("worker", "south", language="es"),
    ]
    supervisor = await h.enrol("supervisor", "north", language="en")
    manager = await h.enrol("manager", language="fr")
    admin = await h.enrol("admin", language="pt")
    revoked = await h.enrol("worker", "north")
    assert revoked.person is not None
    async with h.storage.db.tx() as tx:  # as `outreach-bot revoke` does
        await h.storage.people.set_status(tx, revoked.person.id, "revoked")
    strangers = [h.chatter(language_code="ar"), h.chatter(language_code=None), revoked]
    return Cast(workers, supervisor, manager, admin, strangers)


_template: tuple[Path, bytes, list[tuple[int, str | None, Any]]] | None = None


async def _build_template() -> tuple[Path, bytes, list[tuple[int, str | None, Any]]]:
    """Enrol the cast once per test session; each example starts from a copy of that database."""
    tmp = Path(tempfile.mkdtemp(prefix="outreach-fuzz-template-", dir=scratch_dir()))
    atexit.register(shutil.rmtree, tmp, True)
    h = Harness(tmp, FUZZ_CONFIG)
    await h.start()
    try:
        cast = await make_cast(h)
    finally:
        await h.stop()
    assert not h.errors, h.errors
    assert h.app.bot_data.key is not None
    return (
        tmp / "data",
        h.app.bot_data.key,
        [(c.chat_id, c.factory.user.get("language_code"), c.person) for c in cast.everyone],
    )


async def start_with_cast(h: Harness) -> Cast:
    """Start `h` (not started yet) on a copy of the enrolled cast: as make_cast() leaves it, but faster."""
    global _template
    if _template is None:
        _template = await _build_template()
    data, key, people = _template
    shutil.copytree(data, h.settings.data_dir)
    h.app.bot_data.key = key  # the key is kept outside the data dir: it comes with the copy by hand,
    (h.tmp / "keys" / "key").write_text(base64.b64encode(key).decode())  # and for a restart's new Harness
    await h.start()
    chatters = [Chatter(h, UpdateFactory(user_id, language_code=code), person) for user_id, code, person in people]
    return Cast(chatters[:3], chatters[3], chatters[4], chatters[5], chatters[6:])


# -- update JSON ------------------------------------------------------------------------------


def _message(person: Chatter, fields: dict[str, Any], *, chat: dict[str, Any] | None = None) -> dict[str, Any]:
    message = {
        "message_id": next(person.factory._message_ids),
        "date": int(time.time()),
        "chat": chat or person.factory.chat,
        "from": person.factory.user,
        **fields,
    }
    if chat is not None and chat["type"] == "channel":
        del message["from"]
        message["sender_chat"] = chat
    return message


def _update(message: dict[str, Any], *, edited: bool = False, channel: bool = False) -> dict[str, Any]:
    if edited:
        message["edit_date"] = message["date"] + 5
    key = (
        ("edited_channel_post" if edited else "channel_post")
        if channel
        else ("edited_message" if edited else "message")
    )
    return {"update_id": next(_ids), key: message}


def text_fields(text: str) -> dict[str, Any]:
    """A text message as Telegram sends it: a leading /command gets its bot_command entity."""
    fields: dict[str, Any] = {"text": text}
    found = _COMMAND.match(text)
    if found:
        fields["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(found.group())}]
    return fields


def text_update(person: Chatter, text: str, *, edited: bool = False) -> dict[str, Any]:
    return _update(_message(person, text_fields(text)), edited=edited)


def location_update(person: Chatter, latitude: float, longitude: float, *, edited: bool = False) -> dict[str, Any]:
    location: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
    if edited:
        location["live_period"] = 900  # a live location: Telegram sends its moves as edits
    return _update(_message(person, {"location": location}), edited=edited)


def media_fields(kind: str, caption: str | None, user_id: int) -> dict[str, Any]:
    """One of the non-text messages people send; the caption, if any, is not message text."""
    file = {"file_id": f"F{kind}{user_id}", "file_unique_id": f"U{kind}"}
    fields: dict[str, Any] = {
        "photo": {"photo": [{**file, "width": 90, "height": 90}, {**file, "width": 800, "height": 800}]},
        "sticker": {
            "sticker": {**file, "type": "regular", "width": 512, "height": 512, "is_animated": False, "is_video": False}
        },
        "voice": {"voice": {**file, "duration": 4, "mime_type": "audio/ogg"}},
        "video_note": {"video_note": {**file, "length": 240, "duration": 3}},
        "document": {"document": {**file, "file_name": "notes.pdf", "mime_type": "application/pdf"}},
        "contact": {"contact": {"phone_number": "+50255550000", "first_name": "Ana", "user_id": user_id}},
        "dice": {"dice": {"emoji": "🎲", "value": 4}},
        "venue": {
            "location": {"latitude": 14.6, "longitude": -90.5},
            "venue": {"location": {"latitude": 14.6, "longitude": -90.5}, "title": "Bar", "address": "Zona 1"},
        },
        "audio": {"audio": {**file, "duration": 30, "title": "song"}},
        "new_chat_title": {"new_chat_title": "x"},
    }[kind]
    if caption is not None and kind in ("photo", "document", "voice"):
        fields["caption"] = caption
    return fields


MEDIA_KINDS = (
    "photo",
    "sticker",
    "voice",
    "video_note",
    "document",
    "contact",
    "dice",
    "venue",
    "audio",
    "new_chat_title",
)


def media_update(person: Chatter, kind: str, caption: str | None = None, *, edited: bool = False) -> dict[str, Any]:
    return _update(_message(person, media_fields(kind, caption, person.chat_id)), edited=edited)


def group_update(person: Chatter, text: str, *, channel: bool = False) -> dict[str, Any]:
    return _update(_message(person, text_fields(text), chat=CHANNEL_CHAT if channel else GROUP_CHAT), channel=channel)


def callback_update(
    person: Chatter, data: str | None, *, message: dict[str, Any] | None = None, where: str = "plain"
) -> dict[str, Any]:
    """A button press. `where`: "plain" (a message of the chat), "inaccessible" (older than 48 hours:
    Telegram sends date 0 and nothing else), "inline" (no message at all), "group"."""
    query: dict[str, Any] = {
        "id": str(next(_ids)),
        "from": person.factory.user,
        "chat_instance": str(person.chat_id),
    }
    if data is not None:
        query["data"] = data
    if message is not None:
        query["message"] = message
    elif where == "inaccessible":
        query["message"] = {"message_id": 7, "date": 0, "chat": person.factory.chat}
    elif where == "inline":
        query["inline_message_id"] = "AgAAAB"
    else:
        chat = GROUP_CHAT if where == "group" else person.factory.chat
        query["message"] = {"message_id": 7, "date": int(time.time()), "chat": chat, "text": "..."}
    return {"update_id": next(_ids), "callback_query": query}


def blocked_update(person: Chatter) -> dict[str, Any]:
    """The person blocked the bot (or deleted the chat)."""
    bot = {"id": 7000000001, "is_bot": True, "first_name": "Outreach", "username": "outreach_demo_bot"}
    return {
        "update_id": next(_ids),
        "my_chat_member": {
            "chat": person.factory.chat,
            "from": person.factory.user,
            "date": int(time.time()),
            "old_chat_member": {"status": "member", "user": bot},
            "new_chat_member": {"status": "kicked", "user": bot, "until_date": 0},
        },
    }


def with_buttons(h: Harness, person: Chatter) -> list[Sent]:
    """What the bot showed this person with inline buttons, oldest first."""
    return [s for s in h.api.to(person.chat_id) if s.buttons]


def tap_update(h: Harness, person: Chatter, sent: Sent, data: str) -> dict[str, Any]:
    """A press on a real button of a message the bot showed (the message as Telegram echoes it)."""
    message = {
        "message_id": sent.message_id,
        "date": int(time.time()),
        "chat": person.factory.chat,
        "from": h.api.bot_user,
        "text": sent.text or "",
        "reply_markup": sent.params.get("reply_markup"),
    }
    return callback_update(person, data, message=message)


def last_button(h: Harness, person: Chatter, prefix: str) -> tuple[Sent, str] | None:
    """The newest button whose data starts with `prefix` on what this person was shown."""
    for sent in reversed(with_buttons(h, person)):
        for _, data in sent.buttons:
            if data.startswith(prefix):
                return sent, data
    return None


# -- invariants -------------------------------------------------------------------------------


def stranger_texts() -> set[str]:
    """All that someone who is not enrolled may ever read."""
    texts = {tr(loc, NEUTRAL) for loc in LANGUAGES}
    texts |= {tr(loc, text) for loc in LANGUAGES for text in REFUSED.values()}
    return texts


_STRANGER_TEXTS: set[str] | None = None

DB_CHECKS: tuple[tuple[str, str], ...] = (
    (
        "a person has more than one open check-in",
        "SELECT person_id, count(*) FROM checkins WHERE status = 'open' GROUP BY person_id HAVING count(*) > 1",
    ),
    (
        "an open check-in has no deadline, or a deadline not after its start",
        "SELECT id, started_at, deadline_at FROM checkins WHERE status = 'open'"
        " AND (deadline_at IS NULL OR deadline_at <= started_at)",
    ),
    (
        "an open check-in belongs to someone who is not active",
        "SELECT c.id FROM checkins c LEFT JOIN people p ON p.id = c.person_id"
        " WHERE c.status = 'open' AND (p.id IS NULL OR p.status != 'active' OR p.role != 'worker')",
    ),
    (
        "an alert was told to nobody",
        "SELECT a.id, a.kind FROM alerts a WHERE NOT EXISTS"
        " (SELECT 1 FROM alert_events e WHERE e.alert_id = a.id AND e.event = 'told')",
    ),
    (
        "an alert was told to someone who may not handle it",
        "SELECT e.alert_id, p.role FROM alert_events e JOIN alerts a ON a.id = e.alert_id"
        " JOIN people p ON p.id = e.recipient_id WHERE e.event = 'told' AND NOT"
        " (p.role IN ('manager', 'admin') OR (p.role = 'supervisor' AND p.team_id IS a.team_id))",
    ),
    (
        "an alert status does not match its stamps",
        "SELECT id, status FROM alerts WHERE (status = 'acknowledged' AND acknowledged_by IS NULL)"
        " OR (status = 'resolved' AND resolved_at IS NULL) OR (status = 'open' AND resolved_at IS NOT NULL)",
    ),
    (
        "a missed check-out alert is still active though its check-in is closed",
        "SELECT a.id FROM alerts a JOIN checkins c ON c.id = a.checkin_id WHERE a.kind = :missed"
        " AND a.status != 'resolved' AND c.status = 'closed'",
    ),
    (  # taking messages off a revoked person's screen (a clean-up, a deletion) is still owed to them
        "a message is pending for someone revoked or unknown",
        "SELECT o.id, o.kind FROM outbox o LEFT JOIN people p ON p.id = o.recipient_id"
        " WHERE o.status = 'pending' AND (p.id IS NULL OR (p.status != 'active'"
        f" AND o.kind NOT IN ({', '.join(repr(k) for k in OWED_TO_REVOKED)})))",
    ),
    (
        "a queued message could not be rendered",
        "SELECT id, kind, last_error FROM outbox WHERE last_error LIKE 'render:%'",
    ),
    (
        "a worker was queued an alert meant for supervisors",
        "SELECT o.id, o.kind FROM outbox o JOIN people p ON p.id = o.recipient_id"
        " WHERE o.kind IN ('alert', 'alert_acked', 'alert_closed') AND p.role = 'worker'",
    ),
    (
        "a message is pending though it is due and Telegram accepts everything",
        "SELECT id, kind FROM outbox WHERE status = 'pending' AND attempts > 0",
    ),
)


_COUNT_ALL = " UNION ALL ".join(f"SELECT {i} AS k, count(*) AS n FROM ({sql})" for i, (_, sql) in enumerate(DB_CHECKS))


async def db_problems(h: Harness) -> list[str]:
    """Every DB_CHECKS query in one round trip; the offending rows only when one of them finds any."""
    problems = []
    params = {"missed": h.storage.codes.token("alerts.kind", "missed_checkout")}  # kinds are coded
    async with h.storage.db.read() as tx:
        for row in await tx.all(_COUNT_ALL, params):
            if row["n"]:
                what, sql = DB_CHECKS[row["k"]]
                problems.append(f"{what}: {[tuple(r) for r in await tx.all(sql, params)][:5]}")
    return problems


def api_problems(h: Harness, cast: Cast, since: int) -> list[str]:
    """What Telegram itself would refuse, or what must never be shown, in the calls since `since`."""
    global _STRANGER_TEXTS
    if _STRANGER_TEXTS is None:
        _STRANGER_TEXTS = stranger_texts()
    problems = []
    for sent in h.api.sent[since:]:
        if sent.method in ("sendMessage", "editMessageText"):
            if not sent.text or not sent.text.strip():
                problems.append(f"{sent.method} with empty text")
            elif len(sent.text) > 4096:
                problems.append(f"{sent.method} text of {len(sent.text)} characters (Telegram allows 4096)")
        if sent.method == "answerCallbackQuery" and len(sent.params.get("text") or "") > 200:
            problems.append("answerCallbackQuery text over 200 characters")
        for label, data in sent.buttons:
            if not label or not data or len(data.encode()) > 64:
                problems.append(f"bad inline button {label!r} -> {data!r} (callback data is 1-64 bytes)")
        if sent.chat_id is not None and sent.chat_id < 0:
            problems.append(f"{sent.method} to a group or channel {sent.chat_id}")
        if sent.chat_id in cast.stranger_ids and sent.method not in ("answerCallbackQuery", "deleteMessage"):
            if sent.text not in _STRANGER_TEXTS or sent.params.get("reply_markup"):
                problems.append(f"someone not enrolled was shown {sent.text!r}")
    answered: dict[str, int] = {}
    for method, params in h.api.calls:
        if method == "answerCallbackQuery":
            qid = str(params.get("callback_query_id"))
            answered[qid] = answered.get(qid, 0) + 1
    twice = [q for q, n in answered.items() if n > 1]
    if twice:
        problems.append(f"callback queries answered more than once (Telegram refuses the second): {twice[:3]}")
    return problems


async def all_problems(h: Harness, cast: Cast, since: int) -> list[str]:
    errors = [f"handler raised {type(e).__name__}: {e}" for e in h.errors]
    return errors + await db_problems(h) + api_problems(h, cast, since)


# -- running async code from hypothesis' synchronous tests ----------------------------------------


def scratch_dir() -> Path | None:
    """Memory-backed where there is one: the database fsyncs every commit."""
    shm = Path("/dev/shm")
    return shm if shm.is_dir() and os.access(shm, os.W_OK) else None


class Loop:
    """One event loop and one temporary data directory for one hypothesis example or state machine run."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.tmp = Path(tempfile.mkdtemp(prefix="outreach-fuzz-", dir=scratch_dir()))

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    def close(self, *cleanups: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        try:
            for cleanup in cleanups:
                self.run(cleanup())
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        finally:
            self.loop.close()
            shutil.rmtree(self.tmp, ignore_errors=True)
