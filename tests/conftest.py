from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.auxil import harness as harness_module
from tests.auxil.harness import TOKEN, Harness

# The tests that wait in real seconds (a bot process killed and restarted, the Bot API down) run first:
# `make test` shares the files between two workers (pytest-xdist, --dist loadfile), and one of these
# started last would be waited for alone at the end.
SLOW_FIRST = ("test_crash_outage.py", "test_escalation_e2e.py", "test_alerts_reports_e2e.py", "test_fuzz.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow files first, the rest in their usual order (the sort is stable)."""
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(SLOW_FIRST)))


@pytest.fixture(autouse=True)
def log_hygiene(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Every test runs with DEBUG logging; afterwards no log line may hold the token or anything typed."""
    harness_module.TYPED.clear()
    caplog.set_level(logging.DEBUG)
    yield
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert TOKEN not in logged and TOKEN.split(":")[1] not in logged, "the bot token reached the logs"
    for typed in harness_module.TYPED:
        words = [w for w in typed.split() if len(w) >= 8 and not w.startswith("/")]
        for word in words:
            assert word not in logged, f"typed text {word[:20]!r} reached the logs"


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    h = Harness(tmp_path)
    await h.start()
    try:
        yield h
    finally:
        await h.stop()
    assert not h.errors, f"handlers raised: {h.errors!r}"
