"""Telegram's flood limits, as the stand-in enforces them when asked (FakeBotApi.limits).

Past about 30 messages a second per bot, about one a second in a chat (a short burst passes), or 20
a minute in a group, Telegram answers 429 "Too Many Requests: retry after N" with
parameters.retry_after, and takes nothing more from that bot for N seconds. Modelled as token buckets
(full at first) of the bot, of each chat and of each group; a refused call takes no token.
Off by default, so that tests about other things send as fast as they like.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# New messages count for the bot and their chat, edits and deletions for the bot only.
SHOWS = frozenset(
    {"sendmessage", "sendphoto", "senddocument", "sendlocation", "sendmediagroup", "copymessage", "forwardmessage"}
)
BOT_ONLY = frozenset(
    {"editmessagetext", "editmessagereplymarkup", "editmessagecaption", "deletemessage", "deletemessages"}
)


@dataclass
class _Bucket:
    rate: float
    burst: float
    tokens: float
    at: float

    def wait(self, now: float) -> float:
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate


@dataclass
class FloodLimits:
    """The limits, and every 429 answered (method, chat id, retry_after)."""

    per_bot: float = 30.0
    bot_burst: int = 30
    per_chat: float = 1.0
    chat_burst: int = 4
    per_group: float = 20 / 60
    group_burst: int = 20
    now: Callable[[], float] = time.monotonic
    refused: list[tuple[str, int | None, int]] = field(default_factory=list)
    _bot: _Bucket | None = None
    _chats: dict[int, _Bucket] = field(default_factory=dict)
    _closed_until: float = 0.0

    def _chat(self, chat: int, now: float) -> _Bucket:
        if chat not in self._chats:
            rate, burst = (self.per_group, self.group_burst) if chat < 0 else (self.per_chat, self.chat_burst)
            self._chats[chat] = _Bucket(rate, burst, burst, now)
        return self._chats[chat]

    def check(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
        """The 429 Telegram would answer this call, or None when it takes it (and counts it)."""
        name = method.lower()
        if name not in SHOWS and name not in BOT_ONLY:
            return None
        now = self.now()
        if self._bot is None:
            self._bot = _Bucket(self.per_bot, self.bot_burst, self.bot_burst, now)
        chat_id = params.get("chat_id")
        chat = int(chat_id) if name in SHOWS and str(chat_id).lstrip("-").isdigit() else None
        waits = [self._closed_until - now, self._bot.wait(now)]
        if chat is not None:
            waits.append(self._chat(chat, now).wait(now))
        wait = max(waits)
        if wait > 0:
            retry_after = max(1, math.ceil(wait))
            self._closed_until = max(self._closed_until, now + retry_after)  # nothing more until then
            self.refused.append((method, chat, retry_after))
            description = f"Too Many Requests: retry after {retry_after}"
            body = {"ok": False, "error_code": 429, "description": description}
            return 429, body | {"parameters": {"retry_after": retry_after}}
        self._bot.tokens -= 1
        if chat is not None:
            self._chats[chat].tokens -= 1
        return None
