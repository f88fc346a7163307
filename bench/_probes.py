"""What a bench script hands the code under test to watch it, instead of rebinding the product's
module globals:

  - DbProbe wraps the running app's Database (storage.db): transactions and read blocks timed,
    statements counted;
  - TickWatch listens to the JobQueue's scheduler: when each escalation tick ran;
  - (in _runner.py) stand_in_request, the request layer: a network round trip and a timer per Bot API
    call; BareBot(processor=...), the bare bot's update processor.

What the product takes no parameter for yet is timed by Timed, the one place that still rebinds a
product global (undo() restores it); the parameter that would end it, per function:
  - bot.jobs.outbox.flush(storage, config, messenger, clock, lock, wait=...), called as `outbox.flush` by
    bot.telegram.jobs.flush (for the tick, the sweep and request_flush): a hook given each flush's
    duration, messages sent, and whether it found a flush running (bench/alerts.py, bench/deadlines.py).
    The neutral job already takes its messenger as an argument, so a timing Messenger wrapper would see
    each send; what is missing is a way to hand bot.telegram.jobs a flush (or messenger) of the bench's;
  - bot.jobs.ticker.tick(storage, config, clock, flush): its flush is a parameter already (the hook for
    outbox.flush above); advance_checkins / advance_alerts are not, so their timing still rebinds
    ticker's globals; bot.telegram.jobs.schedule(app, tick=...) from open_resources would end it
    (bench/deadlines.py);
  - bot.services.alerts.raise_code_alert: its duration (bench/alerts.py). Its callers import it by name, so
    Timed rebinds it in bot.handlers.alerts (code_word -> raise_from); a caller elsewhere (the conversation
    engine under way calls it from bot.flows.anytime) is not timed: a hook on the service would be.
And bot.telegram.app.build_application takes no update processor (a factory given the Unconfirmed it makes),
so bench/throughput.py sets its timing processor on the built Application.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from contextlib import asynccontextmanager
from typing import Any


class DbProbe:
    """Times the running app's write transactions and read blocks and counts the statements run in them:
    attach(app) (an on_open hook) wraps its storage.db, through which every repository call goes.
    totals / counts by name: "db.tx: lock wait + BEGIN", "db.tx: statements inside",
    "db.tx: COMMIT (fsync) + unlock", "db.read: BEGIN", "db.read: statements inside"; counts alone:
    "SQL statements", "commits"."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = defaultdict(float)
        self.counts: dict[str, int] = defaultdict(int)

    def add(self, name: str, seconds: float) -> None:
        self.totals[name] += seconds
        self.counts[name] += 1

    def clear(self) -> None:
        self.totals.clear()
        self.counts.clear()

    def attach(self, app: Any) -> None:
        storage = app.bot_data.storage
        storage.db = _ProbedDatabase(storage.db, self)


class _ProbedDatabase:
    def __init__(self, db: Any, probe: DbProbe) -> None:
        self._db, self._probe = db, probe

    def __getattr__(self, name: str) -> Any:  # close, checkpoint, path...: the Database's own
        return getattr(self._db, name)

    @asynccontextmanager
    async def tx(self) -> Any:
        probe = self._probe
        start = time.perf_counter()
        async with self._db.tx() as inner:
            entered = time.perf_counter()
            probe.add("db.tx: lock wait + BEGIN", entered - start)
            yield _CountedTx(inner, probe.counts)
            body = time.perf_counter()
            probe.add("db.tx: statements inside", body - entered)
        probe.add("db.tx: COMMIT (fsync) + unlock", time.perf_counter() - body)
        probe.counts["commits"] += 1

    def read(self) -> _ProbedRead:
        return _ProbedRead(self._db.read(), self._probe)

    @asynccontextmanager
    async def scan(self) -> Any:
        async with self._db.scan() as inner:
            yield _CountedTx(inner, self._probe.counts)


class _ProbedRead:
    """A plain class, as Database.read's block is: it must not suspend."""

    def __init__(self, block: Any, probe: DbProbe) -> None:
        self._block, self._probe, self._entered = block, probe, 0.0

    async def __aenter__(self) -> _CountedTx:
        start = time.perf_counter()
        inner = await self._block.__aenter__()
        self._entered = time.perf_counter()
        self._probe.add("db.read: BEGIN", self._entered - start)
        return _CountedTx(inner, self._probe.counts)

    async def __aexit__(self, *exc: object) -> None:
        if exc[0] is None:
            self._probe.add("db.read: statements inside", time.perf_counter() - self._entered)
        await self._block.__aexit__(*exc)


class _CountedTx:
    """A Tx (storage.db's statements in a block) that counts its statements."""

    STATEMENTS = frozenset(("execute", "executemany", "insert", "one", "all"))

    def __init__(self, tx: Any, counts: dict[str, int]) -> None:
        self._tx, self._counts = tx, counts

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._tx, name)
        if name not in self.STATEMENTS:
            return method

        async def counted(*args: Any, **kwargs: Any) -> Any:
            self._counts["SQL statements"] += 1
            return await method(*args, **kwargs)

        return counted


class TickWatch:
    """When each escalation tick ran, from the events of the JobQueue's scheduler (APScheduler's listener
    API): attach(app) (an on_open hook) once open_resources has scheduled the tick, before the app starts.
    ticks: (submitted, time.monotonic; seconds until it finished), every Application attached."""

    def __init__(self) -> None:
        self.ticks: list[tuple[float, float]] = []
        self._jobs: set[str] = set()
        self._running: dict[str, float] = {}

    def attach(self, app: Any) -> None:
        from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_SUBMITTED

        assert app.job_queue is not None
        self._jobs.update(job.job.id for job in app.job_queue.get_jobs_by_name("escalation"))
        app.job_queue.scheduler.add_listener(self._on_event, EVENT_JOB_SUBMITTED | EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)

    def _on_event(self, event: Any) -> None:
        from apscheduler.events import EVENT_JOB_SUBMITTED

        if event.job_id not in self._jobs:
            return
        now = time.monotonic()
        if event.code == EVENT_JOB_SUBMITTED:
            self._running[event.job_id] = now
        elif event.job_id in self._running:
            start = self._running.pop(event.job_id)
            self.ticks.append((start, now - start))

    @property
    def in_tick(self) -> bool:
        return bool(self._running)

    def since(self, start: float) -> list[tuple[float, float]]:
        return [(s, d) for s, d in self.ticks if s >= start]


class Timed:
    """Every call of one product coroutine function, timed: calls holds (seconds, result, note(args)).
    The product takes no parameter for this yet (see the top of this file), so this rebinds the module
    global its callers look up at each call; undo() puts the original back."""

    def __init__(self, module: Any, name: str, note: Callable[..., Any] | None = None) -> None:
        self.module, self.name = module, name
        self.original = original = getattr(module, name)
        self.calls: list[tuple[float, Any, Any]] = []
        calls = self.calls

        async def timed(*args: Any, **kwargs: Any) -> Any:
            noted = note(*args, **kwargs) if note is not None else None
            start = time.perf_counter()
            result = None
            try:
                result = await original(*args, **kwargs)
                return result
            finally:
                calls.append((time.perf_counter() - start, result, noted))

        setattr(module, name, timed)

    def total(self) -> float:
        return sum(seconds for seconds, _, _ in self.calls)

    def undo(self) -> None:
        setattr(self.module, self.name, self.original)
