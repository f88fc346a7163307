"""Every bench script, at a reduced size, with --check: its exit status then says whether its invariants
held (each message handed over exactly once, counts as written, no handler error, no warning logged),
never whether it met a timing target. Speed is measured by `make bench` at full size, not asserted here:
the machine running the tests may be loaded."""

from __future__ import annotations

import importlib.util
import itertools
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 240  # seconds per script run; this file takes about 50 s on 2 cores

# script -> (reduced sizes, invariants that must be in its table: row names or the start of them)
CASES: dict[str, tuple[list[str], list[str]]] = {
    "throughput": (
        ["--conversations", "100", "--workers", "20"],
        [
            "every conversation completed",
            "every update handled exactly once",
            "handler errors",
            "check-ins in the database",
            "of them closed",
            "SQLite journal and durability",
            "warnings logged",
        ],
    ),
    "deadlines": (
        ["--n", "200", "--window", "1", "--lead", "1", "--drain", "20"],
        [
            "live: each check-in's prompt handed off exactly once",
            "live: alerts sent (none due)",
            "live: outbox messages left unsent",
            "restart: check-ins still open",
            "restart: messages sent (none due)",
            "catch-up: each worker's prompt exactly once",
            "catch-up: each alert exactly once, to the team's supervisor",
            "catch-up: open alerts in the database, one per check-in",
            "catch-up: outbox messages left unsent",
            "warnings logged",
        ],
    ),
    "alerts": (
        ["--n", "100", "--burst", "20", "--duress", "2", "--timeout", "30"],
        [
            "red code, smaller burst: every recipient told once",
            "red code, all: every recipient told once",
            "red code, all: every worker answered",
            "duress: every recipient told once",
            "duress: every worker answered",
            "whole run, two ticks later: each (alert, recipient) exactly once",
            "alerts in the database",
            "outbox messages left unsent",
            "handler errors",
            "warnings logged",
        ],
    ),
    "urgency": (
        ["--routine", "300", "--alerts", "8"],
        [
            "429s answered by the stand-in",
            "every alert handed over once, to its supervisor only",
            "every worker answered",
            "urgency order: routine messages between a code word and its alert",
            "every routine message handed over once",
            "outbox messages left unsent",
            "handler errors",
            "warnings logged",
        ],
    ),
    "summary": (
        ["--n", "10000", "--runs", "1"],
        [
            "incidents in the database",
            "alerts in the database",
            "build(), org-wide",
            "build(), one team",
            "/summary through the bot: this week's total",
            "/timeline all (page 1) through the bot",
            "Next button at offset 5000 (all) through the bot",
            "/timeline all physical parque central through the bot",
            "incidents.page(): all, offset 5000",
            "handler errors",
            "warnings logged",
        ],
    ),
    "risk": (
        ["--n", "5000", "--places", "100", "--runs", "1"],
        [
            "incidents in the database",
            "register: every place",
            "register: incidents in 90 days",
            "register: incidents in 30 days",
            "map: one mark per place",
            "first refresh: one notice per place above low",
            "second refresh, nothing new: notices",
            "refresh after new critical incidents at a quiet place",
            "warnings logged",
        ],
    ),
}


def run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )


def invariant_rows(stdout: str) -> dict[str, str]:
    """name -> PASS / FAIL, from every table whose first column is headed "invariant"."""
    rows: dict[str, str] = {}
    lines = stdout.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("invariant") and "| measured" in line:
            for row in itertools.takewhile(bool, lines[i + 2 :]):
                cells = [cell.strip() for cell in row.split(" | ")]
                rows[cells[0]] = cells[-1]
    return rows


@pytest.mark.parametrize("script", list(CASES))
def test_bench_invariants_hold_at_a_reduced_size(script: str) -> None:
    sizes, expected = CASES[script]
    proc = run([f"bench/{script}.py", "--check", *sizes])
    assert proc.returncode == 0, f"bench/{script}.py --check: {proc.stderr.strip()[-3000:]}\n{proc.stdout[-4000:]}"
    rows = invariant_rows(proc.stdout)
    for name in expected:
        found = {row: verdict for row, verdict in rows.items() if row.startswith(name)}
        assert found, f"no invariant {name!r} in the output of bench/{script}.py: {sorted(rows)}"
        assert set(found.values()) == {"PASS"}, found
    assert set(rows.values()) == {"PASS"}, rows
    assert "invariants: PASS" in proc.stdout


def test_check_fails_when_a_message_is_sent_twice() -> None:
    """The exactly-once checks bite: the stand-in Bot API records one red alert twice, --check exits 1."""
    double_one = (
        "import runpy, sys\n"
        "import tests.auxil.standin.api as api\n"
        "record = api.FakeBotApi._record\n"
        "def twice(self, method, params, message_id):\n"
        "    record(self, method, params, message_id)\n"
        "    if method == 'sendMessage' and (params.get('text') or '').startswith('URGENT:'):\n"
        "        self.urgent = getattr(self, 'urgent', 0) + 1\n"
        "        if self.urgent == 7:\n"
        "            record(self, method, params, message_id)\n"
        "api.FakeBotApi._record = twice\n"
        "sys.argv = ['bench/alerts.py', '--check', '--n', '20', '--burst', '5', '--duress', '1', '--timeout', '30']\n"
        "sys.path[0] = 'bench'  # as `python bench/alerts.py` sets it: the scripts import their siblings\n"
        "runpy.run_path('bench/alerts.py', run_name='__main__')\n"
    )
    proc = run(["-c", double_one])
    assert proc.returncode == 1, proc.stdout[-4000:]
    reason = proc.stderr.strip().splitlines()
    assert len(reason) == 1 and reason[0].startswith("invariant failed: "), proc.stderr
    assert "doubled" in reason[0]
    rows = invariant_rows(proc.stdout)
    assert rows["whole run, two ticks later: each (alert, recipient) exactly once"] == "FAIL"
    assert rows["handler errors (outreach-bot)"] == "PASS"


def test_check_passes_when_timing_targets_fail() -> None:
    """A 20 ms round trip per Bot API call holds throughput far under its 1,000 updates/s target (each
    worker waits for every answer: 5 workers, at most 250 updates/s): the target fails, the invariants
    hold, --check exits 0."""
    proc = run(["bench/throughput.py", "--check", "--conversations", "10", "--workers", "5", "--api-latency", "20"])
    assert proc.returncode == 0, f"{proc.stderr.strip()[-3000:]}\n{proc.stdout[-4000:]}"
    assert "targets: sequential: FAIL" in proc.stdout
    assert "invariants: PASS" in proc.stdout


def test_exit_status_comes_from_invariants_only() -> None:
    spec = importlib.util.spec_from_file_location("bench_common", ROOT / "bench" / "_common.py")
    assert spec is not None and spec.loader is not None
    common = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(common)
    held = common.Invariants()
    held.equal("handler errors", 0, 0)
    assert common.exit_status(True, held) == 0
    broken = common.Invariants()
    broken.tally("each alert exactly once", common.compare_tally({"a": 2, "b": 1}, {"a": 1, "b": 1, "c": 1}))
    assert broken.failures() == ["each alert exactly once: 3 of 3 (1 missing, 1 doubled or unexpected)"]
    assert common.exit_status(True, held, broken) == 1
    assert common.exit_status(False, held, broken) == 0  # `make bench` reports; it does not fail
    assert common.exit_status(True) == 1  # nothing checked is no pass
