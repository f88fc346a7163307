"""The Bot API's behaviour, as far as this bot uses it: it records every call and answers it."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.auxil.standin.limits import FloodLimits

Failure = tuple[int, dict[str, Any]]
TEXT_LIMIT, CAPTION_LIMIT, CALLBACK_DATA_LIMIT = 4096, 1024, 64  # UTF-16 units, UTF-16 units, bytes
BUTTON_LIMIT = 100  # buttons in one inline keyboard


@dataclass
class Sent:
    """One call the bot made that shows something to a person (or changes what they see)."""

    method: str
    chat_id: int | None
    text: str | None
    params: dict[str, Any]
    message_id: int | None = None
    at: float = field(default_factory=time.monotonic)

    @property
    def shows(self) -> bool:
        """A text the person now sees: a new message, or one edited in place."""
        return self.method in ("sendMessage", "editMessageText")

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """(label, callback data) of every inline button, row by row."""
        markup = self.params.get("reply_markup") or {}
        return [
            (b.get("text", ""), b.get("callback_data", "")) for row in markup.get("inline_keyboard", []) for b in row
        ]


def utf16_len(text: str) -> int:
    """Telegram measures texts in UTF-16 code units: an emoji outside the BMP counts twice."""
    return len(text.encode("utf-16-le")) // 2


def _refused(name: str, params: dict[str, Any]) -> str | None:
    """What the Bot API would refuse in this call, in its words; None when it would accept it."""
    sends = ("sendmessage", "sendphoto", "senddocument", "sendlocation")
    if name in sends and not params.get("chat_id"):
        return "chat_id is empty"
    if name in ("sendmessage", "editmessagetext"):
        text = params.get("text")
        if not text or not str(text).strip():
            return "message text is empty"
        if utf16_len(str(text)) > TEXT_LIMIT:
            return "message is too long"
    if name in ("sendphoto", "senddocument") and utf16_len(str(params.get("caption") or "")) > CAPTION_LIMIT:
        return "message caption is too long"
    markup = params.get("reply_markup")
    if isinstance(markup, str):
        markup = json.loads(markup)
    if isinstance(markup, dict):
        if sum(len(row) for row in markup.get("inline_keyboard", [])) > BUTTON_LIMIT:
            return "reply markup is too long"
        for row in markup.get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= CALLBACK_DATA_LIMIT:
                    return "BUTTON_DATA_INVALID"
    return None


class FakeBotApi:
    """Answers Bot API methods; `fail` can be set to simulate an outage for chosen methods."""

    def __init__(self, *, bot_id: int = 7000000001, username: str = "outreach_demo_bot") -> None:
        self.bot_user = {
            "id": bot_id,
            "is_bot": True,
            "first_name": "Outreach",
            "username": username,
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.sent: list[Sent] = []
        self.fail: Callable[[str, dict[str, Any]], Failure | None] | None = None
        self._message_ids = itertools.count(1000)
        self._update_ids = itertools.count(1)
        self._pending: list[dict[str, Any]] = []
        self._new_update = asyncio.Event()
        self.listeners: list[Callable[[Sent], None]] = []
        self.chats: dict[int, dict[int, str]] = {}  # what each chat holds now: message id -> its text
        self.limits: FloodLimits | None = None  # Telegram's flood limits (429 past them); off unless set
        self.files: dict[str, tuple[str, bytes]] = {}  # file_id -> (file_path, bytes) of files people sent
        self.downloads: list[str] = []  # the file paths fetched, in order

    # -- feeding updates, for getUpdates (long polling) ---------------------------------
    def new_message_id(self) -> int:
        """A message id of this chat's sequence, for a message a person sends (as Telegram numbers them)."""
        return next(self._message_ids)

    def push_update(self, update: dict[str, Any]) -> None:
        update.setdefault("update_id", next(self._update_ids))
        self._pending.append(update)
        self._new_update.set()

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        self._pending = [u for u in self._pending if u["update_id"] >= offset]
        if not self._pending and params.get("timeout"):
            self._new_update.clear()
            try:
                await asyncio.wait_for(self._new_update.wait(), timeout=float(params["timeout"]))
            except TimeoutError:
                pass
        limit = int(params.get("limit") or 100)
        return self._pending[:limit]

    # -- answering --------------------------------------------------------------------
    def _message(self, chat_id: Any, text: str | None, params: dict[str, Any]) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": int(chat_id), "type": "private"},
            "from": self.bot_user,
        }
        if text is not None:
            message["text"] = text
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:  # Telegram echoes inline keyboards only
            message["reply_markup"] = markup
        return message

    def person_sent(self, name: str, content: bytes, *, size: int | None = None) -> dict[str, Any]:
        """A document a person sends: the update's `document` field; getFile then serves its bytes.
        `size`: the file_size Telegram reports (default the real one)."""
        number = len(self.files) + 1
        file_id = f"BQACAgIAAxkBAAI{number:06d}"
        self.files[file_id] = (f"documents/file_{number}.{name.rpartition('.')[2] or 'bin'}", content)
        return {
            "file_id": file_id,
            "file_unique_id": f"AgAD{number:06d}",
            "file_name": name,
            "mime_type": "application/octet-stream",
            "file_size": len(content) if size is None else size,
        }

    def file_content(self, file_path: str) -> bytes | None:
        """A file's bytes by the path getFile gave, as GET {base_file_url}{token}/{file_path} serves them."""
        self.downloads.append(file_path)
        return next((content for path, content in self.files.values() if path == file_path), None)

    def person_wrote(self, chat_id: int, message_id: int, text: str) -> None:
        """A message the person sent: it is in the chat until deleted, like the bot's."""
        self.chats.setdefault(chat_id, {})[message_id] = text

    def _hold(self, method: str, chat_id: int | None, params: dict[str, Any], message_id: int | None) -> None:
        """Keep the chat as Telegram would show it: sends add, edits replace, deletions remove."""
        if chat_id is None or message_id is None:
            return
        chat = self.chats.setdefault(chat_id, {})
        name = method.lower()
        if name == "deletemessage":
            chat.pop(message_id, None)
        elif name == "sendlocation":
            chat[message_id] = f"[location {params.get('latitude')}, {params.get('longitude')}]"
        elif name in ("sendmessage", "sendphoto", "senddocument") or (name == "editmessagetext" and message_id in chat):
            markup = params.get("reply_markup")
            markup = json.loads(markup) if isinstance(markup, str) else markup or {}
            labels = [b.get("text", "") for row in markup.get("inline_keyboard", []) for b in row]
            labels += [b.get("text", "") for row in markup.get("keyboard", []) for b in row]
            chat[message_id] = "\n".join([str(params.get("text") or params.get("caption") or f"[{method}]"), *labels])

    def _record(self, method: str, params: dict[str, Any], message_id: int | None) -> None:
        chat = params.get("chat_id")
        sent = Sent(
            method=method,
            chat_id=int(chat) if chat is not None and str(chat).lstrip("-").isdigit() else None,
            text=params.get("text") or params.get("caption"),
            params=params,
            message_id=message_id,
        )
        self.sent.append(sent)
        self._hold(method, sent.chat_id, params, message_id)
        for listener in self.listeners:
            listener(sent)

    async def handle(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Answer one call the way the Bot API does: {"ok": true, "result": ...} or an error."""
        self.calls.append((method, params))
        if self.fail is not None:
            failure = self.fail(method, params)
            if failure is not None:
                return failure
        if self.limits is not None:
            too_many = self.limits.check(method, params)
            if too_many is not None:
                return too_many
        name = method.lower()
        if name == "getme":
            return 200, {"ok": True, "result": self.bot_user}
        if name == "getupdates":
            return 200, {"ok": True, "result": await self._get_updates(params)}
        refused = _refused(name, params)
        if refused is not None:
            return 400, {"ok": False, "error_code": 400, "description": f"Bad Request: {refused}"}
        if name in ("sendmessage", "sendphoto", "senddocument", "sendlocation"):
            text = params.get("text") if name == "sendmessage" else params.get("caption")
            message = self._message(params["chat_id"], text, params)
            self._record(method, params, message["message_id"])
            return 200, {"ok": True, "result": message}
        if name in ("editmessagetext", "editmessagereplymarkup"):
            message = self._message(params.get("chat_id", 0), params.get("text"), params)
            message["message_id"] = int(params.get("message_id", 0))
            self._record(method, params, message["message_id"])
            return 200, {"ok": True, "result": message}
        if name == "deletemessage":
            self._record(method, params, int(params.get("message_id", 0)))
            return 200, {"ok": True, "result": True}
        if name == "getfile":
            found = self.files.get(str(params.get("file_id")))
            if found is None:
                return 400, {"ok": False, "error_code": 400, "description": "Bad Request: invalid file_id"}
            file_id = str(params["file_id"])
            result = {"file_id": file_id, "file_unique_id": file_id[-8:], "file_size": len(found[1])}
            return 200, {"ok": True, "result": result | {"file_path": found[0]}}
        if name == "answercallbackquery":
            self._record(method, params, None)
            return 200, {"ok": True, "result": True}
        # setMyCommands, deleteWebhook, close, logOut...: accepted and recorded in `calls`.
        return 200, {"ok": True, "result": True}

    # -- reading what was sent ------------------------------------------------------------
    def to(self, chat_id: int) -> list[Sent]:
        """Everything shown to one chat (sent or edited), oldest first."""
        return [s for s in self.sent if s.chat_id == chat_id and s.method != "deleteMessage"]

    def last_to(self, chat_id: int) -> Sent:
        shown = [s for s in self.to(chat_id) if s.method != "answerCallbackQuery"]
        if not shown:
            raise AssertionError(f"nothing was sent to chat {chat_id}")
        return shown[-1]

    def clear(self) -> None:
        self.sent.clear()
        self.calls.clear()
