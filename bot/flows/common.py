"""Small helpers shared by the flows."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import NoReturn

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bot.context import BotContext
from bot.i18n import tr
from bot.lean_bot import LeanBot, Markup

STALE = "This button is no longer current."
OUT_OF_ORDER = "I did not understand. Send /help to see what you can do."


async def reply(update: Update, text: str, reply_markup: Markup | None = None) -> None:
    """Answer in the chat the update came from (after answering a button press, if it was one)."""
    bot = update.get_bot()
    assert isinstance(bot, LeanBot)
    if update.callback_query is not None:
        await bot.answer_button(update.callback_query.id)
    assert update.effective_chat is not None
    await bot.send_text(update.effective_chat.id, text, reply_markup)


async def stop_after(update: Update, context: BotContext, work: Awaitable[object]) -> NoReturn:
    """Do `work`, then stop: no later handler group may see this message (a code word, a PIN), not even
    when `work` failed; the failure goes to the error handlers as any other."""
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


def location_text(latitude: float, longitude: float) -> str | None:
    """ "lat, lon" with 5 decimals (about a metre), or None if out of range."""
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    return f"{latitude:.5f}, {longitude:.5f}"
