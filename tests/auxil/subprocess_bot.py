"""The real `python -m bot ...` as subprocesses against the HTTP Bot API emulator, for real-seconds tests."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
import time
import tomllib
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from storage import Storage
from tests.auxil.standin import FakeBotApi, Sent, UpdateFactory
from tests.auxil.standin.http import BotApiServer

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "7123456789:AAEmulatorTokenQwErTy_0123456789xyz"
# Places, code words and contacts: imported once by `init --import-lists`, as README's steps say.
LISTS = ROOT / "config" / "lists.example.toml"


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    raise TypeError(f"no TOML for {value!r}")


def _set_in_table(text: str, table: str, values: dict[str, object]) -> str:
    """Set keys of a plain [table] as an admin would edit them: the key's line replaced, else added under the
    header; a table the file lacks is appended."""
    header = re.search(rf"(?m)^\[{re.escape(table)}\][^\n]*\n", text)
    if header is None:
        lines = "".join(f"{key} = {_toml_value(value)}\n" for key, value in values.items())
        return text.rstrip("\n") + f"\n\n[{table}]\n{lines}"
    following = re.compile(r"(?m)^\[").search(text, header.end())
    end = following.start() if following else len(text)
    body = text[header.end() : end]
    for key, value in values.items():
        line = f"{key} = {_toml_value(value)}"
        body, found = re.subn(rf"(?m)^{re.escape(key)}\s*=.*$", line.replace("\\", "\\\\"), body)
        if not found:
            body = line + "\n" + body
    return text[: header.end()] + body + text[end:]


def write_config(
    path: Path, escalation: dict[str, str] | None = None, tables: dict[str, dict[str, object]] | None = None
) -> Path:
    """config/org.example.toml, as an admin would copy it, with some [escalation] durations changed and,
    in `tables`, keys of other plain tables set (like {"checkout": {"pin": True}})."""
    text = (ROOT / "config" / "org.example.toml").read_text(encoding="utf-8")
    for key, value in (escalation or {}).items():
        text, found = re.subn(rf'(?m)^{re.escape(key)}\s*=\s*"[^"]*"', f'{key} = "{value}"', text)
        assert found == 1, f"{key} is not set once in org.example.toml"
    for table, values in (tables or {}).items():
        text = _set_in_table(text, table, values)
    everything = tomllib.loads(text)
    parsed = everything["escalation"]
    assert all(parsed[key] == value for key, value in (escalation or {}).items()), parsed
    for table, values in (tables or {}).items():
        assert all(everything[table].get(key) == value for key, value in values.items()), everything[table]
    path = path.parent / "config" / path.name  # a config dir of its own: the key file must be outside it
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def environment(tmp_path: Path, server: BotApiServer, config: Path, token: str = TOKEN) -> dict[str, str]:
    """The process environment of one installation: its own data dir and config, pointed at the emulator."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OUTREACH_", "TELEGRAM_"))}
    env.update(
        OUTREACH_DATA_DIR=str(tmp_path / "data"),
        OUTREACH_CONFIG=str(config),
        OUTREACH_KEY_FILE=str(tmp_path / "keys" / "key"),  # outside the data and config dirs, as README says
        TELEGRAM_BOT_TOKEN=token,
        TELEGRAM_API_BASE_URL=server.base_url,
        PYTHONUNBUFFERED="1",
    )
    return env


