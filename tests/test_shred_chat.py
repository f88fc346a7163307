"""Destroying the key from the chat (issue 13, "Destroy the key from afar"): /shred, the shred phrase and
a confirmation, for each key source; a wrong phrase; anyone else; no phrase set; the CLI's phrase."""

from __future__ import annotations

import argparse
import asyncio
import base64
import dataclasses
import os
import secrets
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot import cli_keys, keys
from bot.failure import Fail
from bot.services import shred
from bot.telegram.shred import make_shredder
from config.settings import Settings
from storage import Storage
from storage.sealing import KeyProblem, SealError, load_or_create_key
from tests.auxil.harness import Chatter, Harness
from tests.auxil.plain import PlainHarness
from tests.auxil.standin import FakeBotApi
from tests.auxil.standin.http import BotApiServer
from tests.auxil.subprocess_bot import TOKEN, BotProcess, cli, invite, stored, write_config
from tests.auxil.subprocess_bot import Person as SubprocessPerson
from tests.auxil.subprocess_bot import environment as installation_environment
from tests.test_keys import _cli, one_line

PHRASE = "Yellow Kettle Underneath The Bridge"  # a long word: conftest checks it never reaches the logs
WRONG = "Not accepted. Nothing was changed."
ALL_GONE = "The key is destroyed: nothing in the database can be read any more. The bot answers nobody from now on."


def _with_source(h: Harness, **where: object) -> None:
    """Tell the running bot where its key came from, as `outreach-bot run` would have found it."""
    h.settings = dataclasses.replace(h.settings, **where)  # type: ignore[arg-type]
    h.app.bot_data.settings = h.settings
    h.app.bot_data.shredder = make_shredder(h.app)


async def _bot(tmp_path: Path, source: str) -> tuple[Harness, bytes, Path]:
    """A started bot whose key comes from `source`; the key, and the file it lies in (for a command:
    the secret store the command reads)."""
    if source == "file":
        path = tmp_path / "keys" / "key"
    elif source == "docker":
        path = tmp_path / "run" / "secrets" / "outreach_key"
    elif source == "systemd":
        path = tmp_path / "credentials" / keys.SYSTEMD_CREDENTIAL
    else:
        path = tmp_path / "store" / "outreach"
    key = load_or_create_key(None, path, create=True)
    h = Harness(tmp_path, key=key)
    where: dict[str, object] = {
        "docker_secret": tmp_path / "run" / "secrets" / "none",
        "config_path": tmp_path / "config" / "org.toml",  # the key is outside the data and config dirs
    }
    if source == "file":
        where["key_file"] = path
    elif source == "docker":
        where["docker_secret"] = path
    elif source == "systemd":
        where["credentials_dir"] = path.parent
    elif source == "command":
        where["key_command"] = f"cat '{path}'"
    else:
        where["key_b64"] = base64.b64encode(key).decode()
    _with_source(h, **where)
    assert keys.load(h.settings) == key  # the settings name this very key
    await h.start()
    return h, key, path


async def _admin_and_worker(h: Harness) -> tuple[Chatter, Chatter]:
    admin = await h.enrol("admin")
    worker = await h.enrol("worker", "north")
    await shred.set_phrase(h.storage, PHRASE)
    return admin, worker


async def _shred(admin: Chatter, phrase: str = PHRASE) -> list:
    """/shred, the phrase, "Destroy now": what the bot sent in answer to the last."""
    asked = await admin.say("/shred")
    assert asked[-1].text == "Type the shred phrase."
    confirm = (await admin.say(phrase))[-1]
    assert [code for _, code in confirm.buttons] == ["shred:now", "shred:keep"], confirm.text
    return await admin.tap(confirm, "shred:now")


def _chat(h: Harness, who: Chatter) -> list[str]:
    """What the chat holds now, as the phone shows it."""
    return list(h.api.chats.get(who.chat_id, {}).values())


async def _silent(h: Harness, *people: Chatter) -> None:
    """Every later update gets nothing, and no job sends anything."""
    for person in people:
        for text in ("/status", "/help", "buy bread", PHRASE, "/shred", "/start AAAA"):
            assert await person.say(text) == [], text
    stranger = h.chatter()
    assert await stranger.say("hello") == []
    h.clock.advance(timedelta(hours=3))
    assert await h.tick() == []


