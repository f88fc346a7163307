"""Helpers shared by the bench scripts: plain tables, percentiles, memory, child processes, and the
invariants a run must show whatever its timings (what `--check` turns into the exit status).
Imported as a sibling module (`python bench/<script>.py` puts bench/ first on sys.path); `make bench`
runs the scripts, not the modules whose name starts with "_".
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import logging
import math
import os
import pstats
import resource
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Hashable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

RESULT_MARK = "@@result "


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0..100), nearest-rank; NaN when there are no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _status_mb(field: str) -> float:
    """One memory line of /proc/self/status (in KiB there), in MiB; NaN where there is none."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return math.nan


def current_rss_mb() -> float:
    return _status_mb("VmRSS")


def reset_peak_rss() -> bool:
    """Reset this process's RSS high-water mark (Linux: /proc/self/clear_refs, "5")."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_rss_since_reset_mb() -> float:
    return _status_mb("VmHWM")


class Measure:
    """Wall, CPU, peak RSS (reset after setup) and optionally tracemalloc's peak, around the run."""

    def __init__(self, use_tracemalloc: bool) -> None:
        self.use_tracemalloc = use_tracemalloc

    def __enter__(self) -> Measure:
        self.rss_before = current_rss_mb()
        self.hwm_reset = reset_peak_rss()
        if self.use_tracemalloc:
            tracemalloc.start()
        self.cpu0 = time.process_time()
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.t0
        self.cpu = time.process_time() - self.cpu0
        self.traced_peak = math.nan
        if self.use_tracemalloc:
            self.traced_peak = tracemalloc.get_traced_memory()[1] / (1024 * 1024)
            tracemalloc.stop()
        self.peak = peak_rss_since_reset_mb() if self.hwm_reset else math.nan

    def result(self) -> dict[str, Any]:
        return {
            "rss_before": self.rss_before,
            "peak_rss": self.peak,
            "rss_growth": self.peak - self.rss_before,
            "traced_peak": self.traced_peak,
        }


def seconds(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if abs(value) < 0.01:
        return f"{value * 1000:.2f} ms"
    if abs(value) < 1:
        return f"{value * 1000:.0f} ms"
    return f"{value:.2f} s"


def us(value: float) -> str:
    """Seconds as microseconds or milliseconds, for per-update figures."""
    if value is None or math.isnan(value):
        return "-"
    if value < 0.001:
        return f"{value * 1e6:.0f} us"
    if value < 1:
        return f"{value * 1000:.2f} ms"
    return f"{value:.2f} s"


def mib(value: float | None) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.1f} MiB"


def ratio(ours: float | None, base: float | None) -> str:
    """ours / base, as "12.3x"; "-" when either side is missing or the base is zero."""
    if ours is None or base is None or math.isnan(ours) or math.isnan(base) or base <= 0:
        return "-"
    value = ours / base
    return f"{value:.1f}x" if value < 100 else f"{value:.0f}x"


def table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A plain text table: columns separated by " | ", padded to line up."""
    body = [[str(c) for c in header], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) if i < len(row) else 0 for row in body) for i in range(len(header))]
    lines = []
    for n, row in enumerate(body):
        cells = [(row[i] if i < len(row) else "").ljust(widths[i]) for i in range(len(header))]
        lines.append(" | ".join(cells).rstrip())
        if n == 0:
            lines.append("-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def notes(rows: Iterable[Sequence[Any]], *lines: tuple[str, Iterable[str]]) -> str:
    """A report's closing "notes" table, then each (prefix, lines) group: first warnings and errors."""
    return "\n".join([table(("notes", "value"), rows), *(prefix + line for prefix, group in lines for line in group)])


def emit_result(result: dict[str, Any]) -> None:
    """What a child process hands back to its parent: one marked JSON line on stdout."""
    print(RESULT_MARK + json.dumps(result), flush=True)


def run_child(args: list[str], timeout: float) -> dict[str, Any]:
    """Run `python <args>` in a fresh process (so that its peak memory is its own) and read its result."""
    proc = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=timeout, check=False)
    if proc.stderr.strip():
        sys.stderr.write(proc.stderr)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_MARK):
            return json.loads(line[len(RESULT_MARK) :])
    sys.stderr.write(proc.stdout)
    raise RuntimeError(f"child {args!r} exited {proc.returncode} without a result")


