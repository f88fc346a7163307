"""`outreach-bot sandbox`: chat with the real bot in the terminal, through the in-process Bot API stand-in."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import logging
import re
import shutil
import sys
import textwrap
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any, TextIO

from telegram import Update
from telegram.ext import Application

import config
from bot.app import build_application, close_resources, open_resources
from bot.failure import Fail
from bot.services.enrolment import create_invite
from bot.standin import FakeBotApi, Sent, StandinRequest, UpdateFactory
from config import ConfigError, OrgConfig, Settings, load_org_config
from storage import Person, Storage
from storage.sealing import KeyProblem

FAKE_TOKEN = "123456:SANDBOXnotARealTokenNothingLeavesThisMachine"  # noqa: S105 (a stand-in answers it)
EXAMPLE_CONFIG = Path(config.__file__).parent / "org.example.toml"
# Fixed fake Telegram ids, so a restarted sandbox finds the same people in its database.
DEMO: dict[str, tuple[int, str | None, str]] = {
    "worker": (900_000_001, "north", "Wendy"),
    "supervisor": (900_000_002, "north", "Sam"),
    "manager": (900_000_003, None, "Maria"),
}
SWITCH = {":w": "worker", ":worker": "worker", ":s": "supervisor", ":supervisor": "supervisor"}
SWITCH |= {":m": "manager", ":manager": "manager"}
App = Application[Any, Any, Any, Any, Any, Any]
INDENT = "      "
DEMO_LANGUAGE = "en"  # the sandbox's chrome is English; /language shows the other languages
HELP = """Sandbox commands:
  :w  :s  :m   (or :worker, :supervisor, :manager)  switch who is typing
  N            press button N of the last message with buttons this person received
               (a number that is no button there, like 45 or a PIN, is sent as a message)
  :help        this list
  :quit        leave (or Ctrl-D, Ctrl-C); the sandbox data is kept for next time