async def cli(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    """One short `python -m bot ...`; the event loop keeps serving the emulator meanwhile."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout=30)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def invite(env: dict[str, str], role: str, team: str | None = None) -> str:
    """`python -m bot invite`: the code is alone on the last line. No team: the CLI's default."""
    rc, out, err = await cli(env, "invite", "--role", role, *(("--team", team) if team else ()))
    assert rc == 0, err
    return out.strip().splitlines()[-1]


async def until(condition: Callable[[], bool], what: str, within: float = 15.0, interval: float = 0.05) -> None:
    """Waits in real seconds for the bot process to do something (these tests cross a process)."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:.0f} s waiting for {what}")
        await asyncio.sleep(interval)


SHOWS = "shows"  # as a method: a new message or one edited in place (Sent.shows)


def shown(api: FakeBotApi, chat_id: int, method: str = "sendMessage") -> list[Sent]:
    return [s for s in api.to(chat_id) if (s.shows if method == SHOWS else s.method == method)]


class BotProcess:
    """`python -m bot run`, started, killed and restarted on the same data; output kept in one log file."""

    def __init__(self, env: dict[str, str], api: FakeBotApi, log_path: Path) -> None:
        self.env, self.api, self.log_path = env, api, log_path
        self.proc: asyncio.subprocess.Process | None = None
        self.started_at = 0.0  # time.monotonic() of the last spawn

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def _ready_count(self) -> int:
        return sum(1 for method, _ in self.api.calls if method == "setMyCommands")

    async def start(self, within: float = 20.0) -> None:
        """Spawn and wait until the bot is ready (it sets its commands last in post_init)."""
        assert not self.running
        before = self._ready_count()
        with self.log_path.open("ab") as log:
            self.started_at = time.monotonic()
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", cwd=ROOT, env=self.env, stdout=log, stderr=log
            )
        proc = self.proc
        await until(lambda: self._ready_count() > before or proc.returncode is not None, "the bot to start", within)
        assert proc.returncode is None, self.log()

    async def kill(self) -> int:
        """SIGKILL, as `kill -9` or a power cut: no shutdown code runs."""
        assert self.proc is not None
        self.proc.kill()
        return await self.proc.wait()

    async def terminate(self, within: float = 15.0) -> int:
        """SIGTERM, as systemd or `docker stop`: returns the exit code."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.proc.wait(), timeout=within)

    async def aclose(self) -> None:
        """For finally blocks: never leave a bot running."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()


class Person:
    """Someone chatting with the bot through the emulator, reading what it sent to their chat."""

    def __init__(self, api: FakeBotApi, user_id: int, first_name: str, language_code: str = "en") -> None:
        self.api = api
        self.factory = UpdateFactory(user_id, first_name=first_name, language_code=language_code)
        self.said: list[tuple[int, str]] = []  # (update_id, text) of every message typed, in order

    @property
    def chat_id(self) -> int:
        return self.factory.user_id

    def say(self, text: str) -> float:
        """Type a message; returns when it was pushed (time.monotonic())."""
        update = self.factory.text(text)
        self.said.append((update["update_id"], text))
        self.api.push_update(update)
        return time.monotonic()

    def tap(self, sent: Sent, data: str) -> float:
        """Press the inline button carrying `data` on a message the bot sent; returns when."""
        assert data in [d for _, d in sent.buttons], f"no button {data!r} in {sent.buttons}"
        message: dict[str, Any] = {
            "message_id": sent.message_id,
            "date": int(time.time()),
            "chat": self.factory.chat,
            "from": self.api.bot_user,
            "text": sent.text or "",
            "reply_markup": sent.params.get("reply_markup"),
        }
        self.api.push_update(self.factory.tap(message, data))
        return time.monotonic()

    def messages(self, containing: str = "", method: str = SHOWS, since: float = 0.0) -> list[Sent]:
        """What was shown here containing the text; `since` (a time.monotonic(), like what say and tap
        return) keeps only what the emulator recorded from then on."""
        return [s for s in shown(self.api, self.chat_id, method) if containing in (s.text or "") and s.at >= since]

    def with_button(self, data: str, since: float = 0.0) -> list[Sent]:
        return [s for s in shown(self.api, self.chat_id, SHOWS) if data in [d for _, d in s.buttons] and s.at >= since]

    async def receive(self, containing: str, within: float = 15.0, method: str = SHOWS, since: float = 0.0) -> Sent:
        """The first message to this chat containing the text (sent from `since` on), waiting for it if needed."""
        await until(lambda: bool(self.messages(containing, method, since)), f"{containing!r} to {self.chat_id}", within)
        return self.messages(containing, method, since)[0]

    async def receive_button(self, data: str, within: float = 15.0, since: float = 0.0) -> Sent:
        await until(lambda: bool(self.with_button(data, since)), f"a button {data!r} to {self.chat_id}", within)
        return self.with_button(data, since)[0]

    async def enrol(self, code: str) -> Sent:
        """/start CODE and tap English on the consent notice, as a newcomer does; returns the notice."""
        self.say(f"/start {code}")
        consent = await self.receive_button("lang:en")
        self.tap(consent, "lang:en")
        await self.receive("", method="editMessageText")
        return consent


@asynccontextmanager
async def stored(env: dict[str, str]) -> AsyncIterator[Storage]:
    """The installation's database opened in this process, with its key, as the CLI opens it."""
    from bot import keys
    from config import load_settings

    settings = load_settings(env)
    source = keys.locate(settings)
    missing = source.path is not None and not source.path.exists()
    key = keys.create_file(settings, source) if missing else keys.load(settings, source)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    storage = await Storage.open(settings.db_path, key)
    try:
        yield storage
    finally:
        await storage.close()


async def invites(env: dict[str, str], wanted: Sequence[tuple[str, str | None]], ttl: float = 3600.0) -> list[str]:
    """One code per (role, team), made as `python -m bot invite` makes them but in this process: a process
    per code costs a Python start-up each, too slow for a hundred people."""
    from bot.clock import SystemClock
    from bot.services.enrolment import create_invite, ensure_organization
    from config import load_org_config, load_settings

    config = load_org_config(load_settings(env).config_path)
    clock = SystemClock()
    async with stored(env) as storage:
        org = await ensure_organization(storage, config, clock)
        return [
            (await create_invite(storage, clock, org, role=role, team=team, ttl=timedelta(seconds=ttl)))[0]
            for role, team in wanted
        ]


class Inbox:
    """What the emulator shows each chat, indexed as it is recorded, so that a hundred people can wait for
    their next message at once without each scanning everything ever sent."""

    def __init__(self, api: FakeBotApi) -> None:
        self.chats: defaultdict[int, list[Sent]] = defaultdict(list)
        self._arrived: defaultdict[int, asyncio.Event] = defaultdict(asyncio.Event)
        for sent in api.sent:
            self._record(sent)
        api.listeners.append(self._record)

    def _record(self, sent: Sent) -> None:
        if sent.chat_id is None or sent.method == "deleteMessage":
            return
        self.chats[sent.chat_id].append(sent)
        self._arrived[sent.chat_id].set()

    def of(self, chat_id: int, containing: str = "", method: str = "sendMessage") -> list[Sent]:
        chat = self.chats[chat_id]
        return [
            s for s in chat if (s.shows if method == SHOWS else s.method == method) and containing in (s.text or "")
        ]

    async def next(self, chat_id: int, index: int, within: float) -> Sent | None:
        """The chat's message number `index` (0 is the first), waiting up to `within` s; None if none came."""
        shown, arrived = self.chats[chat_id], self._arrived[chat_id]
        deadline = time.monotonic() + within
        while len(shown) <= index:
            arrived.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            try:
                await asyncio.wait_for(arrived.wait(), remaining)
            except TimeoutError:
                return None
        return shown[index]
