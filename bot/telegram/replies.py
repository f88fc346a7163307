"""Answering an update directly, for the one-shot handlers that still take python-telegram-bot's types."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import NoReturn

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bot.flows.engine import queue_cleanup_for
from bot.flows.model import OUT_OF_ORDER, STALE
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


async def clean_up_later(
    context: BotContext, message_ids: list[int], *, keep: int | None = None, kept: str | None = None
) -> None:
    """Queue these messages for the clean-up a conversation gets (bot/flows/engine.py): deleted once the
    organisation's delay has passed, but `keep`, which is edited to the neutral line `kept`."""
    if context.person is None or not (message_ids or keep is not None):
        return
    now = context.clock.now()
    job = {"delete": [m for m in message_ids if m != keep], "keep": keep, "text": kept, "rows": []}
    async with context.storage.db.tx() as tx:
        await queue_cleanup_for(context.storage, tx, context.person.id, job, now + context.config.clean_up_after, now)


async def answer_and_clean(update: Update, context: BotContext, text: str, reply_markup: Markup | None = None) -> None:
    """A one-shot answer that leaves the chat, with the command that asked for it, after the delay."""
    bot = update.get_bot()
    assert isinstance(bot, LeanBot) and update.effective_chat is not None
    if update.callback_query is not None:
        await bot.answer_button(update.callback_query.id)
    sent = await bot.send_text(update.effective_chat.id, text, reply_markup)
    asked = [update.message.message_id] if update.message is not None else []
    await clean_up_later(context, [*asked, sent])


async def not_understood(update: Update, context: BotContext) -> None:
    """What neither the engine nor a one-shot handler took (a command we do not have, a button of an
    old message): a neutral hint, nothing stored. Typed text outside a conversation is the engine's."""
    if update.callback_query is not None:
        await context.bot.answer_button(update.callback_query.id, tr(context.locale, STALE))
        return
    if update.effective_chat is not None and update.message is not None:
        await answer_and_clean(update, context, tr(context.locale, OUT_OF_ORDER))
