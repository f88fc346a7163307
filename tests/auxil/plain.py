"""The bot on the plain-text adapter (bot/plain), without python-telegram-bot, in memory.

`PlainHarness` has the Telegram harness's shape (enrol, say, tap, restart, tick) so that a test can
drive a flow through either adapter. `tap(message, code)` replies with the number that message
shows for `code`, as a person on a button-less messenger would.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.clock import FakeClock
from bot.flows.model import Attachment, Upload
from bot.plain.runtime import PlainBot
from bot.services.enrolment import create_invite
from bot.services.lists import seed
from config import OrgConfig, Settings
from config.org import parse_org_config
from storage import Person, Storage
from tests.auxil import harness as telegram_harness

_NUMBERED = re.compile(r"^(\d+)\. (.*)$")
_user_ids = itertools.count(700_000_001)


@dataclass
class Said:
    """One message in a plain chat, the bot's or the person's."""

    message_id: int
    chat_id: int
    text: str
    by_bot: bool = True
    codes: tuple[str, ...] = ()  # the choices its numbers stand for (known to the harness, not shown)
    file: Attachment | None = None

    @property
    def shows(self) -> bool:
        return self.by_bot

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """(label, code) of each numbered choice, as the text shows the labels."""
        labels = [m.group(2) for m in map(_NUMBERED.match, self.text.splitlines()) if m]
        return list(zip(labels, self.codes, strict=False))

    @property
    def question(self) -> str:
        """The text before its numbered choices."""
        return self.text.split("\n\n1. ")[0]


class MemoryWire:
    """A plain messenger in memory: every chat as the phone would show it, and a log of every send."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self.log: list[Said] = []
        self.chats: dict[int, dict[int, Said]] = {}

    async def send(self, chat_id: int, text: str) -> int:
        assert text.strip(), "an empty message"
        said = Said(next(self._ids), chat_id, text)
        self.log.append(said)
        self.chats.setdefault(chat_id, {})[said.message_id] = said
        return said.message_id

    async def edit(self, chat_id: int, message_id: int, text: str) -> bool:
        shown = self.chats.get(chat_id, {}).get(message_id)
        if shown is None:
            return False
        shown.text = text
        self.log.append(Said(message_id, chat_id, text))
        return True

    async def delete(self, chat_id: int, message_id: int) -> None:
        self.chats.get(chat_id, {}).pop(message_id, None)

    async def send_file(self, chat_id: int, file: Attachment) -> int:
        said = Said(next(self._ids), chat_id, f"[{file.kind} {file.filename}]", file=file)
        self.log.append(said)
        self.chats.setdefault(chat_id, {})[said.message_id] = said
        return said.message_id

    def person_wrote(self, chat_id: int, text: str) -> int:
        said = Said(next(self._ids), chat_id, text, by_bot=False)
        self.chats.setdefault(chat_id, {})[said.message_id] = said
        return said.message_id

    def chat(self, chat_id: int) -> list[Said]:
        """What the chat holds now, oldest first."""
        return list(self.chats.get(chat_id, {}).values())


@dataclass
class PlainChatter:
    harness: PlainHarness
    user_id: int
    language: str | None = "en"
    person: Person | None = None
    updates: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def chat_id(self) -> int:
        return self.user_id

    async def say(self, text: str) -> list[Said]:
        return await self.harness.feed(self, text)

    async def tap(self, said: Said, code: str) -> list[Said]:
        """Reply with the number `said` shows for `code`."""
        codes = [c for _, c in said.buttons]
        assert code in codes, f"no choice {code!r} in {said.buttons}"
        return await self.say(str(codes.index(code) + 1))

    async def share_location(self, latitude: float, longitude: float) -> list[Said]:
        return await self.say(f"geo:{latitude},{longitude}")

    async def send_file(self, name: str, content: bytes, *, size: int | None = None) -> list[Said]:
        """Send a file (`size`: what the messenger reports, default the real one)."""
        return await self.harness.feed(self, f"[file {name}]", file=(name, content, size))

    def received(self) -> list[Said]:
        return [s for s in self.harness.wire.log if s.chat_id == self.chat_id]

    def last(self) -> Said:
        return self.received()[-1]


