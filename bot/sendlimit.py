"""One sending budget for the whole process, served by urgency (bot.messenger's ALERT, REPLY...).

A messenger accepts only so much: Telegram about 30 messages a second per bot, about one a second in
a chat (short bursts pass), 20 a minute in a group, and past that it answers 429 and takes nothing for
a while. Every send (the outbox's and a handler's own answers alike) takes a token here first: a token
of the bot's bucket and one of its chat's. Whoever waits is served most urgent first, then in order of
arrival, so an alert overtakes a backlog of reminders and summaries however long it is. With nothing
waiting and tokens to spare a send goes at once: a conversation's answers are not slowed.

The rates here sit a little under the messenger's own, so that sends released on time still arrive
within its limits after the network's jitter; a 429 pauses every send for as long as it asks.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Token buckets: a rate (sends a second) and a burst (sends at once), for the bot and each chat."""

    per_bot: float = 29.0  # Telegram: about 30 a second
    bot_burst: int = 25
    per_chat: float = 0.9  # Telegram: about one a second in a private chat, a short burst tolerated
    chat_burst: int = 3
    per_group: float = 0.3  # Telegram: 20 a minute in a group
    group_burst: int = 18


# No limit at all (the throughput benchmark: it measures the bot's own cost, not Telegram's limits).
UNLIMITED = Limits(math.inf, 1, math.inf, 1, math.inf, 1)
PRUNE_AT = 5_000  # chats remembered before full buckets are forgotten


class Bucket:
    """A token bucket; full at first."""

    __slots__ = ("at", "burst", "rate", "tokens")

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate, self.burst, self.tokens, self.at = rate, float(burst), float(burst), now

    def wait(self, now: float) -> float:
        """Seconds until a token is there (0: now)."""
        if math.isinf(self.rate):
            return 0.0
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self) -> None:
        if not math.isinf(self.rate):
            self.tokens -= 1


@dataclass(order=True)
class _Waiter:
    level: int
    seq: int
    chat: int | None
    future: asyncio.Future[None]


class SendBudget:
    """Tokens for sends, most urgent first; `now` is the time source (seconds, monotonic)."""

    def __init__(self, limits: Limits | None = None, now: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits or Limits()
        self._now = now
        self._bot = Bucket(self.limits.per_bot, self.limits.bot_burst, now())
        self._chats: dict[int, Bucket] = {}
        self._waiting: list[_Waiter] = []
        self._seq = 0
        self._paused_until = 0.0
        self._wake = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None

    def _chat(self, chat: int, now: float) -> Bucket:
        bucket = self._chats.get(chat)
        if bucket is None:
            if len(self._chats) >= PRUNE_AT:  # a full bucket is as good as a new one: forget those
                for known in list(self._chats):
                    old = self._chats[known]
                    if old.wait(now) == 0 and old.tokens >= old.burst:
                        del self._chats[known]
            group = chat < 0
            rate = self.limits.per_group if group else self.limits.per_chat
            bucket = Bucket(rate, self.limits.group_burst if group else self.limits.chat_burst, now)
            self._chats[chat] = bucket
        return bucket

    def _chat_wait(self, chat: int | None, now: float) -> float:
        return 0.0 if chat is None else self._chat(chat, now).wait(now)

    def _consume(self, chat: int | None, now: float) -> None:
        self._bot.take()
        if chat is not None:
            self._chat(chat, now).take()

    def pause(self, seconds: float) -> None:
        """The messenger asked us to wait (a 429): nothing is sent before `seconds` have passed."""
        self._paused_until = max(self._paused_until, self._now() + seconds)
        self._wake.set()

    async def close(self) -> None:
        """Stop handing out tokens (at shutdown): whoever still waits is cancelled with it."""
        runner, self._runner = self._runner, None
        for waiter in self._waiting:
            waiter.future.cancel()
        self._waiting.clear()
        if runner is not None and not runner.done():
            runner.cancel()
            try:
                await runner
            except asyncio.CancelledError:
                pass

    @property
    def waiting(self) -> int:
        """Sends waiting for a token now."""
        return len(self._waiting)

    async def take(self, chat: int | None, level: int) -> None:
        """Wait for this send's turn (chat None: it counts for the bot only)."""
        now = self._now()
        if not self._waiting and now >= self._paused_until and self._bot.wait(now) == 0:
            if self._chat_wait(chat, now) == 0:
                self._consume(chat, now)
                return
        self._seq += 1
        waiter = _Waiter(level, self._seq, chat, asyncio.get_running_loop().create_future())
        self._waiting.append(waiter)
        self._wake.set()
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._serve(), name="send-budget")
        try:
            await waiter.future
        except asyncio.CancelledError:
            if waiter in self._waiting:
                self._waiting.remove(waiter)
            raise

    async def _serve(self) -> None:
        """Hand out tokens while anyone waits: the most urgent waiter whose chat has a token goes next."""
        while self._waiting:
            now = self._now()
            delay = max(self._paused_until - now, self._bot.wait(now))
            if delay <= 0:
                self._waiting = [w for w in self._waiting if not w.future.done()]
                self._waiting.sort()
                delay = math.inf
                for waiter in self._waiting:
                    chat_delay = self._chat_wait(waiter.chat, now)
                    if chat_delay <= 0:
                        self._waiting.remove(waiter)
                        self._consume(waiter.chat, now)
                        waiter.future.set_result(None)
                        delay = 0
                        break
                    delay = min(delay, chat_delay)
                if delay == 0 or not self._waiting:
                    await asyncio.sleep(0)  # let the one served send before the next is chosen
                    continue
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=delay)
            except TimeoutError:
                pass
