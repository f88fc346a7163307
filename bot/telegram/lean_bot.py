"""ExtBot, lean where the bot spends the most: sending, answering buttons, reading button presses.

Telegram answers every sendMessage with the whole message, keyboard included. PTB turns that
answer back into a Message (and each button into an object) although we only ever need its id:
that parsing, and PTB's generic to_dict of the keyboard we send, were a third of the cost of a
handled update. `send_text` sends the same request and reads only the id.

Likewise every button press arrives with the message it was on, whole keyboard included, and the
bot never looks at that keyboard (the pressed button's code is in the press itself): it is dropped
before the update is parsed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from telegram import InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.ext import ExtBot

from bot.telegram.startup import Sleep, until_connected

if TYPE_CHECKING:
    from bot.telegram.updates import Unconfirmed

Keyboard = dict[str, Any]  # an inline keyboard already as the Bot API's JSON (bot.telegram.messenger.keyboard)
Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | Keyboard


def markup_json(markup: Markup) -> dict[str, Any]:
    """The keyboard as the Bot API expects it; text+callback_data buttons without to_dict's walk."""
    if isinstance(markup, dict):
        return markup
    if isinstance(markup, InlineKeyboardMarkup):
        rows: list[list[dict[str, Any]]] = []
        for row in markup.inline_keyboard:
            out = []
            for button in row:
                if isinstance(button.callback_data, str) and not button.api_kwargs:  # then it is the only field
                    out.append({"text": button.text, "callback_data": button.callback_data})
                else:
                    out.append(button.to_dict())
            rows.append(out)
        return {"inline_keyboard": rows}
    return markup.to_dict()


def drop_echoed_keyboard(update: dict[str, Any]) -> None:
    """Remove the keyboard of the message a pressed button was on, from a raw update."""
    query = update.get("callback_query")
    if isinstance(query, dict) and isinstance(query.get("message"), dict):
        query["message"].pop("reply_markup", None)


class LeanBot(ExtBot[None]):
    def __init__(
        self,
        *args: Any,
        unconfirmed: Unconfirmed | None = None,
        start_sleep: Sleep | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._unconfirmed = unconfirmed  # see bot.updates (a _name: PTB freezes a Bot's public attributes)
        self._start_sleep = start_sleep or asyncio.sleep

    async def initialize(self) -> None:
        """getMe, tried again with backoff while the Bot API is unreachable (bot/telegram/startup.py)."""
        await until_connected(super().initialize, self._start_sleep)

    @property
    def unconfirmed(self) -> Unconfirmed | None:
        return self._unconfirmed

    async def _post(self, endpoint: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        result = await super()._post(endpoint, data, **kwargs)
        if endpoint == "getUpdates" and isinstance(result, list):
            if self.unconfirmed is not None:  # updates still being handled come again: not twice
                result = self.unconfirmed.take_new(result)
            for update in result:
                drop_echoed_keyboard(update)
        return result

    async def get_updates(  # type: ignore[override]
        self,
        offset: int | None = None,
        limit: int | None = None,
        timeout: int | timedelta | None = None,  # noqa: ASYNC109 - the Bot API's long-poll parameter
        allowed_updates: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> tuple[Update, ...]:
        """getUpdates confirming only updates whose handling has ended (see bot.updates.Unconfirmed)."""
        unconfirmed = self.unconfirmed
        if unconfirmed is None:
            return await super().get_updates(offset, limit, timeout, allowed_updates, **kwargs)
        seconds = timeout.total_seconds() if isinstance(timeout, timedelta) else float(timeout or 0)
        # Polling: the next batch once the last is handled. A quick call (the one PTB makes when it
        # stops): confirm only what is handled now; post_stop confirms the rest once handled.
        confirm = await unconfirmed.settle() if seconds > 0 else unconfirmed.offset(offset)
        return await super().get_updates(confirm, limit, timeout, allowed_updates, **kwargs)

    async def send_text(self, chat_id: int, text: str, reply_markup: Markup | None = None) -> int:
        """sendMessage with plain text; returns the new message's id. Raises as send_message does."""
        data: dict[str, Any] = {"chat_id": chat_id, "text": text}
        if reply_markup is not None:
            data["reply_markup"] = markup_json(reply_markup)
        result = await self._post("sendMessage", data)
        return int(result["message_id"])

    async def edit_text(self, data: dict[str, Any]) -> None:
        """editMessageText without parsing the edited message Telegram sends back."""
        await self._post("editMessageText", data)

    async def answer_button(self, query_id: str, text: str | None = None) -> None:
        """answerCallbackQuery (stops the spinner on the button; `text` shows as a small notice)."""
        await self._post("answerCallbackQuery", {"callback_query_id": query_id, "text": text})
