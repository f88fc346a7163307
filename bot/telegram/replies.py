"""Answering an update directly, for the one-shot handlers that still take python-telegram-bot's types."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import NoReturn

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bot.flows.model import STALE
from bot.i18n import tr
from bot.telegram.context import BotContext
from bot.telegram.lean_bot import LeanBot, Markup


async def reply(update: Update, text: str, reply_markup: Markup | None = None) -> None:
    """Answer in the chat the update came from (after answering a button press, if it was one)."""
    bot = update.get_bot()
    assert isinstance(bot, LeanBot)
    if update.callback_query is not None:
        await bot.answer_button(update.callback_query.id)
    assert update.effective_chat is not None
    await bot.send_text(update.effective_chat.id, text, reply_markup)


async def stop_after(update: Update, context: BotContext, work: Awaitable[object]) -> NoReturn:
    """Do `work`, then stop: no later handler group may see this update, not even when `work`
    failed; the failure goes to the error handlers as any other."""
    try:
        await work
    except ApplicationHandlerStop:
        raise
    except Exception as exc:  # reported to the error handlers just below, as PTB would have
        await context.application.process_error(update, exc)
    raise ApplicationHandlerStop


async def stale(update: Update, context: BotContext) -> None:
    """A button from an old message: say so, change nothing."""
    if update.callback_query is not None:
        await context.bot.answer_button(update.callback_query.id, tr(context.locale, STALE))
        if update.effective_chat is not None:
            await context.bot.send_text(update.effective_chat.id, tr(context.locale, STALE))


def is_worker(context: BotContext) -> bool:
    return context.person is not None and context.person.role == "worker"
