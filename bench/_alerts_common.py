"""Helpers shared by bench/alerts.py and bench/summary.py: the real Application (or a bare
python-telegram-bot one) over a temporary data dir, talking to the in-process Bot API stand-in
through python-telegram-bot's own long polling.

`make bench` runs every bench/*.py, this one included: run directly, it does nothing.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import percentile

TOKEN = "123456:BENCHTOKENabcdefghijklmnopqrstuvwxyz"
API_BASE = "http://stand-in.invalid/bot"
POLL_TIMEOUT = 10  # seconds a getUpdates call may wait, as in production long polling

HOTSPOT_NAMES = (
    "Parque Central",
    "Bar La Luna",
    "Calle 5",
    "Sauna Sol",
    "Parque Colon",
    "Bar El Faro",
    "Avenida Reforma",
    "Sauna Azul",
    "Terminal Norte",
    "Plaza Mayor",
    "Bar Estrella",
    "Calle Real",
    "Mercado Sur",
    "Parque Infantil",
    "Hotel Vista",
    "Calle 12",
    "Bar Copa",
    "Estacion Central",
    "Parque Berlin",
    "Sauna Olimpo",
)
_KINDS = ("park", "bar", "street", "sauna")

BASE_CONFIG: dict[str, Any] = {
    "organization": {"name": "Bench CSO", "timezone": "America/Guatemala", "language": "en"},
    "escalation": {"reminder_before": "5m", "grace": "10m", "ack_timeout": "15m", "repeat_every": "5m"},
    "hotspots": [
        {"name": name, "kind": _KINDS[i % len(_KINDS)], "risk": ("high", "medium", "low")[i % 3]}
        for i, name in enumerate(HOTSPOT_NAMES)
    ],
    "alert_codes": [{"word": "buy bread", "level": "red"}, {"word": "call aunt", "level": "yellow"}],
}

_user_ids = itertools.count(600_000_001)


def config_with(**sections: Any) -> dict[str, Any]:
    config = copy.deepcopy(BASE_CONFIG)
    config.update(sections)
    return config


def next_user_id() -> int:
    return next(_user_ids)


async def wait_until(predicate: Callable[[], bool], within: float, poll: float = 0.002) -> bool:
    end = time.monotonic() + within
    while not predicate():
        if time.monotonic() > end:
            return False
        await asyncio.sleep(poll)
    return True


def dist(values: Sequence[float]) -> dict[str, float]:
    """p50 / p80 / p99 / max of a list of seconds (NaN when empty)."""
    return {
        "n": len(values),
        "p50": percentile(values, 50),
        "p80": percentile(values, 80),
        "p99": percentile(values, 99),
        "max": max(values) if values else math.nan,
    }


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


class BenchBot:
    """outreach-bot's real Application over a temporary data dir, real clock, 1 s tick, stand-in Bot API."""

    def __init__(self, config: dict[str, Any], prefix: str = "bench-") -> None:
        from bot.app import build_application
        from bot.clock import SystemClock
        from bot.standin import FakeBotApi, StandinRequest
        from config import Settings
        from config.org import parse_org_config

        self.tmp = tempfile.TemporaryDirectory(prefix=prefix)
        root = Path(self.tmp.name)
        self.settings = Settings(token=TOKEN, api_base_url=API_BASE, data_dir=root / "data", config_path=root / "x")
        self.config = parse_org_config(config)
        self.clock = SystemClock()
        self.api = FakeBotApi()
        self.errors: list[BaseException] = []
        self.app = build_application(
            self.settings, self.config, clock=self.clock, request=StandinRequest(self.api), rate_limit=False
        )

        async def record_error(update: object, context: Any) -> None:
            if context.error is not None:
                self.errors.append(context.error)

        self.app.add_error_handler(record_error)

    @property
    def storage(self) -> Any:
        return self.app.bot_data.storage

    @property
    def org(self) -> Any:
        return self.app.bot_data.org

    async def start(self) -> None:
        """As `outreach-bot run` does: open, schedule the 1 s tick, start, long-poll getUpdates."""
        from bot.app import open_resources

        await self.app.initialize()
        await open_resources(self.app)
        await self.app.start()
        assert self.app.updater is not None
        await self.app.updater.start_polling(poll_interval=0.0, timeout=POLL_TIMEOUT)

    async def stop(self) -> None:
        from bot.app import close_resources

        if self.app.updater is not None and self.app.updater.running:
            await self.app.updater.stop()
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()
        await close_resources(self.app)
        self.tmp.cleanup()

    def push(self, update: dict[str, Any]) -> float:
        """Hand one update to the stand-in (Telegram has it now); returns that moment (time.monotonic)."""
        at = time.monotonic()
        self.api.push_update(update)
        return at

    async def add_person(self, tx: Any, role: str, team_id: str | None, user_id: int | None = None) -> Any:
        uid = user_id or next_user_id()
        return await self.storage.people.create(
            tx,
            org_id=self.org.id,
            team_id=team_id,
            role=role,
            telegram_user_id=uid,
            chat_id=uid,
            locale="en",
            now=self.clock.now(),
        )


class BareBot:
    """A bare python-telegram-bot Application on the same stand-in and the same long polling."""

    def __init__(self, handlers: list[Any]) -> None:
        from telegram.ext import ApplicationBuilder

        from bot.standin import FakeBotApi, StandinRequest

        self.api = FakeBotApi()
        request = StandinRequest(self.api)
        builder = ApplicationBuilder().token(TOKEN).base_url(API_BASE).request(request).get_updates_request(request)
        self.app = builder.build()
        for handler in handlers:
            self.app.add_handler(handler)

    async def start(self) -> None:
        await self.app.initialize()
        await self.app.start()
        assert self.app.updater is not None
        await self.app.updater.start_polling(poll_interval=0.0, timeout=POLL_TIMEOUT)

    async def stop(self) -> None:
        if self.app.updater is not None and self.app.updater.running:
            await self.app.updater.stop()
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()

    def push(self, update: dict[str, Any]) -> float:
        at = time.monotonic()
        self.api.push_update(update)
        return at


def ptb_version() -> str:
    import telegram

    return telegram.__version__


if __name__ == "__main__":
    pass
