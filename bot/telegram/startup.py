"""Start-up that waits only for what it needs: the Bot API answering getMe (who the bot is).

Telegram unreachable at start (no network yet, an outage): getMe is tried again with backoff, one
log line per try, until it answers; the jobs start only then, and their first tick catches up on
every deadline that passed meanwhile. A refused token still stops start-up at once.
The command menu and the stored username are cosmetic: they are set in the background, tried again
a few times, and a failure is one log line, never a stopped start-up or a traceback.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from telegram import BotCommand
from telegram.error import InvalidToken, RetryAfter, TelegramError

from bot.i18n import LANGUAGES, N_, tr

log = logging.getLogger("outreach.startup")
Sleep = Callable[[float], Awaitable[None]]
MAX_WAIT = 60.0  # seconds between tries at most
MENU_TRIES = 5

COMMANDS = [
    ("checkin", N_("Check in")),
    ("checkout", N_("Check out")),
    ("extend", N_("More time")),
    ("status", N_("My check-in")),
    ("report", N_("Write a note")),
    ("alert", N_("Quick message")),
    ("support", N_("Contacts")),
    ("team", N_("Team")),
    ("timeline", N_("History")),
    ("summary", N_("Weekly summary")),
    ("language", N_("Language")),
    ("help", N_("Help")),
]
_background: set[asyncio.Task[None]] = set()  # kept until done: the loop holds tasks only weakly


def retry_after_seconds(exc: RetryAfter) -> float:
    """The wait a 429 asks for, in seconds (PTB gives an int or a timedelta)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def backoff(attempt: int) -> float:
    """1, 2, 4 ... seconds, at most MAX_WAIT."""
    return min(2.0 ** min(attempt, 10), MAX_WAIT)


async def until_connected(initialize: Callable[[], Awaitable[None]], sleep: Sleep = asyncio.sleep) -> None:
    """Call `initialize` (the Bot's: getMe) until it succeeds; a refused token is raised at once."""
    attempt = 0
    while True:
        try:
            await initialize()
            if attempt:
                log.info("The Bot API answered after %d failed tries.", attempt)
            return
        except InvalidToken:
            raise
        except TelegramError as exc:  # NetworkError, TimedOut, 5xx, 429: Telegram is not there yet
            wait = backoff(attempt)
            if isinstance(exc, RetryAfter):  # never sooner than Telegram asks
                wait = max(wait, retry_after_seconds(exc))
            attempt += 1
            log.warning("The Bot API is unreachable (try %d: %s); next try in %g s", attempt, type(exc).__name__, wait)
            await sleep(wait)


async def _menu(app: Any, sleep: Sleep) -> None:
    """The username for `invite`'s link, then the command menu in each language, a few tries each."""
    data = app.bot_data
    for attempt in range(MENU_TRIES):
        try:
            if data.storage is not None and app.bot.username:
                await data.storage.meta_set("bot_username", app.bot.username)
            await app.bot.set_my_commands([BotCommand(c, tr(data.config.language, d)) for c, d in COMMANDS])
            for language in LANGUAGES:
                menu = [BotCommand(c, tr(language, d)) for c, d in COMMANDS]
                await app.bot.set_my_commands(menu, language_code=language)
            return
        except TelegramError as exc:
            last = attempt + 1 == MENU_TRIES
            log.warning(
                "Could not set the command menu (%s); the bot runs without it%s",
                type(exc).__name__,
                "" if last else f", next try in {backoff(attempt):g} s",
            )
            if not last:
                await sleep(backoff(attempt))
        except Exception as exc:  # the database closing under it at shutdown: nothing to do about a menu
            log.warning("Could not set the command menu (%s)", type(exc).__name__)
            return


def set_menu_in_background(app: Any, sleep: Sleep = asyncio.sleep) -> asyncio.Task[None]:
    """Start setting the username and the menu; start-up goes on without waiting for them."""
    task = asyncio.get_running_loop().create_task(_menu(app, sleep), name="command-menu")
    _background.add(task)
    task.add_done_callback(_background.discard)
    return task
