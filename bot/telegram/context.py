"""The bot's own CallbackContext: typed access to storage, config, clock and the person writing."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from telegram.ext import Application, CallbackContext, ContextTypes

from bot.clock import Clock, SystemClock
from bot.telegram.lean_bot import LeanBot

if TYPE_CHECKING:
    from bot.flows.engine import Engine
    from bot.flows.model import Conversation
    from bot.shredder import Shredder
    from bot.telegram.hooks import Hooks
    from config import OrgConfig, Settings
    from storage import Person, Storage
    from storage.orgs import Organization


class BotData:
    """Everything the handlers share; filled in by `build_application` and `post_init`."""

    def __init__(self) -> None:
        self.clock: Clock = SystemClock()
        self.storage: Storage | None = None
        self.config: OrgConfig | None = None
        self.settings: Settings | None = None
        self.org: Organization | None = None
        self.key: bytes | None = None
        self.outbox_lock = asyncio.Lock()
        self.flush_requested = False
        self.last_beat = 0.0
        self.engine: Engine | None = None
        self.hooks: Hooks | None = None  # build_application's: told about the jobs as they run (a bench's)
        self.shredder: Shredder | None = None  # the key destroyed from the chat (bot/telegram/shred.py)
        self.menu_task: asyncio.Task[None] | None = None  # the command menu, set in the background


class BotContext(CallbackContext[LeanBot, dict[Any, Any], dict[Any, Any], BotData]):
    """Adds `person`, set by the gate handler for every update from an enrolled person."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)
        self.person: Person | None = None
        self.conversation: Conversation | None = None  # theirs, as the gate read it with them

    @property
    def storage(self) -> Storage:
        assert self.bot_data.storage is not None, "storage is opened in post_init"
        return self.bot_data.storage

    @property
    def config(self) -> OrgConfig:
        assert self.bot_data.config is not None
        return self.bot_data.config

    @property
    def org(self) -> Organization:
        assert self.bot_data.org is not None
        return self.bot_data.org

    @property
    def clock(self) -> Clock:
        return self.bot_data.clock

    @property
    def drafts(self) -> dict[Any, Any]:
        """This person's half-finished flow answers (user_data exists for every private-chat update)."""
        assert self.user_data is not None
        return self.user_data

    @property
    def locale(self) -> str:
        """The reader's language: the person's own, else the organisation's."""
        if self.person is not None:
            return self.person.locale
        return self.config.language


CONTEXT_TYPES = ContextTypes(context=BotContext, bot_data=BotData)
