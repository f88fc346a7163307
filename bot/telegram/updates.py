"""Updates from different chats run side by side; updates from one chat run in order; and
Telegram forgets an update only once its handling has ended.

With a real network each Bot API call takes tens of milliseconds: one update at a time would
make the bot, not Telegram, the bottleneck. Conversations need each person's updates in order,
and every person talks to the bot in their own private chat, so ordering per chat is enough.

Telegram forgets an update once getUpdates is called with a higher offset, and python-telegram-bot
calls it as soon as an update is queued: a crash lost whatever was queued or half handled (a code
word among them). With `Unconfirmed`, the next batch is fetched (confirming the last) only once the
last batch has been handled, so after a crash Telegram sends the unhandled ones again: at least
once, not lost. An update still unhandled after HOLD_SECONDS (a stuck network call) no longer holds
back the others: it is confirmed with the next batch, which is then its only window of risk.
Waiting for the batch, rather than asking again with the oldest unhandled offset, keeps Telegram
from sending every unhandled update again at each poll.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

HOLD_SECONDS = 2.0


class Unconfirmed:
    """Update ids handed to the Application whose handling has not ended yet."""

    def __init__(self) -> None:
        self.pending: set[int] = set()
        self.highest = 0  # the highest update id ever handed out by this process
        self.changed = asyncio.Event()

    def offset(self, proposed: int | None) -> int | None:
        """The getUpdates offset that confirms only what was handled to its end."""
        if self.pending:
            return min(self.pending)
        return max(proposed or 0, self.highest + 1) if self.highest else proposed

    async def settle(self, hold: float | None = None) -> int | None:
        """Wait until the updates handed out have been handled (at most `hold` seconds); return the
        offset that confirms them all."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(HOLD_SECONDS if hold is None else hold):
                while self.pending:
                    self.changed.clear()
                    await self.changed.wait()
        return self.highest + 1 if self.highest else None

    def take_new(self, raw: list[Any]) -> list[Any]:
        """From a getUpdates answer, the updates never handed out before (they are now pending)."""
        new = [u for u in raw if isinstance(u, dict) and isinstance(u.get("update_id"), int)]
        new = [u for u in new if u["update_id"] > self.highest]
        for update in new:
            self.pending.add(update["update_id"])
            self.highest = max(self.highest, update["update_id"])
        return new

    def done(self, update_id: int) -> None:
        self.pending.discard(update_id)
        self.changed.set()


class PerChatUpdateProcessor(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int = 64, unconfirmed: Unconfirmed | None = None) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}
        self.unconfirmed = unconfirmed

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        try:
            await self._in_order(update, coroutine)
        finally:
            if self.unconfirmed is not None and isinstance(update, Update):
                self.unconfirmed.done(update.update_id)

    async def _in_order(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        lock = self._locks.setdefault(chat.id, asyncio.Lock())
        self._waiting[chat.id] = self._waiting.get(chat.id, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._waiting[chat.id] -= 1
            if self._waiting[chat.id] == 0:  # forget idle chats, or the dicts grow with every stranger
                del self._waiting[chat.id]
                del self._locks[chat.id]

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None