def profile_text(profiler: cProfile.Profile, top: int, cumulative_top: int | None = None) -> str:
    """The `top` functions by own time, then by cumulative time; PROFILE_DUMP=<file> also dumps the stats."""
    out = io.StringIO()
    if os.environ.get("PROFILE_DUMP"):
        profiler.dump_stats(os.environ["PROFILE_DUMP"])
    stats = pstats.Stats(profiler, stream=out)
    stats.strip_dirs()
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(cumulative_top or top)
    return out.getvalue()


class LogCounter(logging.Handler):
    """Counts warnings and errors (instead of printing them) and keeps the first few."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0
        self.first: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        if len(self.first) < 3:
            cause = ""
            if record.exc_info and record.exc_info[1] is not None:  # which error, and where it was raised
                exc = record.exc_info[1]
                tb = exc.__traceback__
                while tb is not None and tb.tb_next is not None:
                    tb = tb.tb_next
                at = f" at {tb.tb_frame.f_code.co_filename.rsplit('/', 2)[-1]}:{tb.tb_lineno}" if tb else ""
                cause = f" ({type(exc).__name__}{at})"
            self.first.append(f"{record.name}: {record.getMessage()[:160]}{cause}")

    @classmethod
    def install(cls) -> LogCounter:
        handler = cls()
        root = logging.getLogger()
        root.handlers[:] = [handler]
        root.setLevel(logging.WARNING)
        return handler


def compare_tally(got: Mapping[Hashable, int], expected: Mapping[Hashable, int]) -> dict[str, int]:
    """got: how often each key (say (worker code, recipient chat)) was seen; expected: how often it should be.
    "Exactly once each" is expected = dict.fromkeys(keys, 1)."""
    return {
        "seen": sum(got.values()),
        "expected": sum(expected.values()),
        "missing": sum(max(0, n - got.get(key, 0)) for key, n in expected.items()),
        "extra": sum(max(0, n - expected.get(key, 0)) for key, n in got.items()),
    }


class Invariants:
    """Correctness facts a run must show whatever its timings: every message handed over exactly once,
    every conversation finished, the database agreeing with what was done, no handler error, no warning.
    Printed as a table in every run; with --check they alone decide the exit status (see exit_status)."""

    def __init__(self, title: str = "invariant") -> None:
        self.title = title
        self.rows: list[tuple[str, str, bool]] = []

    def check(self, name: str, measured: object, ok: bool) -> bool:
        self.rows.append((name, str(measured), bool(ok)))
        return bool(ok)

    def equal(self, name: str, got: object, expected: object) -> bool:
        return self.check(name, got if got == expected else f"{got}, expected {expected}", got == expected)

    def tally(self, name: str, counts: Mapping[str, int]) -> bool:
        """counts: from compare_tally (computed where the messages were seen, say in a child process)."""
        measured = f"{counts['seen']} of {counts['expected']}"
        if counts["missing"] or counts["extra"]:
            measured += f" ({counts['missing']} missing, {counts['extra']} doubled or unexpected)"
        return self.check(name, measured, not counts["missing"] and not counts["extra"])

    def failures(self) -> list[str]:
        scope = "" if self.title == "invariant" else f"{self.title}: "
        return [f"{scope}{name}: {measured}" for name, measured, ok in self.rows if not ok]

    def table(self) -> str:
        return table((self.title, "measured", ""), [(n, m, "PASS" if ok else "FAIL") for n, m, ok in self.rows])


CHECK_HELP = (
    "exit status from the invariants only (1, with a one-line reason on stderr, if one fails), never from "
    "timing targets: for tests, with small sizes"
)


def add_check_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--check", action="store_true", help=CHECK_HELP)


def exit_status(check: bool, *invariants: Invariants) -> int:
    """Prints the invariants' verdict line. With --check: 1 and a one-line reason on stderr when one failed
    (or none was checked), else 0. Without: 0, as ever (a bench run reports; the tables say what failed)."""
    failures = [line for inv in invariants for line in inv.failures()]
    total = sum(len(inv.rows) for inv in invariants)
    held = total - len(failures)
    if not total:
        failures = ["no invariant was checked"]
    print(f"invariants: {'FAIL' if failures else 'PASS'} ({held} of {total} hold)")
    if check and failures:
        more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
        sys.stderr.write(f"invariant failed: {failures[0]}{more}\n")
        return 1
    return 0


async def outbox_unsent(storage: Any) -> int:
    """Messages outreach-bot queued (alerts, prompts) and has not handed to the Bot API (pending or failed)."""
    async with storage.db.read() as tx:
        # clean-ups of finished conversations wait out [privacy] clean_up_after (minutes): not unsent
        row = await tx.one("SELECT count(*) FROM outbox WHERE status != 'sent' AND kind != 'cleanup'")
    return int(row[0]) if row else 0
