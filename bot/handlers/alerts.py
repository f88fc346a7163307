"""/alert (the levels as neutral buttons) and /support."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.flows.anytime import DEFAULT_REPLY
from bot.i18n import N_, tr
from bot.jobs.ticker import request_flush
from bot.services.alerts import raise_code_alert
from bot.support import directory_text
from bot.telegram.context import BotContext
from bot.telegram.replies import answer_and_clean, clean_up_later, is_worker, reply, stale

DEFAULT_LABELS = {"red": N_("Pick me up"), "yellow": N_("Call me"), "green": N_("All good")}
LEVELS = ("red", "yellow", "green")


async def raise_from(update: Update, context: BotContext, level: str) -> None:
    """Raise the worker's alert for this update (once, however often Telegram sends it) and send it."""
    assert context.person is not None
    esc, now = context.config.escalation, context.clock.now()
    await raise_code_alert(context.storage, esc, context.person, level, now, update_id=update.update_id)
    request_flush(context)


async def alert_menu(update: Update, context: BotContext) -> None:
    """/alert: the levels as neutral buttons."""
    if not is_worker(context):
        await reply(update, tr(context.locale, "This is for outreach workers."))
        return
    labels = context.config.alerts.labels
    rows = [
        [
            InlineKeyboardButton(
                labels.get(level) or tr(context.locale, DEFAULT_LABELS[level]), callback_data=f"alert:{level}"
            )
        ]
        for level in LEVELS
    ]
    await answer_and_clean(update, context, tr(context.locale, "Choose:"), reply_markup=InlineKeyboardMarkup(rows))


async def alert_tapped(update: Update, context: BotContext) -> None:
    """A level button: alert, and replace the buttons with the discreet answer."""
    query = update.callback_query
    assert query is not None
    level = (query.data or "").removeprefix("alert:")
    if level not in LEVELS or not is_worker(context):
        await stale(update, context)
        return
    await raise_from(update, context, level)
    await query.answer()
    await query.edit_message_text(context.config.alerts.reply or tr(context.locale, DEFAULT_REPLY))
    if query.message is not None:  # the menu (now the discreet answer) goes with the clean-up
        await clean_up_later(context, [query.message.message_id])


async def support(update: Update, context: BotContext) -> None:
    """/support: every contact of the directory."""
    await answer_and_clean(update, context, directory_text(context.config, context.locale))
