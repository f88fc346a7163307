"""`outreach-bot health`: healthy while the tick writes its heartbeat, unhealthy when it stops."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

from tests.auxil.harness import Harness

ROOT = Path(__file__).resolve().parent.parent


def _health(data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OUTREACH_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "bot", "health"], env=env, capture_output=True, text=True, cwd=ROOT, timeout=60
    )


async def test_heartbeat_and_health(harness: Harness) -> None:
    data_dir = harness.settings.data_dir
    assert _health(data_dir).returncode == 1  # nothing written yet
    await harness.tick()
    done = _health(data_dir)
    assert done.returncode == 0 and done.stdout.startswith("healthy"), done.stdout
    assert harness.settings.heartbeat_path.stat().st_mode & 0o777 == 0o600  # like every file of the data dir
    stale = time.time() - 121
    harness.settings.heartbeat_path.write_text(f"{stale:.0f}\n")
    done = _health(data_dir)
    assert done.returncode == 1 and re.match(r"unhealthy: last heartbeat 12\d s ago", done.stdout)
    assert "Traceback" not in done.stderr