Anything else is sent to the bot as a message from the person typing: try /help, /language."""


class Sandbox:
    """The real Application, a stand-in Bot API, three demo people, and a printer for what they receive."""

    def __init__(self, settings: Settings, *, out: TextIO | None = None, reason: str = "") -> None:
        # Its own data dir and key: the sandbox never touches the real database or OUTREACH_KEY.
        self.settings = dataclasses.replace(settings, token=None, key_b64=None, data_dir=settings.data_dir / "sandbox")
        self.config_path = settings.config_path if settings.config_path.exists() else EXAMPLE_CONFIG
        self.out = out or sys.stdout
        self.reason = reason
        self.api = FakeBotApi()
        self.api.listeners.append(self.show)
        self._app: App | None = None
        self.people: dict[str, Person] = {}
        self.current = "worker"
        self.buttons: dict[int, Sent] = {}  # chat id -> the last message with buttons shown there
        self.waiting = False  # True while the terminal shows the prompt and waits for a line
        self.quiet = False
        self.width = min(shutil.get_terminal_size((100, 24)).columns, 100)
        self._factories = {role: UpdateFactory(uid, first_name=name) for role, (uid, _, name) in DEMO.items()}
        self._roles = {uid: role for role, (uid, _, _) in DEMO.items()}
        self._tapper = 0  # who pressed the last button: button notices go to them

    @property
    def app(self) -> App:
        """The running Application."""
        assert self._app is not None, "the sandbox is not started"
        return self._app

    @property
    def storage(self) -> Storage:
        """The open sandbox database."""
        storage: Storage | None = self.app.bot_data.storage
        assert storage is not None, "the sandbox is not started"
        return storage

    def write(self, text: str = "") -> None:
        """One line (or more) of sandbox output."""
        self.out.write(text + "\n")
        self.out.flush()

    async def start(self) -> None:
        """Say what this is, start the Application on the sandbox data, enrol the demo people if new."""
        if self.reason == "no-token":
            self.write("No TELEGRAM_BOT_TOKEN set: starting the local sandbox (nothing leaves this machine).")
        else:
            self.write("Local sandbox: the real bot with a stand-in for Telegram (nothing leaves this machine).")
        org_config: OrgConfig = load_org_config(self.config_path)
        self._app = build_application(
            self.settings, org_config, request=StandinRequest(self.api), rate_limit=False, token=FAKE_TOKEN
        )
        await self.app.initialize()
        await open_resources(self.app)
        await self.app.start()
        await self._load_people()
        missing = [role for role in DEMO if role not in self.people]
        if missing:
            await self._enrol(missing)
        self._banner(fresh=bool(missing))

    async def stop(self) -> None:
        """Stop the Application and close the database."""
        app, self._app = self._app, None
        if app is None:
            return
        if app.running:
            await app.stop()
        await app.shutdown()
        await close_resources(app)

    async def _load_people(self) -> None:
        """Find the demo people by their fixed fake Telegram ids."""
        async with self.storage.db.read() as tx:
            for role, (uid, _, _) in DEMO.items():
                person = await self.storage.people.by_telegram_user(tx, uid)
                if person is not None:
                    self.people[role] = person

    async def _enrol(self, roles: list[str]) -> None:
        """Enrol as a newcomer would: an invite code, /start CODE, then a tap on a language."""
        org = self.app.bot_data.org
        for role in roles:
            _, team, _ = DEMO[role]
            code, _, _ = await create_invite(
                self.storage, self.app.bot_data.clock, org, role=role, team=team, ttl=timedelta(hours=1)
            )
            # Show the worker's welcome once (it explains what is stored); the other two would repeat it.
            self.quiet = role != "worker"
            if not self.quiet:
                self.write(f"\n(The demo {role} opens an invite link from `outreach-bot invite`: /start <code>)")
            await self._feed(self._factories[role].text(f"/start {code}"))
            await self._load_people()  # now they have a code to be shown by
            await self.press(role, f"lang:{DEMO_LANGUAGE}")
        self.quiet = False
        for role in roles:
            if role not in self.people:  # only if the bot's /start flow changed under us
                self.write(f"(could not enrol the demo {role}: /start <code> did not enrol them)")

    def _banner(self, *, fresh: bool) -> None:
        """Who is here and how to drive them."""
        where = "enrolled just now" if fresh else "found in the sandbox database"
        self.write(f"\nData: {self.settings.data_dir} (its own database and key). Config: {self.config_path}")
        self.write(f"Demo people ({where}):")
        for role, (_, team, _) in DEMO.items():
            in_team = f" in team {team!r}" if team else ""
            self.write(f"  {self.label(self._uid(role)):<22}{in_team:<18} type :{role[0]} to be them")
        self.write("Type as the person in the prompt; a number presses a button; :help for more, :quit to leave.\n")

    def label(self, chat_id: int | None) -> str:
        """`worker W-7KQ2` for a demo person, else the raw chat id."""
        role = self._roles.get(chat_id or 0)
        if role is None:
            return f"chat {chat_id}"
        person = self.people.get(role)
        return f"{role} {person.code}" if person else role

    @staticmethod
    def _uid(role: str) -> int:
        """The fake Telegram id of a demo role."""
        return DEMO[role][0]

    @property
    def prompt(self) -> str:
        """The prompt names who is typing."""
        return f"{self.label(self._uid(self.current))}> "

    def show(self, sent: Sent) -> None:
        """Print one thing the bot did to a chat; remember buttons for number presses."""
        if sent.method == "answerCallbackQuery":
            if not sent.text:
                return  # a silent acknowledgement: Telegram shows nothing
            lines = [f"  · {self.label(self._tapper)} sees a notice: {sent.text}"]
        else:
            lines = self._render(sent)
        if self.quiet:
            return
        if self.waiting:  # a job sent this while the terminal waits: print below the prompt, then redraw it
            lines = ["", *lines]
        self.write("\n".join(lines))
        if self.waiting:
            self.out.write(self.prompt)
            self.out.flush()

    def _render(self, sent: Sent) -> list[str]:
        """The lines for a sent, edited or deleted message, and its numbered buttons."""
        head = f"  → {self.label(sent.chat_id)}"
        last = self.buttons.get(sent.chat_id or 0)
        if sent.method == "deleteMessage":
            if last is not None and last.message_id == sent.message_id:
                del self.buttons[sent.chat_id or 0]
            return [f"{head}: (message deleted)"]
        if sent.method == "editMessageText":
            head += " (edited)"
        elif sent.method != "sendMessage":
            head += f" [{sent.method}]"
        text = sent.text or ""
        if "\n" not in text and len(head) + len(text) < self.width:
            lines = [f"{head}: {text}"]
        else:  # a long message reads better as an indented block under who received it
            lines = [f"{head}:"]
            for paragraph in text.split("\n"):
                lines += textwrap.wrap(paragraph, self.width, initial_indent=INDENT, subsequent_indent=INDENT) or [""]
        rows = (sent.params.get("reply_markup") or {}).get("inline_keyboard", [])
        if rows:
            self.buttons[sent.chat_id or 0] = sent
            number = itertools.count(1)  # numbered across rows, in the order Sent.buttons lists them
            lines += [INDENT + "  ".join(f"[{next(number)}] {b.get('text', '')}" for b in row) for row in rows]
        elif sent.method.startswith("edit") and last is not None and last.message_id == sent.message_id:
            del self.buttons[sent.chat_id or 0]  # the edit took the buttons away
        return lines

    async def _feed(self, update: dict[str, Any]) -> None:
        """Process one update through the real Application, to the end."""
        await self.app.process_update(Update.de_json(update, self.app.bot))

    async def press(self, role: str, data: str | None = None, number: int | None = None) -> bool:
        """Press a button on the last message with buttons this person got, by callback data or number."""
        chat_id = self._uid(role)
        sent = self.buttons.get(chat_id)
        if sent is None:
            return False
        buttons = sent.buttons
        if number is not None:
            if not 1 <= number <= len(buttons):
                return False
            data = buttons[number - 1][1]
        if data is None or data not in [d for _, d in buttons]:
            return False
        factory, self._tapper = self._factories[role], chat_id
        message = {
            "message_id": sent.message_id,
            "date": int(time.time()),
            "chat": factory.chat,
            "from": self.api.bot_user,
            "text": sent.text or "",
            "reply_markup": sent.params.get("reply_markup"),
        }
        await self._feed(factory.tap(message, data))
        return True

    async def handle_line(self, line: str) -> bool:
        """One line typed at the prompt; False means the sandbox should end."""
        text = line.strip()
        if not text:
            return True
        if text in (":quit", ":q", ":exit"):
            return False
        if text in SWITCH:
            self.current = SWITCH[text]
            self.write(f"(now typing as {self.label(self._uid(self.current))})")
        elif text == ":help":
            self.write(HELP)
        elif re.fullmatch(r":[a-z]+", text):  # ":)" and the like are still messages
            self.write(f"(unknown sandbox command {text}; :help lists them)")
        elif text.isdigit() and len(text) <= 2 and await self.press(self.current, number=int(text)):
            pass
        else:  # other numbers (a duration, a PIN) are messages like any other
            if text.isdigit() and len(text) <= 2:
                self.write(f"(no button {text} on the last message with buttons for {self.current}: sent as a message)")
            await self._feed(self._factories[self.current].text(text))
        return True


async def _read_line(prompt: str) -> str:
    """input() in a daemon thread: unlike to_thread, Ctrl-C never waits for a line that will not come."""
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[str] = loop.create_future()

    def settle(result: str | EOFError) -> None:
        if not answer.done():
            answer.set_exception(result) if isinstance(result, EOFError) else answer.set_result(result)

    def read() -> None:
        try:
            result: str | EOFError = input(prompt)
        except (EOFError, OSError, ValueError):  # end of input, or stdin closed under us
            result = EOFError()
        with contextlib.suppress(RuntimeError):  # the loop is gone if Ctrl-C ended the session first
            loop.call_soon_threadsafe(settle, result)

    threading.Thread(target=read, name="sandbox-input", daemon=True).start()
    return await answer


async def _session(sandbox: Sandbox) -> None:
    """Start, read lines until :quit or end of input, stop, whatever happens."""
    echo = not sys.stdin.isatty()  # piped input is not echoed by a terminal: show it in the transcript
    try:
        await sandbox.start()
        while True:
            sandbox.waiting = True
            try:
                line = await _read_line(sandbox.prompt)
            except EOFError:
                sandbox.write("")
                break
            finally:
                sandbox.waiting = False
            if echo:
                sandbox.write(line)
            if not await sandbox.handle_line(line):
                break
    finally:
        await sandbox.stop()


def run_sandbox(settings: Settings, reason: str = "") -> None:
    """Run the terminal chat until :quit, Ctrl-D or Ctrl-C; a config problem is one line on stderr."""
    from bot.logs import setup_logging

    # Warnings and errors only, one line each, on stderr: the chat itself goes to stdout.
    setup_logging(logging.WARNING)
    for handler in logging.getLogger().handlers:  # on the handler: building the app resets logger levels
        handler.setLevel(logging.WARNING)
    sandbox = Sandbox(settings, reason=reason)
    try:
        asyncio.run(_session(sandbox))
    except ConfigError as exc:
        raise Fail(f"config error: {exc}") from None
    except KeyProblem as exc:
        raise Fail(f"sandbox key: {exc}") from None
    except KeyboardInterrupt:
        sandbox.write("")
    sandbox.write("Sandbox closed; its data stays in " + str(sandbox.settings.data_dir) + ".")
