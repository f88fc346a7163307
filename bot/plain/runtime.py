"""A bot on the plain-text adapter, without python-telegram-bot: the database, the engine, the adapter.

`start` opens what `bot/telegram/app.py`'s post_init opens for Telegram (the storage, the organisation),
`stop` closes it; `tick` is the escalation tick, the outbox and the sweep of idle conversations,
as bot/telegram/jobs.py schedules them for Telegram. The terminal sandbox and the tests that drive every flow without
python-telegram-bot run on it; a Signal bot would too, with its own `Wire`.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from bot.clock import Clock, SystemClock
from bot.flows.engine import Engine
from bot.flows.model import Upload
from bot.jobs import drafts, outbox, ticker
from bot.plain.adapter import PlainAdapter, PlainMessenger, Wire
from bot.services.enrolment import ensure_organization
from bot.shredder import Shredder
from bot.table import build_engine
from config import OrgConfig, Settings
from storage import Storage
from storage.orgs import Organization
from storage.sealing import load_or_create_key


class PlainBot:
    """One organisation's bot on one plain messenger."""

    def __init__(self, settings: Settings, config: OrgConfig, wire: Wire, *, clock: Clock | None = None) -> None:
        self.settings = settings
        self.config = config
        self.wire = wire
        self.clock = clock or SystemClock()
        self.engine: Engine = build_engine()
        self._storage: Storage | None = None
        self._org: Organization | None = None
        self._adapter: PlainAdapter | None = None
        self._messenger: PlainMessenger | None = None
        self._outbox_lock = asyncio.Lock()
        self._swept: datetime | None = None
        self.shredder: Shredder | None = None

    @property
    def storage(self) -> Storage:
        assert self._storage is not None, "the bot is not started"
        return self._storage

    @property
    def org(self) -> Organization:
        assert self._org is not None, "the bot is not started"
        return self._org

    @property
    def adapter(self) -> PlainAdapter:
        assert self._adapter is not None, "the bot is not started"
        return self._adapter

    @property
    def silenced(self) -> bool:
        return self.shredder is not None and self.shredder.shredded is not None

    async def start(self) -> None:
        """Open the database (creating the key where the settings say) and the organisation."""
        key = load_or_create_key(self.settings.key_b64, self.settings.key_path, create=True)
        self._storage = await Storage.open(self.settings.db_path, key)
        self._org = await ensure_organization(self._storage, self.config, self.clock)
        self._adapter = PlainAdapter(self.wire, self.engine, self._storage, self.config, self.clock, self._org)
        self._messenger = PlainMessenger(self.wire, self._adapter.offers)  # its choices' numbers answer it
        # Its tick and flush look at it themselves: nothing to stop.
        self.shredder = Shredder(self.settings, lambda: None, self._messenger)
        self._adapter.shredder = self.shredder

    async def stop(self) -> None:
        if self._storage is not None:
            await self._storage.close()
        self._storage = self._adapter = self._messenger = None

    async def receive(
        self,
        user_id: int,
        chat_id: int,
        text: str,
        *,
        language: str | None = None,
        message_id: int | None = None,
        update_id: int | None = None,
        upload: Upload | None = None,
    ) -> None:
        """One message from a person (with a file: `upload`); what its handling queued (an alert) is sent
        before the answer returns."""
        queued = self.storage.outbox.enqueued
        await self.adapter.receive(
            user_id, chat_id, text, language=language, message_id=message_id, update_id=update_id, upload=upload
        )
        if self.storage.outbox.enqueued != queued:
            await self.flush()

    async def flush(self) -> int:
        """Send what is due in the outbox; how many were sent."""
        assert self._messenger is not None, "the bot is not started"
        if self.silenced:
            return 0
        return await outbox.flush(self.storage, self.config, self._messenger, self.clock, self._outbox_lock, wait=True)

    async def tick(self) -> None:
        """What falls due: missed check-outs and alerts (then the outbox, clean-ups included); idle
        conversations ended, once a minute."""
        if self.silenced:  # the key was destroyed from the chat: nothing touches the data any more
            return
        await ticker.tick(self.storage, self.config, self.clock, self.flush)
        now = self.clock.now()
        if self._swept is None or now - self._swept >= timedelta(minutes=1):
            self._swept = now
            await drafts.sweep(self.engine, self.storage, self.config, now)
            await self.flush()
