"""The error handler: a redacted log line for the operator, a neutral answer for the person."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden, NetworkError, RetryAfter, TimedOut

from bot.i18n import tr
from bot.redaction import redacted
from bot.telegram.context import BotContext
from bot.telegram.shred import silenced

log = logging.getLogger("outreach.errors")


async def _reader_locale(update: Update, context: BotContext) -> str:
    """Error handlers get a fresh context without the person: look their language up again."""
    config = context.bot_data.config
    default = config.language if config is not None else "en"
    storage = context.bot_data.storage
    if storage is None or update.effective_user is None:
        return default
    async with storage.db.read() as tx:
        person = await storage.people.by_telegram_user(tx, update.effective_user.id)
    return person.locale if person is not None and person.status == "active" else default


async def on_error(update: object, context: BotContext) -> None:
    """Log without content; tell the person, neutrally, to try again."""
    error = context.error
    if error is None:
        return
    if isinstance(error, NetworkError | TimedOut | RetryAfter | Forbidden):
        log.warning("Telegram call failed: %s", redacted(error))
    else:
        log.error("Unhandled error: %s", redacted(error))
    if silenced(context.bot_data):  # the key was destroyed: errors of what was in flight answer nobody
        return
    if isinstance(update, Update) and update.effective_chat is not None and not isinstance(error, Forbidden):
        try:
            locale = await _reader_locale(update, context)
            await update.effective_chat.send_message(tr(locale, "Sorry, something went wrong. Please try again."))
        except Exception as exc:  # the network may be what failed; never loop on it
            log.warning("Could not send the error notice: %s", redacted(exc))
