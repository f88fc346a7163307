"""Runs the real Application against the in-process Bot API stand-in, with a fake clock."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from telegram import Update

from bot.clock import FakeClock
from bot.services.enrolment import create_invite
from bot.services.lists import seed
from bot.telegram import jobs
from bot.telegram.app import build_application, close_resources, open_resources
from bot.telegram.context import BotContext
from config import OrgConfig, Settings
from config.org import parse_org_config
from storage import Person, Storage
from storage.sealing import load_or_create_key
from tests.auxil.standin import FakeBotApi, Sent, StandinRequest, UpdateFactory

TOKEN = "123456:TESTTOKENabcdefghijklmnopqrstuvwxyz"

EXAMPLE = {
    "organization": {"name": "Demo CSO", "timezone": "America/Guatemala", "language": "es"},
    "escalation": {"reminder_before": "5m", "grace": "10m", "ack_timeout": "15m", "repeat_every": "5m"},
    "hotspots": [
        {"name": "Parque Central", "kind": "park", "risk": "high", "pairs_required": True},
        {"name": "Bar La Luna", "kind": "bar", "risk": "medium"},
    ],
    "alert_codes": [{"word": "buy bread", "level": "red"}],
    "support": [{"kind": "legal", "name": "Legal aid", "contact": "+502 0000 0000", "area": "Zona 1"}],
    # Clean-ups out of the way of tests that count what a tick sends; tests/test_seized_phone.py sets its own.
    "privacy": {"clean_up_after": "40h"},
}

_user_ids = itertools.count(500_000_001)
TYPED: list[str] = []  # every text people typed in this test, for the log-hygiene check in conftest


@dataclass
class Chatter:
    """One person with a private chat to the bot."""

    harness: Harness
    factory: UpdateFactory
    person: Person | None = None

    @property
    def chat_id(self) -> int:
        return self.factory.user_id

    async def say(self, text: str) -> list[Sent]:
        return await self.harness.feed(self.factory.text(text))

    async def tap(self, sent: Sent, data: str) -> list[Sent]:
        """Press the button carrying `data` on a message the bot sent to this chat."""
        assert data in [d for _, d in sent.buttons], f"no button {data!r} in {sent.buttons}"
        message = {
            "message_id": sent.message_id,
            "date": int(time.time()),
            "chat": self.factory.chat,
            "from": self.harness.api.bot_user,
            "text": sent.text or "",
            "reply_markup": sent.params.get("reply_markup"),
        }
        return await self.harness.feed(self.factory.tap(message, data))

    async def share_location(self, latitude: float, longitude: float) -> list[Sent]:
        return await self.harness.feed(self.factory.location(latitude, longitude))

    async def send_file(self, name: str, content: bytes, *, size: int | None = None) -> list[Sent]:
        """Send a document (its bytes served by the stand-in's getFile); `size`: what Telegram reports."""
        return await self.harness.feed(self.factory.document(self.harness.api.person_sent(name, content, size=size)))

    async def tap_forged(self, data: str) -> list[Sent]:
        return await self.harness.feed(self.factory.tap(None, data))

    def received(self) -> list[Sent]:
        return [s for s in self.harness.api.to(self.chat_id) if s.method != "answerCallbackQuery"]

    def last(self) -> Sent:
        return self.harness.api.last_to(self.chat_id)


class Harness:
    def __init__(
        self,
        tmp: Path,
        config: dict[str, Any] | None = None,
        key: bytes | None = None,
        *,
        rate_limit: bool = False,
        start_sleep: Any = None,
    ) -> None:
        """rate_limit: the bot's send budget at Telegram's limits (most tests send as fast as they like);
        start_sleep: how start-up waits between tries to reach the Bot API."""
        self.tmp = tmp
        self.rate_limit, self.start_sleep = rate_limit, start_sleep
        self.api = FakeBotApi()
        self.clock = FakeClock()
        self.settings = Settings(
            token=TOKEN, api_base_url="http://stand-in.invalid/bot", data_dir=tmp / "data", config_path=tmp / "org.toml"
        )
        self.raw_config = config or EXAMPLE
        self.config: OrgConfig = parse_org_config(self.raw_config)
        self.errors: list[BaseException] = []
        self.app = build_application(
            self.settings,
            self.config,
            clock=self.clock,
            request=StandinRequest(self.api),
            rate_limit=rate_limit,
            start_sleep=start_sleep,
            # Outside the data dir, as `outreach-bot run` insists; kept for a second Harness on this tmp.
            key=key or load_or_create_key(None, tmp / "keys" / "key", create=True),
        )

        async def record_error(update: object, context: BotContext) -> None:
            assert context.error is not None
            self.errors.append(context.error)

        self.app.add_error_handler(record_error)

    @property
    def storage(self) -> Storage:
        storage = self.app.bot_data.storage
        assert storage is not None
        return storage

    async def start(self) -> None:
        await self.app.initialize()
        await open_resources(self.app)
        await seed(self.storage, self.app.bot_data.org.id, self.config, self.raw_config)  # lists: in the database
        await self.app.start()
        # Tests move the fake clock and call tick() themselves; the real-time tick would race them.
        for job in self.app.job_queue.get_jobs_by_name("escalation"):
            job.schedule_removal()

    async def tick(self) -> list[Sent]:
        """One run of the escalation job at the fake clock's time; returns what it sent."""
        before = len(self.api.sent)
        await jobs.tick(BotContext(self.app))
        await jobs.flush(self.app, wait=True)  # the tick's own flush skips when a handler's flush still runs
        return self.api.sent[before:]

    async def stop(self) -> None:
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()
        await close_resources(self.app)

    async def restart(self) -> None:
        """Stop and start a new Application on the same data and config (as after a crash or deploy);
        what was sent and the errors seen so far are kept."""
        await self.stop()
        api, clock, errors = self.api, self.clock, self.errors
        Harness.__init__(self, self.tmp, self.raw_config, rate_limit=self.rate_limit, start_sleep=self.start_sleep)
        self.errors = errors  # the error handler looks the list up on self each time
        self.api.sent, self.api.calls = api.sent, api.calls
        self.clock = clock
        self.app.bot_data.clock = clock
        await self.start()

    async def feed(self, update: dict[str, Any]) -> list[Sent]:
        """Process one update fully; return what the bot sent in answer."""
        before = len(self.api.sent)
        message = update.get("message") or {}
        if isinstance(message.get("text"), str):
            TYPED.append(message["text"])
        if message:
            location, document = message.get("location"), message.get("document")
            shown = message.get("text") or (
                f"[location {location['latitude']}, {location['longitude']}]"
                if location
                else f"[document {document.get('file_name')}]"
                if document
                else "?"
            )
            self.api.person_wrote(message["chat"]["id"], message["message_id"], shown)
        await self.app.process_update(Update.de_json(update, self.app.bot))
        await jobs.flush(self.app, wait=True)  # what the handler queued, deterministically
        return self.api.sent[before:]

    def chatter(self, *, language_code: str | None = "en") -> Chatter:
        return Chatter(self, UpdateFactory(next(_user_ids), language_code=language_code))

    async def invite(self, role: str, team: str | None = None, ttl: timedelta = timedelta(hours=72)) -> str:
        assert self.app.bot_data.org is not None
        code, _, _ = await create_invite(self.storage, self.clock, self.app.bot_data.org, role=role, team=team, ttl=ttl)
        return code

    async def enrol(self, role: str, team: str | None = None, language: str = "en") -> Chatter:
        """A person who joined with an invite and picked a language, as a newcomer would."""
        chatter = self.chatter(language_code=language)
        code = await self.invite(role, team)
        sent = await chatter.say(f"/start {code}")
        await chatter.tap(sent[-1], f"lang:{language}")
        async with self.storage.db.read() as tx:
            chatter.person = await self.storage.people.by_telegram_user(tx, chatter.chat_id)
        assert chatter.person is not None
        return chatter