@pytest.mark.parametrize("source", ["file", "docker", "systemd"])
async def test_a_key_file_is_destroyed_from_the_chat_and_the_data_no_longer_opens(tmp_path: Path, source: str) -> None:
    h, key, path = await _bot(tmp_path, source)
    try:
        admin, worker = await _admin_and_worker(h)
        await worker.say("/checkin")  # a conversation under way; it must not outlive the key
        assert len(_chat(h, worker)) >= 3 and len(_chat(h, admin)) >= 2  # waiting for their clean-ups
        last = await _shred(admin)
        assert [s.text for s in last if s.shows] == [ALL_GONE]
        # The phrase left at once, /shred, the question and the confirmation with the shred: only the
        # last line stays (no clean-up can run once the key is gone).
        # With the key gone no clean-up could run later: what was waiting for the organisation's delay
        # (enrolments, the worker's check-in under way) left with the shred. Only the last line stays.
        assert _chat(h, admin) == [ALL_GONE] and _chat(h, worker) == []
        assert not path.exists()
        assert h.app.bot_data.key is None
        for use in (
            lambda: h.storage.sealer.seal("x", "t", "c", "1"),
            lambda: h.storage.sealer.lookup("telegram", 1),
            lambda: h.storage.sealer.derive(b"backup"),
        ):
            with pytest.raises(SealError):
                use()
        await _silent(h, admin, worker)
    finally:
        await h.stop()
    assert not h.errors, h.errors

    with pytest.raises(KeyProblem, match=r"does not exist|no key"):  # the same source finds no key
        keys.load(h.settings)
    env = {"OUTREACH_KEY_FILE": str(path)} if source == "file" else {}
    if source == "docker":  # what a restarted container would see
        env = {"OUTREACH_KEY_FILE": str(path)}
    elif source == "systemd":
        env = {"CREDENTIALS_DIRECTORY": str(path.parent)}
    one_line(_cli(h.settings.data_dir, "revoke", "W-AAAA", env_extra=env), "destroyed from the chat")
    (h.settings.data_dir / shred.MARKER).unlink()  # even without the marker: no key, no data
    refused = _cli(h.settings.data_dir, "revoke", "W-AAAA", env_extra=env)
    assert refused.returncode == 2 and "no person" not in refused.stderr, refused.stderr
    storage = await Storage.open(h.settings.db_path, load_or_create_key(None, tmp_path / "other", create=True))
    try:  # a key made afresh opens nothing either
        with pytest.raises(SealError):
            await storage.meta_get("bot_username")
    finally:
        await storage.close()
    assert base64.b64encode(key) not in b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())


