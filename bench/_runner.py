"""The runner every bench script shares: outreach-bot's real Application (BenchBot) or a bare
python-telegram-bot one (BareBot) on the in-process Bot API stand-in, started and stopped as
`outreach-bot run` does (a start after a stop: a restart on the same data); people and check-ins
written straight to the database; the stand-in's request layer, with a network round trip and a
timer per call if asked for; BenchBot hands build_application a script's update processor and hooks.
What a script hands the code under test to watch it is in _probes.py.

Imported as a sibling module: `python bench/<script>.py` puts bench/ first on sys.path, as Python does
for every script. bot, telegram and storage are imported where used, so that a child process that
measures its memory or its imports loads only what its own run needs.
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _common import LogCounter, percentile

# The Bot API stand-in lives with the tests (tests/auxil/standin/), outside the installed product:
# the one place bench/ makes the checkout's root importable, for every script and its child processes.
sys.path.append(str(Path(__file__).resolve().parent.parent))

TOKEN = "123456:BENCHTOKENabcdefghijklmnopqrstuvwxyz"
API_BASE = "http://stand-in.invalid/bot"
POLL_TIMEOUT = 10  # seconds a getUpdates call may wait, as in production long polling
TEAM_SIZE = 20  # workers per team
SETTLE = 2.2  # seconds after the last expected hand-off: two more ticks, in which a message sent twice would show

HOTSPOT_NAMES = (
    "Parque Central", "Bar La Luna", "Calle 5", "Sauna Sol", "Parque Colon", "Bar El Faro", "Avenida Reforma",
    "Sauna Azul", "Terminal Norte", "Plaza Mayor", "Bar Estrella", "Calle Real", "Mercado Sur", "Parque Infantil",
    "Hotel Vista", "Calle 12", "Bar Copa", "Estacion Central", "Parque Berlin", "Sauna Olimpo",
)  # fmt: skip
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


async def sent_after(
    api: Any, push: Callable[[], float], key: Callable[[Any], str | None], n: int, within: float, poll: float = 0.002
) -> tuple[float, dict[str, Any]]:
    """push() an update (it returns when) and wait for n wanted messages handed to the stand-in: key(sent)
    names a wanted one (the first of each name counts), None the others. Returns the seconds from the push
    to the last of them, and them by name; RuntimeError if they are not all there within `within` s."""
    got: dict[str, Any] = {}

    def seen(sent: Any) -> None:
        name = key(sent)
        if name is not None and name not in got:
            got[name] = sent

    api.listeners.append(seen)
    try:
        start = push()
        if not await wait_until(lambda: len(got) >= n, within, poll):
            raise RuntimeError(f"only {sorted(got)} of {n} messages within {within:g} s")
    finally:
        api.listeners.remove(seen)
    return max(sent.at for sent in got.values()) - start, got


def ptb_version() -> str:
    import telegram

    return telegram.__version__


def log_outcome(logs: LogCounter, errors: Sequence[BaseException] = ()) -> dict[str, Any]:
    """What a run hands back about its warnings and handler errors."""
    return {
        "warnings": logs.count,
        "first_warnings": logs.first,
        "n_errors": len(errors),
        "errors": [repr(e)[:160] for e in errors[:3]],
    }


def stand_in_request(api: Any, *, latency: float = 0.0, on_call: Callable[[float], None] | None = None) -> Any:
    """The stand-in's request layer for one Application. latency: seconds of network round trip before
    every call but the long poll; on_call: given each such call's duration, the round trip included."""
    from tests.auxil.standin import StandinRequest

    if latency <= 0 and on_call is None:
        return StandinRequest(api)

    class BenchRequest(StandinRequest):
        async def do_request(self, url: str, *args: Any, **kwargs: Any) -> Any:
            if url.endswith("getUpdates"):
                return await super().do_request(url, *args, **kwargs)
            start = time.perf_counter()
            try:
                if latency > 0:
                    await asyncio.sleep(latency)
                return await super().do_request(url, *args, **kwargs)
            finally:
                if on_call is not None:
                    on_call(time.perf_counter() - start)

    return BenchRequest(api)


