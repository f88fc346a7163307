"""`outreach-bot sandbox`: chat with the real bot in the terminal, on the plain-text adapter.

The same engine, flows, database and jobs as on Telegram, without Telegram: every message is
printed with its number, choices are numbered, and what the clean-up removes is shown as removed.
`:wait 10m` (or `:later 10m`) moves the bot's clock on, so a missed check-out or a clean-up can be
seen at once; `geo:14.6,-90.5` shares a location; `file:PATH` sends a file (a plan to `/plan import`);
photos and documents are saved to files.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import shutil
import sys
import textwrap
from datetime import datetime, timedelta
from pathlib import Path
from typing import TextIO

import config
from bot.clock import SystemClock
from bot.flows.model import Attachment, Upload
from bot.plain.runtime import PlainBot
from bot.services import lists
from bot.services.enrolment import create_invite
from config import OrgConfig, Settings, load_org_config
from config.durations import parse_duration
from config.lists import read_toml
from storage import Person, Storage

EXAMPLE_CONFIG = Path(config.__file__).parent / "org.example.toml"
EXAMPLE_LISTS = Path(config.__file__).parent / "lists.example.toml"
# Fixed fake user ids, so a restarted sandbox finds the same people in its database.
DEMO: dict[str, tuple[int, str | None, str]] = {
    "worker": (900_000_001, "north", "Wendy"),
    "supervisor": (900_000_002, "north", "Sam"),
    "manager": (900_000_003, None, "Maria"),
}
SWITCH = {":w": "worker", ":worker": "worker", ":s": "supervisor", ":supervisor": "supervisor"}
SWITCH |= {":m": "manager", ":manager": "manager"}
INDENT = "      "
MAX_WAIT = timedelta(days=90)  # beyond every retention period: a longer jump shows nothing more
DEMO_LANGUAGE = "en"  # the sandbox's chrome is English; /language shows the other languages
HELP = """Sandbox commands:
  :w  :s  :m   (or :worker, :supervisor, :manager)  switch who is typing
  N            take choice N of the message this person is looking at: the question of the
               conversation they are in, else the newest numbered message they received
               (a number that is no choice there, like 45 or a PIN, is sent as typed)
  #37 N        take choice N of message #37 (a reminder or alert that came during a conversation)
  geo:14.6,-90.5   share a location (as a plain messenger sends one)
  file:PATH    send that file, as a messenger sends an attachment (a plan's YAML after /plan import)
  :wait 10m    move the bot's clock on (10m, 2h, 1h30m, 1d) and run its jobs: a missed check-out,
               a clean-up, a reminder; :later 10m is the same
  photos and documents (the chart, a CSV) are saved to files; their path is printed
  :help        this list
  :quit        leave (or Ctrl-D, Ctrl-C); the sandbox data is kept for next time
Anything else is sent to the bot as a message from the person typing: try /help, /language."""


def _sized(text: str) -> tuple[Path, int]:
    """A typed path and its file's size (OSError if it is not there)."""
    path = Path(text).expanduser()
    return path, path.stat().st_size


class ShiftedClock(SystemClock):
    """The real time, moved on by `:later`."""

    def __init__(self) -> None:
        self.shift = timedelta(0)

    def now(self) -> datetime:
        return super().now() + self.shift


class TerminalWire:
    """The sandbox's messenger: prints what each demo person's phone would show."""

    def __init__(self, box: Sandbox) -> None:
        self.box = box
        # Numbered on from the last run: its stored conversations and clean-ups name its message
        # numbers, which must not come to mean this run's messages.
        self.next_id = 1

    def _number(self) -> int:
        self.next_id += 1
        return self.next_id - 1

    async def send(self, chat_id: int, text: str) -> int:
        message_id = self._number()
        self.box.show(chat_id, message_id, text)
        return message_id

    async def edit(self, chat_id: int, message_id: int, text: str) -> bool:
        self.box.show(chat_id, message_id, text, edited=True)
        return True

    async def delete(self, chat_id: int, message_id: int) -> None:
        self.box.show(chat_id, message_id, None)

    async def send_file(self, chat_id: int, file: Attachment) -> int:
        message_id = self._number()
        path = self.box.files / f"{message_id}-{file.filename}"
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_bytes(file.content)
        self.box.show(
            chat_id, message_id, f"[{file.kind} saved to {path}]" + (f" {file.caption}" if file.caption else "")
        )
        return message_id

    def incoming(self) -> int:
        """A number for what the person typed (the clean-up removes it too)."""
        return self._number()


class Sandbox:
    """The plain bot, three demo people, and a printer for what they receive."""

    def __init__(self, settings: Settings, *, out: TextIO | None = None, reason: str = "") -> None:
        # Its own data dir and key: the sandbox never touches the real database or OUTREACH_KEY.
        self.settings = dataclasses.replace(settings, token=None, key_b64=None, data_dir=settings.data_dir / "sandbox")
        self.files = self.settings.data_dir / "files"
        self.config_path = settings.config_path if settings.config_path.exists() else EXAMPLE_CONFIG
        self.out = out or sys.stdout
        self.reason = reason
        self.clock = ShiftedClock()
        self.wire = TerminalWire(self)
        self._bot: PlainBot | None = None
        self.people: dict[str, Person] = {}
        self.current = "worker"
        self.waiting = False  # True while the terminal shows the prompt and waits for a line
        self.quiet = False
        self.width = min(shutil.get_terminal_size((100, 24)).columns, 100)
        self._roles = {uid: role for role, (uid, _, _) in DEMO.items()}
        self._counters = self.settings.data_dir / "counters"
        # Numbered on from the last run: the engine takes an update number it has already seen for the
        # same input sent again, so numbers starting at 1 after a restart would all be ignored.
        self.next_update = 1
        self._hinted: set[int | None] = set()  # offers already explained (hint_offers)
        self._pending_hints: list[tuple[str, int, int | None]] = []

    @property
    def bot(self) -> PlainBot:
        assert self._bot is not None, "the sandbox is not started"
        return self._bot

    @property
    def storage(self) -> Storage:
        return self.bot.storage

    def write(self, text: str = "") -> None:
        """One line (or more) of sandbox output."""
        self.out.write(text + "\n")
        self.out.flush()

    async def start(self) -> None:
        """Say what this is, start the bot on the sandbox data, enrol the demo people if new."""
        if self.reason == "no-token":
            self.write("No TELEGRAM_BOT_TOKEN set: starting the local sandbox (nothing leaves this machine).")
        else:
            self.write("Local sandbox: the real bot in plain text, without Telegram (nothing leaves this machine).")
        org_config: OrgConfig = load_org_config(self.config_path)
        self._bot = PlainBot(self.settings, org_config, self.wire, clock=self.clock)
        await self.bot.start()
        # Demo places and code words (a config file that still holds lists: those), in its own database.
        lists_from = self.config_path if org_config.legacy_lists else EXAMPLE_LISTS
        await lists.seed(self.bot.storage, self.bot.org.id, org_config, read_toml(lists_from))
        self._resume_numbering()
        await self._load_people()
        missing = [role for role in DEMO if role not in self.people]
        if missing:
            await self._enrol(missing)
        self._banner(fresh=bool(missing))

    async def stop(self) -> None:
        """Keep where the numbering got to, and close the database."""
        bot, self._bot = self._bot, None
        if bot is not None:
            self._save_numbering()
            await bot.stop()

    def _resume_numbering(self) -> None:
        """Go on from the message and update numbers the last run left (none: start at 1)."""
        try:
            self.wire.next_id, self.next_update = (int(n) for n in self._counters.read_text().split())
        except (OSError, ValueError):
            return

    def _save_numbering(self) -> None:
        """Two numbers, 0600 like everything in the sandbox's data dir."""
        self._counters.touch(mode=0o600)
        self._counters.write_text(f"{self.wire.next_id} {self.next_update}\n")

    async def _load_people(self) -> None:
        """Find the demo people by their fixed fake user ids."""
        async with self.storage.db.read() as tx:
            for role, (uid, _, _) in DEMO.items():
                person = await self.storage.people.by_telegram_user(tx, uid)
                if person is not None:
                    self.people[role] = person

    async def _enrol(self, roles: list[str]) -> None:
        """Enrol as a newcomer would: an invite code, /start CODE, then the number of a language."""
        for role in roles:
            _, team, _ = DEMO[role]
            code, _, _ = await create_invite(
                self.storage, self.clock, self.bot.org, role=role, team=team, ttl=timedelta(hours=1)
            )
            # Show the worker's welcome once (it explains what is stored); the other two would repeat it.
            self.quiet = role != "worker"
            if not self.quiet:
                self.write(f"\n(The demo {role} opens an invite link from `outreach-bot invite`: /start <code>)")
            await self.send(role, f"/start {code}")
            await self._load_people()  # now they have a code to be shown by
            menu = await self.bot.adapter.menu(self.people.get(role), DEMO[role][0])
            if menu is not None and f"lang:{DEMO_LANGUAGE}" in menu.codes:
                await self.send(role, str(menu.codes.index(f"lang:{DEMO_LANGUAGE}") + 1))
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
            self.write(f"  {self.label(DEMO[role][0]):<22}{in_team:<18} type :{role[0]} to be them")
        self.write("Type as the person in the prompt; a number takes that choice; :help for more, :quit to leave.\n")

    def note(self, text: str) -> None:
        """A sandbox line; while the prompt waits, below it, and the prompt drawn again."""
        self.write(("\n" if self.waiting else "") + text)
        if self.waiting:
            self.out.write(self.prompt)
            self.out.flush()

    def label(self, chat_id: int | None) -> str:
        """`worker W-7KQ2` for a demo person, else the raw chat id."""
        role = self._roles.get(chat_id or 0)
        if role is None:
            return f"chat {chat_id}"
        person = self.people.get(role)
        return f"{role} {person.code}" if person else role

    @property
    def prompt(self) -> str:
        """The prompt names who is typing."""
        return f"{self.label(DEMO[self.current][0])}> "

    def show(self, chat_id: int, message_id: int, text: str | None, *, edited: bool = False) -> None:
        """Print one message as the phone shows it (None: it was removed from the chat)."""
        if self.quiet:
            return
        head = f"  → {self.label(chat_id)} #{message_id}"
        if text is None:
            lines = [f"{head}: (removed from the chat)"]
        else:
            head += " (edited)" if edited else ""
            if "\n" not in text and len(head) + len(text) < self.width:
                lines = [f"{head}: {text}"]
            else:  # a long message reads better as an indented block under who received it
                lines = [f"{head}:"]
                for paragraph in text.split("\n"):
                    lines += self._wrapped(paragraph) or [""]
        if self.waiting:  # a job sent this while the terminal waits: print below the prompt, then redraw it
            lines = ["", *lines]
        self.write("\n".join(lines))
        if self.waiting:
            self.out.write(self.prompt)
            self.out.flush()

    def _wrapped(self, paragraph: str) -> list[str]:
        """Indented lines; a long word (a saved file's path) stays whole, so it can be copied."""
        return textwrap.wrap(
            paragraph,
            self.width,
            initial_indent=INDENT,
            subsequent_indent=INDENT,
            break_long_words=False,
            break_on_hyphens=False,
        )

    async def send(self, role: str, text: str) -> None:
        """A message typed by one demo person, handled to the end (what it queued is sent too)."""
        uid = DEMO[role][0]
        message_id = self.wire.incoming()
        self.next_update += 1
        await self.bot.receive(
            uid, uid, text, language=DEMO_LANGUAGE, message_id=message_id, update_id=self.next_update - 1
        )
        await self.bot.tick()
        self._save_numbering()  # after each line: a sandbox closed with Ctrl-C keeps it too
        self.hint_offers()
        await self.say_hints()

    async def send_file(self, role: str, text: str) -> None:
        """`file:PATH`: the file as an attachment from the person typing (read only if a step takes it;
        the terminal's user is at this machine: the path is theirs to name). A file not there is one line."""
        try:
            path, size = await asyncio.to_thread(_sized, text)
        except OSError:
            self.write(f"(cannot read {text}; nothing sent)")
            return

        async def fetch() -> bytes:
            return await asyncio.to_thread(path.read_bytes)

        uid = DEMO[role][0]
        self.next_update += 1
        await self.bot.receive(
            uid,
            uid,
            "",
            language=DEMO_LANGUAGE,
            message_id=self.wire.incoming(),
            update_id=self.next_update - 1,
            upload=Upload(path.name, size, fetch),
        )
        await self.bot.tick()
        self._save_numbering()

    async def wait(self, command: str, text: str) -> None:
        """`:wait 10m`: the clock moves on, and the jobs run as they would have meanwhile. A bad duration
        is one line, and the clock stays where it was."""
        try:
            step = parse_duration(text)
            if step > MAX_WAIT:
                raise ValueError("too long")
            moved = self.clock.now() + step
        except (ValueError, OverflowError):
            what = f"{text!r} is no duration" if text else "no duration given"
            self.write(f"(write it like {command} 30m, 2h or 1h30m, up to 90d: {what}; nothing changed)")
            return
        self.clock.shift += step
        local = moved.astimezone(self.bot.config.tz)
        self.write(f"(the bot's clock is now {local:%Y-%m-%d %H:%M} in {self.bot.config.timezone}, {text} later)")
        await self.bot.tick()
        self.hint_offers()
        await self.say_hints()

    def hint_offers(self) -> None:
        """Say so when a reminder or alert with choices came while its person is in a conversation: their
        numbers still answer the conversation's question; `#N choice` answers the newer message."""
        adapter = self.bot.adapter
        for role, (uid, _, _) in DEMO.items():
            offer = adapter.offers.get(uid)
            if offer is None or offer.message_id in self._hinted or role not in self.people:
                continue
            self._hinted.add(offer.message_id)
            self._pending_hints.append((role, uid, offer.message_id))

    async def say_hints(self) -> None:
        """The hints hint_offers noted, once each, where a conversation holds the numbers."""
        pending, self._pending_hints = self._pending_hints, []
        for role, uid, offer_id in pending:
            looking = await self.bot.adapter.menu(self.people.get(role), uid)
            if looking is not None and looking.message_id != offer_id:
                self.note(
                    f"(numbers typed by {self.label(uid)} still answer #{looking.message_id}, the question they are "
                    f"on; to answer #{offer_id}, type #{offer_id} and the number, like #{offer_id} 1)"
                )

    async def handle_line(self, line: str) -> bool:
        """One line typed at the prompt; False means the sandbox should end."""
        text = line.strip()
        if not text:
            return True
        if text in (":quit", ":q", ":exit"):
            return False
        if text in SWITCH:
            self.current = SWITCH[text]
            self.write(f"(now typing as {self.label(DEMO[self.current][0])})")
        elif text == ":help":
            self.write(HELP)
        elif waiting := re.match(r"(:wait|:later)(.*)$", text):  # ":wait10m" too: never sent to the bot
            await self.wait(waiting[1], waiting[2].strip())
        elif text.startswith("file:"):
            await self.send_file(self.current, text.removeprefix("file:").strip())
        elif re.fullmatch(r":[a-z]+", text):  # ":)" and the like are still messages
            self.write(f"(unknown sandbox command {text}; :help lists them)")
        else:
            await self.send(self.current, text)
        return True
