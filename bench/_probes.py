"""What a bench script hands the code under test to watch it; nothing here rebinds a product global:

- DbProbe wraps the running app's Database (storage.db, replaced on the Storage by attach(app), an
  on_open hook): transactions and read blocks timed, statements counted, and the transactions that
  ran a given statement (mark(name, sql): the alert's INSERT, say) timed whole;
- JobWatch is build_application(..., hooks=) (bot.telegram.hooks.Hooks, handed in by BenchBot(hooks=)):
  each outbox flush (the tick's, the sweep's, a handler's request_flush) with its duration, messages
  sent and whether it found a flush running; each step of the escalation tick (bot.jobs.ticker.tick's
  advance_checkins, advance_alerts, flush) with its duration;
- TickWatch listens to the JobQueue's scheduler: when each escalation tick ran;
- (in _runner.py) stand_in_request, the request layer: a network round trip and a timer per Bot API
  call; BenchBot(update_processor=...), build_application's update-processor factory (given the
  Unconfirmed it makes; bench/throughput.py times process_update with a PerChatUpdateProcessor
  subclass); BareBot(processor=...), the bare bot's update processor.
"""

from __future__ import annotations

import time
from collections import defaultdict
from contextlib import asynccontextmanager
from typing import Any


class DbProbe:
    """Times the running app's write transactions and read blocks and counts the statements run in them:
    attach(app) (an on_open hook) wraps its storage.db, through which every repository call goes.
    totals / counts by name: "db.tx: lock wait + BEGIN", "db.tx: statements inside",
    "db.tx: COMMIT (fsync) + unlock", "db.read: BEGIN", "db.read: statements inside"; counts alone:
    "SQL statements", "commits". marked[name]: the seconds of each transaction (lock wait and COMMIT
    included) that ran a statement containing mark(name, sql)'s text."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = defaultdict(float)
        self.counts: dict[str, int] = defaultdict(int)
        self.marks: dict[str, str] = {}
        self.marked: dict[str, list[float]] = defaultdict(list)

    def mark(self, name: str, sql: str) -> None:
        self.marks[name] = sql

    def add(self, name: str, seconds: float) -> None:
        self.totals[name] += seconds
        self.counts[name] += 1

    def clear(self) -> None:
        self.totals.clear()
        self.counts.clear()
        self.marked.clear()

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
            counted = _CountedTx(inner, probe.counts, probe.marks)
            yield counted
            body = time.perf_counter()
            probe.add("db.tx: statements inside", body - entered)
        end = time.perf_counter()
        probe.add("db.tx: COMMIT (fsync) + unlock", end - body)
        probe.counts["commits"] += 1
        for name in counted.marked:
            probe.marked[name].append(end - start)

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
    """A Tx (storage.db's statements in a block) that counts its statements; marked: the names of the
    marks (name -> SQL text) whose text one of them contained."""

    STATEMENTS = frozenset(("execute", "executemany", "insert", "one", "all"))

    def __init__(self, tx: Any, counts: dict[str, int], marks: dict[str, str] | None = None) -> None:
        self._tx, self._counts, self._marks = tx, counts, marks or {}
        self.marked: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._tx, name)
        if name not in self.STATEMENTS:
            return method

        async def counted(*args: Any, **kwargs: Any) -> Any:
            self._counts["SQL statements"] += 1
            if self._marks and args and isinstance(args[0], str):
                self.marked.update(mark for mark, sql in self._marks.items() if sql in args[0])
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


class JobWatch:
    """build_application's hooks (duck-typed bot.telegram.hooks.Hooks; BenchBot(hooks=JobWatch())), kept for
    each Application built. flushes: (seconds, messages sent, found a flush running) of every outbox flush;
    steps: name -> seconds of each run of that step of the escalation tick."""

    def __init__(self) -> None:
        self.flushes: list[tuple[float, int, bool]] = []
        self.steps: dict[str, list[float]] = defaultdict(list)

    def on_flush(self, seconds: float, sent: int, found_running: bool) -> None:
        self.flushes.append((seconds, sent, found_running))

    def on_tick_step(self, name: str, seconds: float) -> None:
        self.steps[name].append(seconds)

    def clear(self) -> None:
        self.flushes.clear()
        self.steps.clear()