# ---------------------------------------------------------------------------------------------
# start and stop
# ---------------------------------------------------------------------------------------------


class _Runner:
    """An Application on the stand-in: start() as `outreach-bot run` does (long polling if `poll`),
    stop(); a start() after a stop() builds a new Application (a restart, on the same data)."""

    def __init__(self, api: Any, poll: bool, request: Callable[[Any], Any] | None) -> None:
        from tests.auxil.standin import FakeBotApi

        self.api = api if api is not None else FakeBotApi()
        self.poll = poll
        self.request = request or stand_in_request
        self.stopped = False
        self.app = self.build()

    def build(self) -> Any:
        raise NotImplementedError

    async def opened(self) -> None:
        """After the Application's initialize(), before its start()."""

    async def closed(self) -> None:
        """After the Application's shutdown()."""

    async def start(self) -> None:
        if self.stopped:
            self.app, self.stopped = self.build(), False
        await self.app.initialize()
        await self.opened()
        await self.app.start()
        if self.poll:
            assert self.app.updater is not None
            await self.app.updater.start_polling(poll_interval=0.0, timeout=POLL_TIMEOUT)

    async def stop(self) -> None:
        app = self.app
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
        await self.closed()
        self.stopped = True

    def push(self, update: dict[str, Any]) -> float:
        """Hand one update to the stand-in (Telegram has it now); returns that moment (time.monotonic)."""
        at = time.monotonic()
        self.api.push_update(update)
        return at


class BenchBot(_Runner):
    """outreach-bot's real Application over a temporary data dir, real clock, 1 s tick, send budget off
    unless `rate_limit` says otherwise.
    on_open: called with each Application once its resources are open, before it starts (to attach a
    DbProbe or a TickWatch); update_processor and hooks: build_application's, for each Application built
    (a restart's too)."""

    def __init__(
        self,
        config: dict[str, Any],
        prefix: str = "bench-",
        *,
        poll: bool = True,
        api: Any = None,
        request: Callable[[Any], Any] | None = None,
        on_open: Sequence[Callable[[Any], None]] = (),
        update_processor: Callable[[Any], Any] | None = None,
        hooks: Any = None,
        rate_limit: Any = False,
    ) -> None:
        from bot.clock import SystemClock
        from config import Settings
        from config.org import parse_org_config

        self.tmp = tempfile.TemporaryDirectory(prefix=prefix)
        root = Path(self.tmp.name)
        self.settings = Settings(token=TOKEN, api_base_url=API_BASE, data_dir=root / "data", config_path=root / "x")
        self.raw_config = config
        self.config = parse_org_config(config)
        self.clock = SystemClock()
        self.errors: list[BaseException] = []
        self.on_open = list(on_open)
        self.update_processor, self.hooks = update_processor, hooks
        self.rate_limit = rate_limit  # build_application's: False (off), True (Telegram's limits) or Limits
        super().__init__(api, poll, request)

    def build(self) -> Any:
        from bot.telegram.app import build_application

        app = build_application(
            self.settings,
            self.config,
            clock=self.clock,
            request=self.request(self.api),
            rate_limit=self.rate_limit,
            update_processor=self.update_processor,
            hooks=self.hooks,
        )

        async def record_error(update: object, context: Any) -> None:
            if context.error is not None:
                self.errors.append(context.error)

        app.add_error_handler(record_error)
        return app

    async def opened(self) -> None:
        from bot.services.lists import seed
        from bot.telegram.app import open_resources

        await open_resources(self.app)
        await seed(self.storage, self.org.id, self.config, self.raw_config)  # places and code words: in the database
        for hook in self.on_open:
            hook(self.app)

    async def closed(self) -> None:
        from bot.telegram.app import close_resources

        await close_resources(self.app)

    async def close(self) -> None:
        """Stop (if running) and remove the data dir."""
        if not self.stopped:
            await self.stop()
        self.tmp.cleanup()

    @property
    def storage(self) -> Any:
        return self.app.bot_data.storage

    @property
    def org(self) -> Any:
        return self.app.bot_data.org

    async def open_storage(self) -> Any:
        """Open the database before start() (to fill it with no tick running); open_resources keeps it."""
        from bot.services.enrolment import ensure_organization
        from bot.services.lists import seed
        from storage import Storage
        from storage.sealing import load_or_create_key

        data = self.app.bot_data
        data.key = load_or_create_key(self.settings.key_b64, self.settings.key_path, create=True)
        data.storage = await Storage.open(self.settings.db_path, data.key)
        data.org = await ensure_organization(data.storage, self.config, self.clock)
        await seed(data.storage, data.org.id, self.config, self.raw_config)  # places and code words: in the database
        return data.storage

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

    def outcome(self, logs: LogCounter) -> dict[str, Any]:
        return log_outcome(logs, self.errors)