class PlainHarness:
    """The plain bot on a temporary data dir, with a fake clock."""

    def __init__(self, tmp: Path, config: dict[str, Any] | None = None) -> None:
        self.tmp = tmp
        self.clock = FakeClock()
        self.wire = MemoryWire()
        self.settings = Settings(token=None, api_base_url="", data_dir=tmp / "data", config_path=tmp / "org.toml")
        self.raw_config = config or telegram_harness.EXAMPLE
        self.config: OrgConfig = parse_org_config(self.raw_config)
        self.bot = PlainBot(self.settings, self.config, self.wire, clock=self.clock)
        self.fetched: list[str] = []  # the names of the files whose bytes the bot fetched

    @property
    def storage(self) -> Storage:
        return self.bot.storage

    async def start(self) -> None:
        await self.bot.start()
        await seed(self.bot.storage, self.bot.org.id, self.config, self.raw_config)  # lists: in the database

    async def stop(self) -> None:
        await self.bot.stop()

    async def restart(self) -> None:
        """A new bot on the same data (as after a crash or deploy): what it held in memory is gone."""
        await self.stop()
        self.bot = PlainBot(self.settings, self.config, self.wire, clock=self.clock)
        await self.start()

    async def feed(
        self, chatter: PlainChatter, text: str, file: tuple[str, bytes, int | None] | None = None
    ) -> list[Said]:
        """One message (`file`: name, bytes and reported size of a file it carries); what the bot sent."""
        before = len(self.wire.log)
        telegram_harness.TYPED.append(text)
        message_id = self.wire.person_wrote(chatter.chat_id, text)
        upload = None
        if file is not None:
            name, content, size = file

            async def fetch() -> bytes:
                self.fetched.append(name)
                return content

            upload = Upload(name, len(content) if size is None else size, fetch)
        await self.bot.receive(
            chatter.user_id,
            chatter.chat_id,
            text,
            language=chatter.language,
            message_id=message_id,
            update_id=next(chatter.updates),
            upload=upload,
        )
        await self._note_menus(chatter, before)
        return self.wire.log[before:]

    async def tick(self) -> list[Said]:
        """One run of the bot's jobs at the fake clock's time; what they sent."""
        before = len(self.wire.log)
        await self.bot.tick()
        await self._note_menus(None, before)
        return self.wire.log[before:]

    async def _note_menus(self, chatter: PlainChatter | None, before: int) -> None:
        """Remember which codes the numbers of each new message stand for (tap() replies with them):
        the conversation's current question, and what the outbox sent with choices."""
        menus = {menu.message_id: menu.codes for menu in self.bot.adapter.offers.values()}
        if chatter is not None and chatter.person is not None:
            menu = await self.bot.adapter.menu(chatter.person, chatter.chat_id)
            if menu is not None:
                menus[menu.message_id] = menu.codes
        elif chatter is not None:  # enrolling: the person exists once /start has run
            async with self.storage.db.read() as tx:
                person = await self.storage.people.by_telegram_user(tx, chatter.user_id)
            menu = await self.bot.adapter.menu(person, chatter.chat_id) if person is not None else None
            if menu is not None:
                menus[menu.message_id] = menu.codes
        for said in self.wire.log[before:]:
            said.codes = menus.get(said.message_id, said.codes)

    def chatter(self, *, language_code: str | None = "en") -> PlainChatter:
        return PlainChatter(self, next(_user_ids), language_code)

    async def invite(self, role: str, team: str | None = None, ttl: timedelta = timedelta(hours=72)) -> str:
        code, _, _ = await create_invite(self.storage, self.clock, self.bot.org, role=role, team=team, ttl=ttl)
        return code

    async def enrol(self, role: str, team: str | None = None, language: str = "en") -> PlainChatter:
        chatter = self.chatter(language_code=language)
        code = await self.invite(role, team)
        sent = await chatter.say(f"/start {code}")
        await chatter.tap(sent[-1], f"lang:{language}")
        async with self.storage.db.read() as tx:
            chatter.person = await self.storage.people.by_telegram_user(tx, chatter.user_id)
        assert chatter.person is not None
        return chatter
