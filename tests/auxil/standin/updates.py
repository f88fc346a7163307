"""Builds real Bot API update JSON (messages, commands, button presses) for the stand-in."""

from __future__ import annotations

import itertools
import time
from typing import Any

_ids = itertools.count(1)


class UpdateFactory:
    """Update JSON as Telegram sends it, for one person in a private chat with the bot."""

    def __init__(self, user_id: int, *, first_name: str = "Test", language_code: str | None = "en") -> None:
        self.user_id = user_id
        self.user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if language_code:
            self.user["language_code"] = language_code
        self.chat = {"id": user_id, "type": "private", "first_name": first_name}
        self._message_ids = itertools.count(1)

    def _message(self, **fields: Any) -> dict[str, Any]:
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": self.chat,
            "from": self.user,
            **fields,
        }

    def text(self, text: str) -> dict[str, Any]:
        """A typed message; a leading /command gets the bot_command entity Telegram adds."""
        fields: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split()[0]
            fields["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command.encode("utf-16-le")) // 2}]
        return {"update_id": next(_ids), "message": self._message(**fields)}

    def location(self, latitude: float, longitude: float) -> dict[str, Any]:
        return {
            "update_id": next(_ids),
            "message": self._message(location={"latitude": latitude, "longitude": longitude}),
        }

    def document(self, document: dict[str, Any]) -> dict[str, Any]:
        """A file sent (the `document` a FakeBotApi.person_sent made)."""
        return {"update_id": next(_ids), "message": self._message(document=document)}

    def tap(self, sent_message: dict[str, Any] | None, data: str, *, message_id: int = 1) -> dict[str, Any]:
        """A press on an inline button of a message the bot sent (callback_data is `data`)."""
        message = sent_message or {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": self.chat,
            "text": "...",
        }
        return {
            "update_id": next(_ids),
            "callback_query": {
                "id": str(next(_ids)),
                "from": self.user,
                "chat_instance": str(self.user_id),
                "message": message,
                "data": data,
            },
        }
