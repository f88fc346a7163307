"""The terminal sandbox (on the plain-text adapter): demo people, switching who types, numbered choices,
moving the clock on, restart, and the CLI entry."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.sandbox import DEMO, Sandbox
from config.settings import DEFAULT_API_BASE, Settings
from storage import Person

ROOT = Path(__file__).resolve().parent.parent


def settings_for(tmp_path: Path) -> Settings:
    """No token, and a config path that does not exist, so the shipped example is used."""
    return Settings(token=None, api_base_url=DEFAULT_API_BASE, data_dir=tmp_path, config_path=tmp_path / "none.toml")


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Sandbox]:
    box = Sandbox(settings_for(tmp_path), out=io.StringIO(), reason="no-token")
    await box.start()
    try:
        yield box
    finally:
        await box.stop()


def output(box: Sandbox) -> str:
    assert isinstance(box.out, io.StringIO)
    return box.out.getvalue()


async def person(box: Sandbox, role: str) -> Person:
    storage = box.storage
    async with storage.db.read() as tx:
        found = await storage.people.by_telegram_user(tx, DEMO[role][0])
    assert found is not None
    return found


async def test_start_says_why_and_enrols_three_demo_people(sandbox: Sandbox, tmp_path: Path) -> None:
    lines = output(sandbox).splitlines()
    assert "TELEGRAM_BOT_TOKEN" in lines[0] and "sandbox" in lines[0]
    for role in ("worker", "supervisor", "manager"):
        someone = await person(sandbox, role)
        assert someone.role == role and someone.status == "active"
        assert f"{role} {someone.code}" in output(sandbox)
    assert (tmp_path / "sandbox" / "outreach.db").exists()  # its own database, beside the real one
    assert sandbox.prompt == f"worker {(await person(sandbox, 'worker')).code}> "


async def test_other_reason_has_a_plain_first_line(tmp_path: Path) -> None:
    box = Sandbox(settings_for(tmp_path), out=io.StringIO())
    await box.start()
    await box.stop()
    assert output(box).splitlines()[0].startswith("Local sandbox:")


async def test_help_reaches_the_worker(sandbox: Sandbox) -> None:
    worker = await person(sandbox, "worker")
    before = len(output(sandbox))
    assert await sandbox.handle_line("/help") is True
    printed = output(sandbox)[before:]
    assert f"→ worker {worker.code} #" in printed
    assert "/language" in printed


async def test_switch_who_is_typing(sandbox: Sandbox) -> None:
    supervisor = await person(sandbox, "supervisor")
    await sandbox.handle_line(":s")
    assert sandbox.current == "supervisor"
    assert sandbox.prompt.startswith(f"supervisor {supervisor.code}")
    before = len(output(sandbox))
    await sandbox.handle_line("/help")
    printed = output(sandbox)[before:]
    assert f"→ supervisor {supervisor.code}" in printed and "→ worker" not in printed
    await sandbox.handle_line(":manager")
    assert sandbox.current == "manager"


async def test_a_number_takes_that_choice(sandbox: Sandbox) -> None:
    await sandbox.handle_line("/language")
    assert "1. Español" in output(sandbox) and "Reply with a number from 1 to 5." in output(sandbox)
    await sandbox.handle_line("1")
    assert (await person(sandbox, "worker")).locale == "es"


async def test_choices_belong_to_the_person_who_got_them(sandbox: Sandbox) -> None:
    await sandbox.handle_line("/language")
    await sandbox.handle_line(":m")
    before = len(output(sandbox))
    await sandbox.handle_line("3")  # the manager was offered nothing: "3" is just a message
    assert "I did not understand" in output(sandbox)[before:]
    assert (await person(sandbox, "manager")).locale == "en"
    assert (await person(sandbox, "worker")).locale == "en"


async def test_sandbox_commands_and_quit(sandbox: Sandbox) -> None:
    await sandbox.handle_line(":help")
    assert ":quit" in output(sandbox)
    await sandbox.handle_line(":nope")
    assert "unknown sandbox command" in output(sandbox)
    assert await sandbox.handle_line("") is True
    assert await sandbox.handle_line(":quit") is False


async def test_messages_sent_while_waiting_redraw_the_prompt(sandbox: Sandbox) -> None:
    sandbox.waiting = True
    sandbox.show(DEMO["supervisor"][0], 77, "one\ntwo")
    sandbox.waiting = False
    printed = output(sandbox)
    assert printed.endswith("      two\n" + sandbox.prompt)
    sandbox.show(DEMO["supervisor"][0], 77, None)
    assert "#77: (removed from the chat)" in output(sandbox)


async def test_later_shows_a_missed_check_out_and_the_clean_up(sandbox: Sandbox) -> None:
    await _check_in(sandbox)
    supervisor = await person(sandbox, "supervisor")
    before = len(output(sandbox))
    await sandbox.handle_line(":later 2h")
    printed = output(sandbox)[before:]
    assert f"→ supervisor {supervisor.code}" in printed  # the missed check-out reached the supervisor
    assert "(removed from the chat)" in printed  # and the check-in's questions and answers left the worker's chat
    await sandbox.handle_line(":later soon")
    assert "(write it like :later 30m" in output(sandbox)


async def test_restart_finds_the_same_people(tmp_path: Path) -> None:
    first = Sandbox(settings_for(tmp_path), out=io.StringIO())
    await first.start()
    codes = {role: p.code for role, p in first.people.items()}
    await first.stop()
    second = Sandbox(settings_for(tmp_path), out=io.StringIO())
    await second.start()
    try:
        assert {role: p.code for role, p in second.people.items()} == codes
        assert "found in the sandbox database" in output(second)
        assert "→" not in output(second)  # no second enrolment
        async with second.storage.db.read() as tx:
            for role in codes:
                assert len(await second.storage.people.with_role(tx, second.bot.org.id, role)) == 1
    finally:
        await second.stop()


async def test_a_restarted_sandbox_answers_and_numbers_on(tmp_path: Path) -> None:
    """The engine ignores an update number it has seen: a second run must number on, not from 1."""
    first = Sandbox(settings_for(tmp_path), out=io.StringIO())
    await first.start()
    try:
        await first.handle_line("/checkin")
        await first.handle_line("1")
        first_numbers = [int(n) for n in re.findall(r"#(\d+)", output(first))]
    finally:
        await first.stop()
    second = Sandbox(settings_for(tmp_path), out=io.StringIO())
    await second.start()
    try:
        await second.handle_line("/help")
        shown = output(second)
        assert "/checkout" in shown  # answered, not taken for the first run's updates sent again
        numbers = [int(n) for n in re.findall(r"#(\d+)", shown)]
        assert numbers and min(numbers) > max(first_numbers), numbers  # numbered on from the first run
    finally:
        await second.stop()


async def _check_in(sandbox: Sandbox) -> None:
    await sandbox.handle_line("/checkin")
    await sandbox.handle_line("1")  # the first place
    while "How long will you stay?" not in output(sandbox):
        await sandbox.handle_line("1")  # alone (and, at a place for two, yes, alone)
    await sandbox.handle_line("45")  # not a choice: the duration, typed
    await sandbox.handle_line("geo:14.6,-90.5")  # a location, as a plain messenger sends it
    assert "Checked in at" in output(sandbox)


def test_cli_without_token_starts_the_sandbox(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("TELEGRAM_BOT_TOKEN", "OUTREACH_KEY")}
    env.update(OUTREACH_DATA_DIR=str(tmp_path), OUTREACH_CONFIG=str(tmp_path / "missing.toml"))
    done = subprocess.run(
        [sys.executable, "-m", "bot", "sandbox", "--reason", "no-token"],
        input="/help\n:quit\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    first = done.stdout.splitlines()[0]
    assert "TELEGRAM_BOT_TOKEN" in first and "sandbox" in first
    assert "/language" in done.stdout
    assert "Traceback" not in done.stderr


def test_cli_bad_config_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "org.toml"
    bad.write_text('[organization]\nname = "X"\ntimezone = "Mars/Base"\nlanguage = "es"\n')
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    env.update(OUTREACH_DATA_DIR=str(tmp_path), OUTREACH_CONFIG=str(bad))
    done = subprocess.run(
        [sys.executable, "-m", "bot", "sandbox"],
        input=":quit\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "config error" in done.stderr


async def test_a_typed_number_that_is_no_choice_is_a_message(sandbox: Sandbox) -> None:
    await _check_in(sandbox)
    worker = await person(sandbox, "worker")
    async with sandbox.storage.db.read() as tx:
        current = await sandbox.storage.checkins.open_for(tx, worker.id)
    assert current is not None and current.deadline_at - current.started_at == timedelta(minutes=45)
