from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.auxil import harness as harness_module
from tests.auxil.harness import TOKEN, Harness


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
