"""The outbox's and the jobs' messenger (bot.messenger.Messenger) over Telegram's Bot API.

Telegram's errors become the neutral ones, as the outbox has always treated them:
  - RetryAfter (429, a flood limit): RetryLater, after the time Telegram asks for;
  - BadRequest (the message or chat is gone, too old to delete or edit, "message is not modified"):
    Gone: asking again would not change the answer;
  - Forbidden (the person blocked the bot, or is deactivated): Blocked;
  - NetworkError, TimedOut (the message may come through later) and any other TelegramError: Unreachable.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from telegram import InputFile
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

from bot.flows.model import Attachment, Rows
from bot.messenger import Blocked, Gone, RetryLater, Unreachable
from bot.telegram.lean_bot import LeanBot


def keyboard(rows: Rows) -> dict[str, Any]:
    """Inline buttons as the Bot API's JSON: the code in the data, the label for people."""
    return {"inline_keyboard": [[{"text": c.label, "callback_data": c.code} for c in row] for row in rows]}


def retry_after(exc: RetryAfter) -> timedelta:
    """How long Telegram asks us to wait."""
    with warnings.catch_warnings():  # PTB 22 warns that the int will become a timedelta; accept both
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value if isinstance(value, timedelta) else timedelta(seconds=value)


@contextmanager
def translated() -> Iterator[None]:
    """Telegram's errors as bot.messenger's (RetryAfter first: it is no BadRequest, but order it anyway)."""
    try:
        yield
    except RetryAfter as exc:
        raise RetryLater(retry_after(exc), str(exc)) from exc
    except BadRequest as exc:  # a NetworkError subclass in PTB: before it
        raise Gone(str(exc)) from exc
    except Forbidden as exc:
        raise Blocked(str(exc)) from exc
    except TelegramError as exc:  # NetworkError, TimedOut, and whatever else the Bot API answers
        raise Unreachable(str(exc)) from exc


class TelegramMessenger:
    """bot.messenger.Messenger over the lean bot: sends read only the new message's id."""

    def __init__(self, bot: LeanBot) -> None:
        self.bot = bot

    async def send(self, chat_id: int, text: str, rows: Rows = ()) -> int:
        with translated():
            return await self.bot.send_text(chat_id, text, keyboard(rows) if rows else None)

    async def edit(self, chat_id: int, message_id: int, text: str, rows: Rows = ()) -> None:
        data: dict[str, Any] = {"chat_id": chat_id, "message_id": message_id, "text": text}
        if rows:  # without reply_markup Telegram removes the message's buttons
            data["reply_markup"] = keyboard(rows)
        with translated():
            await self.bot.edit_text(data)

    async def delete(self, chat_id: int, message_id: int) -> None:
        with translated():
            await self.bot.delete_message(chat_id=chat_id, message_id=message_id)

    async def send_file(self, chat_id: int, file: Attachment) -> int:
        content = InputFile(file.content, filename=file.filename)
        with translated():
            if file.kind == "photo":
                message = await self.bot.send_photo(chat_id, content, caption=file.caption)
            else:
                message = await self.bot.send_document(chat_id, content, caption=file.caption)
        return message.message_id
