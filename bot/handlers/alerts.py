"""Code words (typed at any moment, in any flow), /alert, /support, and deleting sensitive messages."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.context import BotContext
from bot.flows.common import is_worker, reply, stale, stop_after
from bot.i18n import N_, tr
from bot.jobs.outbox import DELETE
from bot.jobs.ticker import request_flush
from bot.services.alerts import raise_code_alert
from bot.support import directory_text

DEFAULT_LABELS = {"red": N_("Pick me up"), "yellow": N_("Call me"), "green": N_("All good")}
DEFAULT_REPLY = N_("OK, noted.")
LEVELS = ("red", "yellow", "green")


def discreet_reply(context: BotContext) -> str:
    """What the worker's screen shows after a code: the organisation's words, or a plain "OK, noted."."""
    return context.config.alerts.reply or tr(context.locale, DEFAULT_REPLY)


async def schedule_deletion(context: BotContext, chat_id: int, message_ids: list[int]) -> None:
    """With [privacy] delete_after, remove these messages from the person's chat after the delay. Queued
    in the outbox, so a restart in between does not leave them on the phone."""
    delay = context.config.delete_after
    if delay is None or context.person is None:
        return
    now = context.clock.now()
    async with context.storage.db.tx() as tx:
        await context.storage.outbox.enqueue(
            tx,
            key=f"delete:{context.person.id}:" + ",".join(map(str, message_ids)),  # the key is in clear: no chat id
            recipient_id=context.person.id,
            kind=DELETE,
            params={"chat_id": chat_id, "message_ids": message_ids},
            now=now,
            due=now + delay,
        )


async def code_word(update: Update, context: BotContext) -> None:
    """A configured code word from a worker wins over every flow: alert, answer discreetly, stop."""
    message = update.message
    if message is None or not message.text or not is_worker(context):
        return
    level = context.config.code_level(message.text)
    if level is None:
        return
    await stop_after(update, context, _raise_and_answer(update, context, level))


async def raise_from(update: Update, context: BotContext, level: str, *, duress: bool = False) -> None:
    """Raise the worker's alert for this update (once, however often Telegram sends it) and send it."""
    assert context.person is not None
    esc, now = context.config.escalation, context.clock.now()
    await raise_code_alert(context.storage, esc, context.person, level, now, duress=duress, update_id=update.update_id)
    request_flush(context)


async def _raise_and_answer(update: Update, context: BotContext, level: str) -> None:
    assert update.effective_chat is not None and update.message is not None
    await raise_from(update, context, level)
    chat_id = update.effective_chat.id
    await schedule_deletion(context, chat_id, [update.message.message_id])  # even if the reply fails
    answer = await update.effective_chat.send_message(discreet_reply(context))
    await schedule_deletion(context, chat_id, [answer.message_id])


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
    await reply(update, tr(context.locale, "Choose:"), reply_markup=InlineKeyboardMarkup(rows))


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
    edited = await query.edit_message_text(discreet_reply(context))
    if update.effective_chat is not None and not isinstance(edited, bool):
        await schedule_deletion(context, update.effective_chat.id, [edited.message_id])


async def support(update: Update, context: BotContext) -> None:
    """/support: every contact of the directory."""
    await reply(update, directory_text(context.config, context.locale))
