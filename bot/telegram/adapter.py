"""The Telegram adapter: updates become the engine's inputs, screens become messages.

A screen is one message with inline buttons, edited in place as the conversation moves on when the
person answered with a button; after a typed answer the next screen is a new message (an edit far
above what they typed would go unseen). Telegram cannot put the phone's "share location" button
on an edited message, nor inline buttons beside it, so that question is two messages.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import Document, InputFile, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import ApplicationHandlerStop

from bot.flows.model import (
    CHOICE,
    COMMAND,
    FILE,
    LOCATION,
    OTHER,
    TEXT,
    Attachment,
    Ctx,
    Input,
    Screen,
    Stranger,
    Unfetched,
    Upload,
)
from bot.i18n import guess_locale
from bot.messenger import BULK, urgent_as
from bot.telegram.context import BotContext
from bot.telegram.jobs import request_flush
from bot.telegram.lean_bot import LeanBot
from bot.telegram.messenger import keyboard
from bot.telegram.shred import stop_if_polling

log = logging.getLogger("outreach.telegram")


REMOVE_KEYBOARD = {"remove_keyboard": True}


def to_input(update: Update, username: str | None) -> Input | None:
    """The engine's input for an update; None for what the bot does not read (an edit, a join...)."""
    query = update.callback_query
    if query is not None:
        screen = query.message.message_id if query.message is not None else None
        return Input(CHOICE, query.data or "", on_screen=screen, update_id=update.update_id)
    message = update.message
    if message is None:
        return None
    mid, uid = message.message_id, update.update_id
    if message.location is not None:
        where = message.location
        return Input(LOCATION, latitude=where.latitude, longitude=where.longitude, message_id=mid, update_id=uid)
    if message.document is not None:
        return Input(FILE, upload=upload(message.document), message_id=mid, update_id=uid)
    text = message.text
    if text is None:
        return Input(OTHER, message_id=mid, update_id=uid)
    entity = message.entities[0] if message.entities else None
    if entity is not None and entity.type == "bot_command" and entity.offset == 0:
        command, _, addressed = text[1 : entity.length].partition("@")
        if addressed and addressed.lower() != (username or "").lower():
            return Input(OTHER, message_id=mid, update_id=uid)  # /start@another_bot
        args = tuple(text[entity.length :].split())
        return Input(COMMAND, command.lower(), args, message_id=mid, update_id=uid)
    return Input(TEXT, text, message_id=mid, update_id=uid)


def upload(document: Document) -> Upload:
    """A document as the engine's file: its bytes are fetched from the Bot API (getFile, then the file
    URL) only if a step takes it, after it checked the size Telegram reports."""

    async def fetch() -> bytes:
        try:
            file = await document.get_file()
            return bytes(await file.download_as_bytearray())
        except TelegramError as exc:  # an unknown or expired file id, a file over the Bot API's 20 MB...
            raise Unfetched(type(exc).__name__) from None

    return Upload(document.file_name or "", document.file_size, fetch)


class TelegramOutput:
    """Shows the engine's screens in one private chat."""

    def __init__(self, bot: LeanBot, chat_id: int, query_id: str | None) -> None:
        self.bot = bot
        self.chat_id = chat_id
        self.query_id = query_id
        self._extra: list[int] = []

    async def _edit(self, message_id: int, text: str, markup: dict[str, Any] | None) -> bool:
        data: dict[str, Any] = {"chat_id": self.chat_id, "message_id": message_id, "text": text}
        if markup is not None:
            data["reply_markup"] = markup
        try:
            await self.bot.edit_text(data)
        except BadRequest as exc:  # gone, too old, or the same text: a new message instead
            if "not modified" in str(exc).lower():
                return True
            return False
        return True

    async def show(self, screen: Screen, *, replace: int | None, drop: bool = False) -> int | None:
        if screen.location_button is not None:
            share = {
                "keyboard": [[{"text": screen.location_button, "request_location": True}]],
                "resize_keyboard": True,
                "one_time_keyboard": True,
            }
            if replace is not None:  # the old screen's buttons go; the question comes with the phone's button
                await self._forget_quietly(replace)
            first = await self.bot.send_text(self.chat_id, screen.text, share)
            self._extra.append(first)
            if not screen.rows:
                return first
            return await self.bot.send_text(self.chat_id, "⬇", keyboard(screen.rows))
        markup = REMOVE_KEYBOARD if drop else keyboard(screen.rows) if screen.rows else None
        if replace is not None and not drop and await self._edit(replace, screen.text, markup):
            return replace
        return await self.bot.send_text(self.chat_id, screen.text, markup)

    async def say(self, text: str, *, replace: int | None = None, drop: bool = False) -> int | None:
        if replace is not None and not drop and await self._edit(replace, text, None):
            return replace
        return await self.bot.send_text(self.chat_id, text, REMOVE_KEYBOARD if drop else None)

    async def toast(self, text: str | None = None) -> None:
        if self.query_id is not None:  # Telegram takes one answer per button press
            query_id, self.query_id = self.query_id, None
            await self.bot.answer_button(query_id, text)

    async def send_file(self, file: Attachment) -> int | None:
        content = InputFile(file.content, filename=file.filename)
        with urgent_as(BULK):  # a chart or an export: after the alerts and answers waiting to go
            if file.kind == "photo":
                message = await self.bot.send_photo(self.chat_id, content, caption=file.caption)
            else:
                message = await self.bot.send_document(self.chat_id, content, caption=file.caption)
        return message.message_id

    async def forget(self, message_id: int) -> None:
        await self._forget_quietly(message_id)

    async def _forget_quietly(self, message_id: int) -> None:
        try:
            await self.bot.delete_message(chat_id=self.chat_id, message_id=message_id)
        except TelegramError:
            pass  # already gone, or too old: nothing more to do

    def extra(self) -> list[int]:
        """Messages shown besides the ones `show` and `say` returned (the location question's)."""
        taken, self._extra = self._extra, []
        return taken


async def converse(update: Update, context: BotContext) -> None:
    """Every update the gate let through goes to the engine, as a messenger-neutral input."""
    chat, user = update.effective_chat, update.effective_user
    inp = to_input(update, context.bot.username)
    if inp is None or chat is None or user is None:
        return
    engine = context.bot_data.engine
    assert engine is not None, "build_application sets it"
    stranger = None
    if context.person is None:
        stranger = Stranger(user.id, chat.id, guess_locale(user.language_code, context.config.language))
    ctx = Ctx(
        context.storage,
        context.config,
        context.clock,
        context.org,
        context.person,
        update_id=update.update_id,
        stranger=stranger,
        shredder=context.bot_data.shredder,
    )
    query = update.callback_query
    out = TelegramOutput(context.bot, chat.id, query.id if query is not None else None)
    try:
        handled = await engine.handle(ctx, inp, out, flush=lambda: request_flush(context), conv=context.conversation)
    except Exception as exc:
        await out.toast()  # a press always stops its spinner, even when handling failed
        await context.application.process_error(update, exc)  # the error handlers, as PTB would call them
        raise ApplicationHandlerStop from None  # and no later handler answers it as well
    if handled:
        await out.toast()
    if context.bot_data.shredder is not None and context.bot_data.shredder.shredded is not None:
        stop_if_polling(context.application)  # the key was destroyed from the chat: `run` ends
    if handled:
        raise ApplicationHandlerStop  # the one-shot handlers after this group are not for it


__all__ = ["TEXT", "TelegramOutput", "converse", "keyboard", "to_input"]
