"""The error handler: a redacted log line for the operator, a neutral answer for the person."""

from __future__ import annotations

import logging
import traceback

from telegram import Update
from telegram.error import Forbidden, NetworkError, RetryAfter, TimedOut

from bot.context import BotContext
from bot.i18n import tr

log = logging.getLogger("outreach.errors")


def redacted(error: BaseException) -> str:
    """Exception type and where it was raised, never its message (which may hold user content)."""
    frames = traceback.extract_tb(error.__traceback__)[-3:]
    where = " <- ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}" for f in reversed(frames))
    return f"{type(error).__name__} at {where or 'unknown place'}"


async def on_error(update: object, context: BotContext) -> None:
    """Log without content; tell the person, neutrally, to try again."""
    error = context.error
    if error is None:
        return
    if isinstance(error, NetworkError | TimedOut | RetryAfter | Forbidden):
        log.warning("Telegram call failed: %s", redacted(error))
    else:
        log.error("Unhandled error: %s", redacted(error))
    if isinstance(update, Update) and update.effective_chat is not None and not isinstance(error, Forbidden):
        try:
            await update.effective_chat.send_message(
                tr(
                    context.locale if context.bot_data.config else "en",
                    "Sorry, something went wrong. Please try again.",
                )
            )
        except Exception as exc:  # the network may be what failed; never loop on it
            log.warning("Could not send the error notice: %s", redacted(exc))