@pytest.mark.parametrize("source", ["command", "env"])
async def test_a_key_from_a_command_or_the_environment_is_forgotten_and_named_as_not_destroyed(
    tmp_path: Path, source: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    h, key, store = await _bot(tmp_path, source)
    if source == "env":
        monkeypatch.setenv("OUTREACH_KEY", h.settings.key_b64 or "")
    try:
        admin, worker = await _admin_and_worker(h)
        last = [s.text or "" for s in await _shred(admin) if s.shows]
        assert len(last) == 1
        line = last[0]
        assert "destroyed:" not in line.lower().replace("not destroyed:", "") and "The key is destroyed" not in line
        assert line.startswith("The bot has forgotten the key and answers nobody from now on.")
        expected = "OUTREACH_KEY_COMMAND" if source == "command" else "OUTREACH_KEY"
        assert f"NOT destroyed: the key in the {'key command' if source == 'command' else 'environment'}" in line
        assert expected in line and "It still opens the data" in line
        assert h.app.bot_data.key is None and h.app.bot_data.settings.key_b64 is None
        assert h.app.bot_data.shredder.settings.key_b64 is None and "OUTREACH_KEY" not in os.environ
        with pytest.raises(SealError):
            h.storage.sealer.seal("x", "t", "c", "1")
        await _silent(h, admin, worker)
        shredded = h.app.bot_data.shredder.shredded
        assert "Key destroyed" not in shred.report(shredded) and "NOT destroyed" in shred.report(shredded)
    finally:
        await h.stop()
    assert not h.errors, h.errors
    assert store.exists() or source == "env"  # the command's store is not the bot's to destroy
    # Honest: that key still opens the data. A restart does not bring the bot back, though.
    storage = await Storage.open(h.settings.db_path, key)
    try:
        assert await shred.phrase_is_set(storage)
    finally:
        await storage.close()
    env = {"OUTREACH_KEY": base64.b64encode(key).decode()}
    one_line(_cli(h.settings.data_dir, "revoke", "W-AAAA", env_extra=env), "destroyed from the chat")


async def test_a_wrong_phrase_gets_one_line_changes_nothing_and_tries_are_limited(tmp_path: Path) -> None:
    h, key, path = await _bot(tmp_path, "file")
    try:
        admin, worker = await _admin_and_worker(h)
        await admin.say("/shred")
        answer = [s.text for s in await admin.say("not the phrase at all") if s.shows]
        assert answer == [WRONG]
        assert not any("not the phrase at all" in m for m in _chat(h, admin))  # it left at once
        assert path.read_bytes() and keys.load(h.settings) == key
        assert (await worker.say("/status"))[-1].text  # the bot keeps working
        for _ in range(4):  # five wrong tries within the hour in all
            await admin.say("/shred")
            assert [s.text for s in await admin.say("another wrong phrase") if s.shows] == [WRONG]
        blocked = [s.text for s in await admin.say("/shred") if s.shows]
        assert blocked == ["Too many tries. Try again in an hour."]
        h.clock.advance(timedelta(minutes=61))
        cancelled = await admin.say("/shred")
        confirm = (await admin.say(PHRASE.lower()))[-1]  # case and spacing do not matter
        cancelled = await admin.tap(confirm, "shred:keep")
        assert [s.text for s in cancelled if s.shows] == ["Cancelled. Nothing was saved."]
        assert keys.load(h.settings) == key and (await worker.say("/status"))[-1].text
    finally:
        await h.stop()
    assert not h.errors, h.errors


async def test_nobody_else_learns_that_shred_exists(tmp_path: Path) -> None:
    h, key, path = await _bot(tmp_path, "file")
    try:
        admin = await h.enrol("admin")
        others = [await h.enrol("worker", "north"), await h.enrol("supervisor", "north"), await h.enrol("manager")]

        async def answers(who: Chatter, text: str) -> list[str]:
            return [s.text or "" for s in await who.say(text) if s.shows]

        unknown = await answers(admin, "/frobnicate")
        assert await answers(admin, "/shred") == unknown  # no phrase set: the feature is off
        assert await answers(admin, PHRASE) == await answers(admin, "some other words here")
        await shred.set_phrase(h.storage, PHRASE)
        for person in others:
            assert await answers(person, "/shred") == await answers(person, "/frobnicate")
            assert await answers(person, PHRASE) == await answers(person, "some other words here")
        stranger = h.chatter()
        assert await answers(stranger, "/shred") == await answers(h.chatter(), "/frobnicate")
        assert path.exists() and keys.load(h.settings) == key
    finally:
        await h.stop()
    assert not h.errors, h.errors


async def test_the_plain_adapter_shreds_too(tmp_path: Path) -> None:
    h = PlainHarness(tmp_path)
    await h.start()
    try:
        admin = await h.enrol("admin")
        worker = await h.enrol("worker", "north")
        await shred.set_phrase(h.storage, PHRASE)
        assert (await admin.say("/shred"))[-1].text == "Type the shred phrase."
        confirm = (await admin.say(PHRASE))[-1]
        last = await admin.tap(confirm, "shred:now")
        assert [s.text for s in last] == [ALL_GONE]
        assert [s.text for s in h.wire.chat(admin.chat_id)] == [ALL_GONE]  # its clean-ups ran at once
        assert h.wire.chat(worker.chat_id) == []
        assert not h.settings.key_path.exists()
        assert await worker.say("/status") == [] and await admin.say("/help") == []
    finally:
        await h.stop()


def test_the_cli_sets_changes_and_clears_the_phrase_and_keeps_only_a_digest(tmp_path: Path) -> None:
    data = tmp_path / "data"
    made = _cli(data, "init")
    assert made.returncode == 0 and "No shred phrase yet" in made.stdout, made.stderr
    one_line(_cli(data, "shred-phrase", "set", stdin="short\nshort\n"), "at least 12 characters")
    one_line(_cli(data, "shred-phrase", "set", stdin=f"{PHRASE}\nsomething else\n"), "did not match")
    done = _cli(data, "shred-phrase", "set", stdin=f"{PHRASE}\n{PHRASE}\n")
    assert done.returncode == 0 and "Shred phrase set." in done.stdout, done.stderr
    assert "Shred phrase changed." in _cli(data, "shred-phrase", "set", stdin=f"{PHRASE}\n{PHRASE}\n").stdout
    assert "No shred phrase yet" not in _cli(data, "init").stdout
    content = b"".join(p.read_bytes() for p in data.rglob("*") if p.is_file())
    for form in (PHRASE, PHRASE.lower(), "kettle"):
        assert form.encode() not in content.lower()
    assert "/shred is off" in _cli(data, "shred-phrase", "clear").stdout
    assert "No shred phrase yet" in _cli(data, "init").stdout


@pytest.fixture
async def emulator() -> AsyncIterator[tuple[FakeBotApi, BotApiServer]]:
    api = FakeBotApi()
    server = BotApiServer(api, TOKEN)
    await server.start()
    try:
        yield api, server
    finally:
        await server.stop()


@pytest.mark.parametrize("source", ["file", "env"])
async def test_outreach_bot_run_ends_after_a_shred_and_says_what_it_destroyed(
    tmp_path: Path, emulator: tuple[FakeBotApi, BotApiServer], source: str
) -> None:
    api, server = emulator
    env = installation_environment(tmp_path, server, write_config(tmp_path / "org.toml"))
    key_file = Path(env["OUTREACH_KEY_FILE"])
    if source == "env":
        del env["OUTREACH_KEY_FILE"]
        env["OUTREACH_KEY"] = base64.b64encode(secrets.token_bytes(32)).decode()
    rc, out, err = await cli(env, "init")
    assert rc == 0 and "No shred phrase yet" in out, err
    code = await invite(env, "admin")
    async with stored(env) as storage:
        await shred.set_phrase(storage, PHRASE)
    bot = BotProcess(env, api, tmp_path / "run.log")
    await bot.start()
    try:
        admin = SubprocessPerson(api, 7_300_000_001, "Admin")
        await admin.enrol(code)
        since = admin.say("/shred")
        await admin.receive("Type the shred phrase.", since=since)
        since = admin.say(PHRASE)
        admin.tap(await admin.receive_button("shred:now", since=since), "shred:now")
        line = (await admin.receive("answers nobody from now on", since=since)).text or ""
        assert bot.proc is not None
        rc = await asyncio.wait_for(bot.proc.wait(), timeout=20)  # `run` ends by itself
    finally:
        await bot.aclose()
    log = bot.log()
    assert "Traceback" not in log and ("OUTREACH_KEY" not in env or env["OUTREACH_KEY"] not in log), log
    if source == "file":
        assert rc == 0 and line == ALL_GONE and not key_file.exists()
        assert f"Key destroyed from the chat: {key_file}." in log, log
    else:
        assert rc == 1 and "NOT destroyed: the key in the environment (OUTREACH_KEY)" in line
        assert "Key destroyed" not in log and "NOT destroyed: the key that OUTREACH_KEY gives" in log, log
    rc, out, err = await cli(env, "run")  # a restart policy brings it back: it stays shut
    assert rc == 2 and "destroyed from the chat" in err and err.strip().count("\n") == 0, err


def test_the_cli_shred_destroys_a_systemd_credential_and_says_so(tmp_path: Path) -> None:
    """The CLI's `shred` and the chat's share one helper (bot.keys.shred_all): a credential is a key file."""
    data = tmp_path / "data"
    credentials = tmp_path / "run" / "credentials" / "outreach.service"
    credentials.mkdir(parents=True)
    (credentials / keys.SYSTEMD_CREDENTIAL).write_text(base64.b64encode(secrets.token_bytes(32)).decode())
    env = {"CREDENTIALS_DIRECTORY": str(credentials)}
    assert _cli(data, "init", env_extra=env).returncode == 0
    done = _cli(data, "shred", stdin="DESTROY\n", env_extra=env)
    assert done.returncode == 0 and done.stdout.strip().endswith("Key destroyed."), done.stdout + done.stderr
    assert not (credentials / keys.SYSTEMD_CREDENTIAL).exists()
    one_line(_cli(data, "revoke", "W-AAAA", env_extra=env), "no key")


def test_the_cli_shred_destroys_a_docker_secret_and_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Docker's secret lives at a fixed path (/run/secrets): the same command, in-process, with it elsewhere."""
    secret = tmp_path / "run" / "secrets" / "outreach_key"
    load_or_create_key(None, secret, create=True)
    settings = Settings(
        token=None, api_base_url="", data_dir=tmp_path / "data", config_path=tmp_path / "config" / "org.toml"
    )
    settings = dataclasses.replace(settings, docker_secret=secret)
    cli_keys.cmd_shred(argparse.Namespace(yes_i_am_sure=True), settings)
    assert capsys.readouterr().out.strip().endswith("Key destroyed.") and not secret.exists()
    with pytest.raises(KeyProblem, match="no key"):
        keys.load(settings)
    with pytest.raises(Fail, match="no key file to destroy"):  # again: nothing to destroy, and it says so
        cli_keys.cmd_shred(argparse.Namespace(yes_i_am_sure=True), settings)


async def test_the_phrase_survives_a_key_rotation(tmp_path: Path) -> None:
    """Its digest is sealed like any value: rotate-key re-seals it, and /shred still knows the phrase."""
    data = tmp_path / "data"
    assert _cli(data, "init").returncode == 0
    assert _cli(data, "shred-phrase", "set", stdin=f"{PHRASE}\n{PHRASE}\n").returncode == 0
    old = (tmp_path / "keys" / "key").read_text()
    rotated = _cli(data, "rotate-key")
    assert rotated.returncode == 0 and (tmp_path / "keys" / "key").read_text() != old, rotated.stderr
    storage = await Storage.open(data / "outreach.db", keys.decoded((tmp_path / "keys" / "key").read_text(), "key"))
    try:
        assert await shred.phrase_matches(storage, f"  {PHRASE.upper()} ")
        assert not await shred.phrase_matches(storage, "Yellow Kettle Underneath The Bridges")
    finally:
        await storage.close()
