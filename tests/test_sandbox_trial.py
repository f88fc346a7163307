"""The sandbox as a trial ground (issue 14, Build item 7): `:wait 10m` moves time (a bad duration is one
line and changes nothing), numbers press the buttons of the message the person is looking at (a reminder
that comes during a conversation is answered "#N 1"), photos and documents are saved to files."""

from __future__ import annotations

import io
import os
import re
import stat
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.sandbox import DEMO, Sandbox
from tests.test_sandbox import ROOT, output, person, settings_for


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Sandbox]:
    box = Sandbox(settings_for(tmp_path), out=io.StringIO(), reason="no-token")
    await box.start()
    try:
        yield box
    finally:
        await box.stop()


async def said(box: Sandbox, line: str) -> str:
    """What the sandbox printed for one typed line."""
    before = len(output(box))
    await box.handle_line(line)
    return output(box)[before:]


def told(printed: str, who: str) -> bool:
    """Whether `who` got a new message (not a clean-up's removal or edit)."""
    lines = printed.splitlines()
    return any(f"→ {who}" in line and "(removed" not in line and "(edited)" not in line for line in lines)


async def check_in_for_30_minutes(box: Sandbox) -> None:
    await said(box, "/checkin")
    await said(box, "2")  # Bar La Luna: no pair needed
    while "How long will you stay?" not in (printed := await said(box, "1")):
        assert "Checked in" not in printed
    await said(box, "30")
    assert "Checked in at" in await said(box, "geo:14.6,-90.5")  # a shared location, as plain messengers send it


async def test_wait_moves_the_clock_and_runs_the_jobs(sandbox: Sandbox) -> None:
    await check_in_for_30_minutes(sandbox)
    supervisor = await person(sandbox, "supervisor")
    printed = await said(sandbox, ":wait 10m")
    assert sandbox.clock.shift == timedelta(minutes=10)
    assert re.search(r"\(the bot's clock is now \d{4}-\d\d-\d\d \d\d:\d\d in America/Guatemala, 10m later\)", printed)
    assert not told(printed, "supervisor")
    printed = await said(sandbox, ":later 1h")  # the older name still works
    assert sandbox.clock.shift == timedelta(minutes=70)
    assert told(printed, f"supervisor {supervisor.code}")  # the missed check-out reached the supervisor


@pytest.mark.parametrize(
    "typed", [":wait 5x", ":wait", ":wait 0m", ":wait -5m", ":wait soon", ":wait 999999999d", ":wait 91d", ":wait10x"]
)
async def test_a_bad_duration_is_one_line_and_changes_nothing(sandbox: Sandbox, typed: str) -> None:
    await check_in_for_30_minutes(sandbox)
    worker = await person(sandbox, "worker")
    async with sandbox.storage.db.read() as tx:
        before = await sandbox.storage.checkins.open_for(tx, worker.id)
    numbers = (sandbox.wire.next_id, sandbox.next_update)
    printed = await said(sandbox, typed)
    assert printed.count("\n") == 1 and "nothing changed" in printed and "(write it like :wait 30m" in printed, printed
    assert "Traceback" not in printed and "→" not in printed
    assert sandbox.clock.shift == timedelta(0)
    assert (sandbox.wire.next_id, sandbox.next_update) == numbers  # nothing reached the bot
    async with sandbox.storage.db.read() as tx:
        assert await sandbox.storage.checkins.open_for(tx, worker.id) == before


async def test_a_reminder_during_a_report_does_not_take_the_numbers(sandbox: Sandbox) -> None:
    await check_in_for_30_minutes(sandbox)
    question = await said(sandbox, "/report")
    [asked] = re.findall(r"#(\d+):\n\s+What happened\?", question)
    printed = await said(sandbox, ":wait 26m")  # the reminder before the end, with its own choices
    [reminder] = re.findall(r"#(\d+):\n\s+Reminder: your time", printed)
    assert f"still answer #{asked}" in printed and f"type #{reminder} and the number" in printed
    # "4" is Arrest on the report's question (the reminder has only 1 and 2): the report goes on
    assert "Who was affected?" in await said(sandbox, "4")
    worker = await person(sandbox, "worker")
    async with sandbox.storage.db.read() as tx:
        assert await sandbox.storage.checkins.open_for(tx, worker.id) is not None
    # A bare 1 now answers the report's question ("Me"), not the reminder's "Check out".
    printed = await said(sandbox, "1")
    assert "Are you safe?" not in printed and "Checked out" not in printed and "→ worker" in printed
    async with sandbox.storage.db.read() as tx:
        assert await sandbox.storage.checkins.open_for(tx, worker.id) is not None
    # The reminder, addressed by its number: its first button, Check out.
    printed = await said(sandbox, f"#{reminder} 1")
    assert "Are you safe?" in printed or "Checked out" in printed, printed
    assert "no longer current" in await said(sandbox, "#99999 1")


async def test_with_no_conversation_a_number_takes_the_newest_message(sandbox: Sandbox) -> None:
    await check_in_for_30_minutes(sandbox)
    printed = await said(sandbox, ":wait 26m")
    assert "Reminder: your time" in printed and "still answer" not in printed
    assert "Are you safe?" in await said(sandbox, "1")  # the reminder's Check out


async def test_photos_and_documents_are_saved_and_their_path_printed(sandbox: Sandbox) -> None:
    await said(sandbox, ":m")
    printed = await said(sandbox, "/summary")
    [photo] = re.findall(r"\[photo saved to\s+(\S+\.png)\]", printed)
    assert Path(photo).read_bytes().startswith(b"\x89PNG")
    assert stat.S_IMODE(Path(photo).stat().st_mode) == 0o600 and Path(photo).parent == sandbox.files
    printed = await said(sandbox, "/export")
    [document] = re.findall(r"\[document saved to\s+(\S+\.csv)\]", printed)
    assert Path(document).read_text(encoding="utf-8-sig").startswith("reference,date,week,category")


def test_piped_wait_through_the_cli(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("TELEGRAM_BOT_TOKEN", "OUTREACH_KEY")}
    env.update(OUTREACH_DATA_DIR=str(tmp_path), OUTREACH_CONFIG=str(tmp_path / "missing.toml"))
    done = subprocess.run(
        [sys.executable, "-m", "bot", "sandbox"],
        input=":wait 5x\n:wait 10m\n:help\n:quit\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "(write it like :wait 30m, 2h or 1h30m, up to 90d: '5x' is no duration; nothing changed)" in done.stdout
    assert "10m later)" in done.stdout and ":wait 10m" in done.stdout and "#37 N" in done.stdout
    assert "Traceback" not in done.stderr
    assert DEMO["worker"][1] == "north"