class BareBot(_Runner):
    """A bare python-telegram-bot Application on the same stand-in (and, if `poll`, the same long polling);
    processor: its update processor (PTB's default otherwise)."""

    def __init__(
        self,
        handlers: Sequence[Any],
        *,
        poll: bool = True,
        api: Any = None,
        request: Callable[[Any], Any] | None = None,
        processor: Any = None,
    ) -> None:
        self.handlers = list(handlers)
        self.processor = processor
        super().__init__(api, poll, request)

    def build(self) -> Any:
        from telegram.ext import ApplicationBuilder

        request = self.request(self.api)
        builder = ApplicationBuilder().token(TOKEN).base_url(API_BASE).request(request).get_updates_request(request)
        if self.processor is not None:
            builder = builder.concurrent_updates(self.processor)
        app = builder.build()
        for handler in self.handlers:
            app.add_handler(handler)
        return app


# ---------------------------------------------------------------------------------------------
# people and check-ins, written straight to the database (not timed)
# ---------------------------------------------------------------------------------------------


@dataclass
class Team:
    team: Any
    supervisors: list[Any] = field(default_factory=list)
    workers: list[Any] = field(default_factory=list)


@dataclass
class Enrolled:
    managers: list[Any]
    teams: list[Team]

    @property
    def workers(self) -> list[Any]:
        return [w for t in self.teams for w in t.workers]


async def enrol(
    bot: BenchBot, workers: int, *, supervisors: Callable[[int], int] = lambda t: 1, managers: int = 0
) -> Enrolled:
    """`workers` workers in teams of TEAM_SIZE, team t with supervisors(t) supervisors, and `managers`
    managers (made first); 50 teams (about 1,000 people) per transaction."""
    now = bot.clock.now()
    n_teams = (workers + TEAM_SIZE - 1) // TEAM_SIZE
    enrolled = Enrolled([], [])
    for first in range(0, max(1, n_teams), 50):
        async with bot.storage.db.tx() as tx:
            if first == 0:
                enrolled.managers = [await bot.add_person(tx, "manager", None) for _ in range(managers)]
            for t in range(first, min(n_teams, first + 50)):
                team = Team(await bot.storage.orgs.team_get_or_create(tx, bot.org.id, f"team {t}", now))
                team.supervisors = [await bot.add_person(tx, "supervisor", team.team.id) for _ in range(supervisors(t))]
                for _ in range(min(TEAM_SIZE, workers - t * TEAM_SIZE)):
                    team.workers.append(await bot.add_person(tx, "worker", team.team.id))
                enrolled.teams.append(team)
    return enrolled


async def add_checkin(
    storage: Any, tx: Any, worker: Any, *, place: str, started_at: Any, deadline: Any, stage: int, next_at: Any
) -> None:
    """One open check-in of `worker` at a hotspot, alone, without a location."""
    await storage.checkins.create(
        tx, org_id=worker.org_id, person_id=worker.id, team_id=worker.team_id, place=place, place_custom=False,
        partner_id=None, alone_at_pairs=False, started_at=started_at, deadline_at=deadline, stage=stage,
        next_step_at=next_at, location=None,
    )  # fmt: skip
