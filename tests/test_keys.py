"""Key rotation (interruptible, nothing left under the old key) and shredding the key."""

from __future__ import annotations

import base64
import fcntl
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from storage.rotation import TABLES
from storage.sealing import Sealer, load_or_create_key
from tests.auxil.harness import Harness
from tests.test_alert_codes import _config
from tests.test_checkin import check_in
from tests.test_reports import BUTTONS, file_by_buttons

ROOT = Path(__file__).resolve().parent.parent


def _cli(
    data_dir: Path, *args: str, stdin: str = "", env_extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "OUTREACH_DATA_DIR": str(data_dir),
        "OUTREACH_CONFIG": str(ROOT / "config" / "org.example.toml"),
    }
    env.pop("OUTREACH_KEY", None)
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
    old_key = harness.app.bot_data.key
    assert await _sealed_key_ids(harness) == {Sealer.key_id_of(old_key)}
    await harness.stop()

    data_dir = harness.settings.data_dir
    first = _cli(data_dir, "rotate-key", "--stop-after", "5")
    assert first.returncode == 0 and "Stopped after 5 rows" in first.stdout, first.stderr
    meanwhile = _cli(data_dir, "invite", "--role", "worker")  # rows are under two keys: nothing else writes
    assert meanwhile.returncode == 2 and "run `outreach-bot rotate-key` to finish it" in meanwhile.stderr
    pending = (data_dir / "key.new").read_bytes()
    second = _cli(data_dir, "rotate-key")
    assert second.returncode == 0 and "Resuming" in second.stdout and "old key is destroyed" in second.stdout
    new_key = load_or_create_key(None, data_dir / "key", create=False)
    assert new_key != old_key and not (data_dir / "key.new").exists()
    (data_dir / "key.new").write_bytes(pending)  # as if killed after the key file was replaced
    third = _cli(data_dir, "rotate-key")
    assert third.returncode == 0 and "had finished" in third.stdout and not (data_dir / "key.new").exists()

    harness2 = Harness(tmp_path)
    harness2.config = harness.config
    harness2.app.bot_data.config = harness.config
    await harness2.start()
    try:
        assert await _sealed_key_ids(harness2) == {Sealer.key_id_of(new_key)}  # nothing opens with the old key
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
    refused = _cli(data_dir, "shred", stdin="no\n")
    assert refused.returncode == 2 and (data_dir / "key").exists()
    with _running(data_dir):  # the bot is up: it holds the key in memory
        done = _cli(data_dir, "shred", stdin="DESTROY\n")
    assert done.returncode == 0 and "Key destroyed." in done.stdout and "stop it now" in done.stdout
    assert not (data_dir / "key").exists()
    health = _cli(data_dir, "rotate-key")
    assert health.returncode == 2 and "no key" in health.stderr and "Traceback" not in health.stderr


async def test_key_and_file_mistakes_stop_with_one_line_and_change_nothing(tmp_path: Path) -> None:
    harness = Harness(tmp_path)
    await harness.start()
    await harness.enrol("worker", "north")
    await harness.stop()
    data_dir = harness.settings.data_dir

    def one_line(result: subprocess.CompletedProcess[str], words: str) -> None:
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
        assert result.stderr.strip().count("\n") == 0 and words in result.stderr, result.stderr

    other_key = base64.b64encode(secrets.token_bytes(32)).decode()
    one_line(_cli(data_dir, "revoke", "W-AAAA", env_extra={"OUTREACH_KEY": other_key}), "key does not open")
    key = (data_dir / "key").read_bytes()
    (data_dir / "key").unlink()
    one_line(_cli(data_dir, "init"), "its key")  # a new key could never open the old database
    assert not (data_dir / "key").exists()
    (data_dir / "key").write_bytes(key)
    os.chmod(data_dir / "key", 0o600)
    one_line(
        _cli(data_dir, "export", "--from", "2026-01-01", "--to", "2026-12-31", str(tmp_path / "no" / "x.csv")),
        "cannot write",
    )
    one_line(_cli(data_dir, "shred", stdin=""), "nothing destroyed")  # no terminal to type on
    assert (data_dir / "key").read_bytes() == key
    with _running(data_dir):
        one_line(_cli(data_dir, "rotate-key"), "the bot is running")
    assert not (data_dir / "key.new").exists() and (data_dir / "key").read_bytes() == key


def test_shred_never_says_destroyed_while_the_environment_key_opens_the_data(tmp_path: Path) -> None:
    """With OUTREACH_KEY the key is not this command's to destroy: it says so, and exits 1."""
    data_dir = tmp_path / "data"
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    assert _cli(data_dir, "init", env_extra={"OUTREACH_KEY": key}).returncode == 0
    done = _cli(data_dir, "shred", stdin="DESTROY\n", env_extra={"OUTREACH_KEY": key})
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "Key destroyed" not in done.stdout and "NOT destroyed: the key in OUTREACH_KEY" in done.stdout
    still = _cli(data_dir, "revoke", "W-AAAA", env_extra={"OUTREACH_KEY": key})
    assert "key does not open" not in still.stderr  # the data still opens: nothing was destroyed
