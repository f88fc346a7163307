"""Every Bot API call of the process through one sending budget (bot/sendlimit.py), most urgent first.

It replaces python-telegram-bot's AIORateLimiter (max_retries=0), which raised a 429 at whoever sent:
a handler's answer was then dropped ("Could not send the error notice"). Here:
  - a new message takes a token of the bot and one of its chat; edits and deletions one of the bot;
    answering a button press, getMe, setMyCommands... take none;
  - the urgency is the caller's (bot.messenger.urgency: the outbox sets it per message, a handler's
    answers are REPLY), so an alert queued behind a backlog is the next to go;
  - a 429 pauses every send for the retry_after Telegram asks, never less; a person's answer (REPLY)
    or a summary (BULK), which nothing else would send again, is then sent again; the outbox's
    messages (ALERT, ROUTINE) raise it, and the outbox retries them after that time, from the database.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.messenger import BULK, REPLY, urgency
from bot.sendlimit import Limits, SendBudget
from bot.telegram.messenger import retry_after

log = logging.getLogger("outreach.limits")
# New messages count for the bot and their chat; edits and deletions for the bot only (Telegram's one
# a second per chat is about messages sent: a conversation edits its screen in place as fast as taps come).
SHOWS = frozenset(
    {"sendMessage", "sendPhoto", "sendDocument", "sendLocation", "sendMediaGroup", "copyMessage", "forwardMessage"}
)
BOT_ONLY = frozenset(
    {"editMessageText", "editMessageReplyMarkup", "editMessageCaption", "deleteMessage", "deleteMessages"}
)
RESENT_HERE = (REPLY, BULK)  # what no database holds: sent again after a 429 here
MAX_RESENDS = 5  # 429s in a row for one answer before it is given up (each waited out in full)
Result = bool | dict[str, Any] | list[dict[str, Any]]


def _chat_of(data: dict[str, Any]) -> int | None:
    chat = data.get("chat_id")
    try:
        return int(chat) if chat is not None else None
    except (TypeError, ValueError):
        return None  # "@channel": the bot's bucket only


class UrgencyRateLimiter(BaseRateLimiter[int]):
    """python-telegram-bot's rate limiter hook over a SendBudget; rate_limit_args: an urgency level."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.budget = SendBudget(limits)

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Stop the budget's task."""
        await self.budget.close()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Result:
        """Wait for this call's turn, make it, and wait out a 429 in full."""
        level = rate_limit_args if isinstance(rate_limit_args, int) else urgency.get()
        counted = endpoint in SHOWS or endpoint in BOT_ONLY
        chat = _chat_of(data) if endpoint in SHOWS else None
        resends = 0
        while True:
            if counted or resends:  # after a 429, whatever it is waits for the pause to end
                await self.budget.take(chat, level)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                wait = retry_after(exc).total_seconds()
                self.budget.pause(wait)
                log.warning("Telegram asked to wait %g s (a flood limit): every send waits that long", wait)
                resends += 1
                if level not in RESENT_HERE or resends > MAX_RESENDS:
                    raise
