"""Key rotation (interruptible, nothing left under the old key) and shredding the key."""

from __future__ import annotations

import base64
import fcntl
import os
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot import keys
from bot.telegram.context import BotContext
from bot.telegram.jobs import sweep
from storage.rotation import TABLES
from storage.sealing import Sealer, load_or_create_key
from tests.auxil.harness import Harness
from tests.test_alert_codes import _config
from tests.test_checkin import check_in
from tests.test_reports import BUTTONS, file_by_buttons

ROOT = Path(__file__).resolve().parent.parent


def _key_file(data_dir: Path) -> Path:
    """Where these tests keep the key: outside the data dir and the config dir, as README says."""
    return data_dir.parent / "keys" / "key"


def _config_dir(data_dir: Path) -> Path:
    folder = data_dir.parent / "config"
    if not (folder / "org.toml").exists():
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "org.toml").write_text((ROOT / "config" / "org.example.toml").read_text())
    return folder


def _cli(
    data_dir: Path, *args: str, stdin: str = "", env_extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m bot ...` with the key in OUTREACH_KEY_FILE, unless env_extra names another way."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OUTREACH_") and k != "CREDENTIALS_DIRECTORY"}
    env |= {"OUTREACH_DATA_DIR": str(data_dir), "OUTREACH_CONFIG": str(_config_dir(data_dir) / "org.toml")}
    if not {"OUTREACH_KEY", "OUTREACH_KEY_COMMAND", "CREDENTIALS_DIRECTORY"} & set(env_extra or {}):
        env["OUTREACH_KEY_FILE"] = str(_key_file(data_dir))
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
        input=stdin,
        timeout=120,
    )


def _move_key_out(data_dir: Path) -> Path:
    """The harness's key file: outside the data dir, where _cli's OUTREACH_KEY_FILE points."""
    target = _key_file(data_dir)
    assert target.exists() and not (data_dir / "key").exists()
    return target


def _paper(stdout: str) -> str:
    """The paper copy's lines in a command's output."""
    return "\n".join(line for line in stdout.splitlines() if re.match(r"\d: ", line))


def one_line(result: subprocess.CompletedProcess[str], words: str, code: int = 2) -> None:
    assert result.returncode == code and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip().count("\n") == 0 and words in result.stderr, result.stderr


@contextmanager
def _running(data_dir: Path) -> Iterator[None]:
    """Hold the data directory's lock as `outreach-bot run` does while it runs."""
    fd = os.open(data_dir / "run.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


async def _sealed_key_ids(harness: Harness) -> set[bytes]:
    ids = set()
    async with harness.storage.db.read() as tx:
        for spec in TABLES:
            for column in spec.columns:
                for (value,) in await tx.all(f"SELECT {column} FROM {spec.table} WHERE {column} IS NOT NULL"):
                    ids.add(bytes(value[1:5]))
    return ids


async def test_rotate_key_interrupted_then_resumed(tmp_path: Path) -> None:
    harness = Harness(tmp_path, _config(checkout={"pin": True}))
    await harness.start()
    supervisor = await harness.enrol("supervisor", "north")
    worker = await harness.enrol("worker", "north")
    await worker.say("/pin")
    await worker.say("4821")
    await worker.say("1379")
    saved = await worker.say("1379")  # the duress PIN is asked twice
    assert saved[-1].text.startswith("Your PINs are saved.")
    await check_in(worker, location=(14.6, -90.5))
    ref = await file_by_buttons(worker)
    sent = await supervisor.say(f"/incident {ref}")
    await supervisor.tap(sent[-1], f"fu:{ref}:referred")
    await supervisor.say("a note")
    sent = await worker.say("/report")
    await worker.tap(sent[-1], BUTTONS[0])  # a draft too
    await sweep(BotContext(harness.app))  # the risk levels' sealed row too (bot/services/risk.py)
    async with harness.storage.db.read() as tx:
        assert await tx.one("SELECT 1 FROM place_risk") is not None
    old_key = harness.app.bot_data.key
    assert await _sealed_key_ids(harness) == {Sealer.key_id_of(old_key)}
    await harness.stop()

    data_dir = harness.settings.data_dir
    key_file = _move_key_out(data_dir)
    waiting = key_file.with_name("key.new")  # beside the key, never in the data dir
    first = _cli(data_dir, "rotate-key", "--stop-after", "5")
    assert first.returncode == 0 and "Stopped after 5 rows" in first.stdout, first.stderr
    assert waiting.exists() and not (data_dir / "key.new").exists()
    pending = waiting.read_bytes()
    second = _cli(data_dir, "rotate-key")
    assert second.returncode == 0 and "Resuming" in second.stdout and "old key is destroyed" in second.stdout
    new_key = load_or_create_key(None, key_file, create=False)
    assert new_key != old_key and not waiting.exists()
    assert keys.from_paper(_paper(second.stdout)) == new_key  # its paper copy is printed
    waiting.write_bytes(pending)  # as if killed after the key file was replaced
    third = _cli(data_dir, "rotate-key")
    assert third.returncode == 0 and "had finished" in third.stdout and not waiting.exists()

    harness2 = Harness(tmp_path, key=new_key)
    harness2.config = harness.config
    harness2.app.bot_data.config = harness.config
    await harness2.start()
    try:
        assert await _sealed_key_ids(harness2) == {Sealer.key_id_of(new_key)}  # nothing opens with the old key
        async with harness2.storage.db.read() as tx:
            assert isinstance(await harness2.storage.risk.state(tx, worker.person.org_id), dict)
        worker.harness = harness2
        supervisor.harness = harness2
        # the half-written report (a conversation, sealed) first: any other command would end it
        assert (await worker.say("/report"))[-1].text == "Who was affected?"
        assert (await worker.say("/status"))[-1].text.startswith("Checked in at Bar La Luna")  # id digests moved
        question = (await worker.say("/checkout"))[-1]
        await worker.tap(question, question.buttons[0][1])
        assert [s.text for s in await worker.say("4821") if s.shows] == [
            "Checked out. Thank you, take care."
        ]  # the PIN survived the rotation
        text = (await supervisor.say(f"/incident {ref}"))[-1].text
        assert "Bar La Luna" in text and "Referred – a note" in text
        assert (await supervisor.say("/timeline bar"))[-1].text.startswith("Incidents 1–1 of 1")  # place digest
    finally:
        await harness2.stop()


async def test_shred_makes_data_unreadable_at_once(tmp_path: Path) -> None:
    harness = Harness(tmp_path)
    await harness.start()
    await harness.enrol("worker", "north")
    await harness.stop()
    data_dir = harness.settings.data_dir
    key_file = _move_key_out(data_dir)
    refused = _cli(data_dir, "shred", stdin="no\n")
    assert refused.returncode == 2 and key_file.exists()
    with _running(data_dir):  # the bot is up: it holds the key in memory
        done = _cli(data_dir, "shred", stdin="DESTROY\n")
    assert done.returncode == 0 and "Key destroyed." in done.stdout and "stop it now" in done.stdout
    assert not key_file.exists()
    one_line(_cli(data_dir, "rotate-key"), "does not exist")


async def test_key_and_file_mistakes_stop_with_one_line_and_change_nothing(tmp_path: Path) -> None:
    harness = Harness(tmp_path)
    await harness.start()
    await harness.enrol("worker", "north")
    await harness.stop()
    data_dir = harness.settings.data_dir
    key_file = _move_key_out(data_dir)

    other_key = base64.b64encode(secrets.token_bytes(32)).decode()
    one_line(_cli(data_dir, "revoke", "W-AAAA", env_extra={"OUTREACH_KEY": other_key}), "key does not open")
    key = key_file.read_bytes()
    key_file.unlink()
    one_line(_cli(data_dir, "init"), "its key file")  # a new key could never open the old database
    assert not key_file.exists()
    key_file.write_bytes(key)
    os.chmod(key_file, 0o600)
    one_line(
        _cli(data_dir, "export", "--from", "2026-01-01", "--to", "2026-12-31", str(tmp_path / "no" / "x.csv")),
        "cannot write",
    )
    one_line(_cli(data_dir, "shred", stdin=""), "nothing destroyed")  # no terminal to type on
    assert key_file.read_bytes() == key
    with _running(data_dir):
        one_line(_cli(data_dir, "rotate-key"), "the bot is running")
    assert not key_file.with_name("key.new").exists() and key_file.read_bytes() == key


def test_shred_never_says_destroyed_while_the_environment_key_opens_the_data(tmp_path: Path) -> None:
    """With OUTREACH_KEY the key is not this command's to destroy: it says so, and exits 1."""
    data_dir = tmp_path / "data"
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    assert _cli(data_dir, "init", env_extra={"OUTREACH_KEY": key}).returncode == 0
    done = _cli(data_dir, "shred", stdin="DESTROY\n", env_extra={"OUTREACH_KEY": key})
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "Key destroyed" not in done.stdout and "NOT destroyed: the key that OUTREACH_KEY gives" in done.stdout
    still = _cli(data_dir, "revoke", "W-AAAA", env_extra={"OUTREACH_KEY": key})
    assert "key does not open" not in still.stderr  # the data still opens: nothing was destroyed
