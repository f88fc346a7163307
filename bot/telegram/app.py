"""Wiring: builds the Application, registers handlers in one place, opens and closes resources."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    TypeHandler,
)
from telegram.request import BaseRequest, HTTPXRequest

from bot.clock import Clock, SystemClock
from bot.logs import quiet_noisy_loggers
from bot.sendlimit import Limits
from bot.services.enrolment import ensure_organization
from bot.table import build_engine
from bot.telegram import errors, gate, jobs, shred, startup
from bot.telegram.adapter import converse
from bot.telegram.context import CONTEXT_TYPES
from bot.telegram.hooks import Hooks
from bot.telegram.lean_bot import LeanBot
from bot.telegram.limiter import UrgencyRateLimiter
from bot.telegram.updates import PerChatUpdateProcessor, Unconfirmed
from config import OrgConfig, Settings
from storage import Storage
from storage.sealing import load_or_create_key

GATE_GROUP = -2
ENGINE_GROUP = -1  # the conversations (and code words, PINs); what they do not take goes on below
log = logging.getLogger("outreach")
# Makes the Application's update processor, given the Unconfirmed that the bot's getUpdates consults:
# the processor must call unconfirmed.done(update_id) once an update's handling has ended.
UpdateProcessorFactory = Callable[[Unconfirmed], BaseUpdateProcessor]


async def open_resources(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """post_init: open the database and make sure the organisation exists."""
    data = app.bot_data
    settings: Settings = data.settings
    if data.storage is None:
        if data.key is None:
            data.key = load_or_create_key(settings.key_b64, settings.key_path, create=True)
        data.storage = await Storage.open(settings.db_path, data.key)
    data.org = await ensure_organization(data.storage, data.config, data.clock)
    # The username (for `outreach-bot invite`'s t.me link) and the command menu in each language
    # (Telegram picks it by the phone's language): cosmetic, so in the background; a failure is one line.
    data.menu_task = startup.set_menu_in_background(app)
    jobs.schedule(app)
    jobs.schedule_reports(app, data.config)
    log.info("Bot @%s is ready.", app.bot.username)


async def confirm_handled(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """post_stop: every fetched update has now been handled; tell Telegram so (after a crash it is
    not told, and sends again what was not)."""
    unconfirmed = getattr(app.bot, "unconfirmed", None)
    if app.updater is None or unconfirmed is None or not unconfirmed.highest:
        return
    try:
        await app.bot.get_updates(offset=unconfirmed.highest + 1, limit=1, timeout=0)
    except TelegramError as exc:  # the next start gets those updates again, and handles them again
        log.warning("Could not confirm the last updates: %s", type(exc).__name__)


async def close_resources(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """post_shutdown: stop setting the menu, close the database."""
    task = app.bot_data.menu_task
    if task is not None and not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    if app.bot_data.storage is not None:
        await app.bot_data.storage.close()
        app.bot_data.storage = None


def register_handlers(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Every handler, in one place. The gate runs first, in its own group."""
    app.add_handler(TypeHandler(Update, gate.gate), group=GATE_GROUP)
    app.add_handler(TypeHandler(Update, converse), group=ENGINE_GROUP)  # answers all the rest, unknowns too
    app.add_error_handler(errors.on_error)


def file_url(api_base_url: str) -> str:
    """Where the Bot API serves files, beside its methods: https://api.telegram.org/bot ->
    https://api.telegram.org/file/bot (a local Bot API server or the stand-in alike)."""
    head, slash, tail = api_base_url.rstrip("/").rpartition("/")
    return f"{head}/file/{tail}" if slash else f"{api_base_url}/file/bot"


def per_chat(unconfirmed: Unconfirmed) -> BaseUpdateProcessor:
    """The update processor build_application uses unless told otherwise."""
    return PerChatUpdateProcessor(unconfirmed=unconfirmed)


def build_application(
    settings: Settings,
    config: OrgConfig,
    *,
    clock: Clock | None = None,
    request: BaseRequest | None = None,
    token: str | None = None,
    rate_limit: bool | Limits = True,
    update_processor: UpdateProcessorFactory | None = None,
    hooks: Hooks | None = None,
    key: bytes | None = None,
    start_sleep: startup.Sleep | None = None,
) -> Application[Any, Any, Any, Any, Any, Any]:
    """The Application with our context types, handlers and resources; `request` replaces the network.
    update_processor: makes its update processor (default: PerChatUpdateProcessor, chats side by side,
    each in order); hooks: told about the jobs as they run (a bench's; None: nothing is timed); key:
    the key `outreach-bot run` read from its source (bot.keys); without it, the key file in the data
    dir, created if missing, as the tests and benchmarks use it. rate_limit: Telegram's limits (True),
    other limits, or none (False); start_sleep: how start-up waits between tries to reach the Bot API."""
    quiet_noisy_loggers()  # before the Bot exists: it logs its URL, token included, at DEBUG
    unconfirmed = Unconfirmed()
    bot = LeanBot(
        token or settings.token or "",
        unconfirmed=unconfirmed,
        base_url=settings.api_base_url,
        base_file_url=file_url(settings.api_base_url),
        # ApplicationBuilder's defaults: a pool for sending, one connection for long polling.
        request=request or HTTPXRequest(connection_pool_size=256),
        get_updates_request=request or HTTPXRequest(connection_pool_size=1),
        # Every send of the process within Telegram's limits, most urgent first (bot/telegram/limiter.py).
        rate_limiter=UrgencyRateLimiter(rate_limit if isinstance(rate_limit, Limits) else None)
        if rate_limit is not False
        else None,
        start_sleep=start_sleep,
    )
    app = (
        ApplicationBuilder()
        .bot(bot)
        .context_types(CONTEXT_TYPES)
        .post_init(open_resources)
        .post_stop(confirm_handled)
        .post_shutdown(close_resources)
        .concurrent_updates((update_processor or per_chat)(unconfirmed))
        .build()
    )
    app.bot_data.settings = settings
    app.bot_data.config = config
    app.bot_data.clock = clock or SystemClock()
    app.bot_data.engine = build_engine()
    app.bot_data.hooks = hooks
    app.bot_data.key = key
    app.bot_data.shredder = shred.make_shredder(app)
    register_handlers(app)
    return app
