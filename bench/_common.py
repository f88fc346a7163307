"""Helpers shared by the bench scripts: plain tables, percentiles, memory, child processes.

`make bench` runs every bench/*.py, this one included: run directly, it does nothing.
"""

from __future__ import annotations

import json
import logging
import math
import resource
import subprocess
import sys
from collections.abc import Iterable, Sequence
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


def current_rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return math.nan


def seconds(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if abs(value) < 0.01:
        return f"{value * 1000:.2f} ms"
    if abs(value) < 1:
        return f"{value * 1000:.0f} ms"
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


class LogCounter(logging.Handler):
    """Counts warnings and errors (instead of printing them) and keeps the first few."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0
        self.first: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        if len(self.first) < 3:
            self.first.append(f"{record.name}: {record.getMessage()[:160]}")

    @classmethod
    def install(cls) -> LogCounter:
        handler = cls()
        root = logging.getLogger()
        root.handlers[:] = [handler]
        root.setLevel(logging.WARNING)
        return handler


if __name__ == "__main__":
    pass
