"""What the outbox and the scheduled jobs need from a messenger, whatever it is (Telegram, Signal...).

An adapter implements `Messenger` and turns its own errors into the four below, so that the outbox
decides what to retry without knowing the messenger: `bot/telegram/messenger.py` for Telegram.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta
from typing import Protocol

from bot.flows.model import Attachment, Rows


class MessengerError(Exception):
    """Something the messenger refused or could not do."""


class Gone(MessengerError):
    """The message or chat is gone, too old, or already as asked: asking again would not change the answer."""


class Blocked(MessengerError):
    """The person blocked the bot, or left: asking again would not change the answer."""


class RetryLater(MessengerError):
    """A flood limit: the messenger takes nothing more from us before `after` has passed."""

    def __init__(self, after: timedelta, message: str = "") -> None:
        super().__init__(message or f"retry after {after.total_seconds():g} s")
        self.after = after


class Unreachable(MessengerError):
    """A network or server error: it may have gone through; try again with backoff."""


class Messenger(Protocol):
    """Sends, edits and deletes messages in one messenger's chats; raises the errors above."""

    async def send(self, chat_id: int, text: str, rows: Rows = ()) -> int:
        """Send a text with these choices (none: plain text); the new message's id."""

    async def edit(self, chat_id: int, message_id: int, text: str, rows: Rows = ()) -> None:
        """Replace a message's text and choices (none: its choices go)."""

    async def delete(self, chat_id: int, message_id: int) -> None:
        """Remove a message from the chat."""

    async def send_file(self, chat_id: int, file: Attachment) -> int:
        """Send a photo or a document (bytes, filename, caption); the new message's id."""


# How urgent a message is, for whatever shares the messenger's sending budget (bot/sendlimit.py):
# lower goes first. Set around a send with `urgent_as`; a handler's own answers are REPLY by default.
ALERT, REPLY, ROUTINE, BULK = 0, 1, 2, 3
urgency: ContextVar[int] = ContextVar("urgency", default=REPLY)


@contextmanager
def urgent_as(level: int) -> Iterator[None]:
    """Send what is sent inside this block at this urgency."""
    token = urgency.set(level)
    try:
        yield
    finally:
        urgency.reset(token)
