"""The plain-text adapter: the engine's screens as numbered text, and replies as its inputs.

For a messenger without buttons (a terminal, Signal): every screen is a new message whose choices
are numbered, and a reply that is one of the numbers of the newest numbered message takes that
choice. Which message that is comes from the stored conversation (its current question, or the
kept line's choices), so it holds across restarts and a finished conversation's numbers mean
nothing any more; a message the outbox sent with choices (an alert's) is newer when its id is.

What the messenger itself does (send, delete, edit where it can) is behind `Wire`, so this
module is the whole of a button-less adapter but for that. It finds the person by their messenger
user id, answers strangers as the Telegram gate does, and never lets an exception reach a person.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Protocol

from bot.clock import Clock
from bot.flows.engine import Engine
from bot.flows.model import (
    CHOICE,
    FILE,
    OUT_OF_ORDER,
    STALE,
    TAP_A_BUTTON,
    Attachment,
    Conversation,
    Ctx,
    Input,
    Rows,
    Screen,
    Stranger,
    Upload,
)
from bot.handlers.start import NEUTRAL
from bot.i18n import N_, guess_locale, tr
from bot.messenger import Gone
from bot.plain.text import Menu, choice_number, numbered, screen_text, to_input
from bot.redaction import redacted
from bot.services.enrolment import stranger_may_get_reply
from bot.shredder import Shredder
from config import OrgConfig
from storage import Person, Storage
from storage.orgs import Organization

log = logging.getLogger("outreach.plain")
# "#37 2": choice 2 of message #37, a reply that names the message it answers (Signal quotes it).
ADDRESSED = re.compile(r"^#(\d+)\s+(\d+)\.?$")
SORRY = N_("Sorry, something went wrong. Please try again.")
# The engine's words for buttons, as a button-less messenger says them.
INSTEAD = {
    TAP_A_BUTTON: N_("Please reply with one of the numbers above, or send /cancel."),
    STALE: N_("This choice is no longer current."),
}


class Wire(Protocol):
    """One text-only messenger, as the plain adapter needs it."""

    async def send(self, chat_id: int, text: str) -> int:
        """Send a text; its message id."""

    async def edit(self, chat_id: int, message_id: int, text: str) -> bool:
        """Change a message's text; False if the message is gone (a messenger that cannot edit deletes it
        and sends the text anew)."""

    async def delete(self, chat_id: int, message_id: int) -> None:
        """Remove a message from the chat, if the messenger can; one already gone is no error."""

    async def send_file(self, chat_id: int, file: Attachment) -> int:
        """Send a file (a chart, a CSV); its message id."""


class PlainOutput:
    """Shows the engine's screens in one chat as numbered text."""

    def __init__(self, wire: Wire, chat_id: int, locale: str) -> None:
        self.wire = wire
        self.chat_id = chat_id
        self.locale = locale
        self.menus: list[Menu] = []  # the numbered messages shown in this turn

    async def show(self, screen: Screen, *, replace: int | None, drop: bool = False) -> int | None:
        text, codes = screen_text(screen, self.locale)
        message_id = await self.wire.send(self.chat_id, text)
        if codes:
            self.menus.append(Menu(message_id, codes))
        return message_id

    async def say(self, text: str, *, replace: int | None = None, drop: bool = False) -> int | None:
        return await self.wire.send(self.chat_id, self._instead(text))

    async def toast(self, text: str | None = None) -> None:
        if text:  # no small notices on plain messengers: a line instead
            await self.wire.send(self.chat_id, self._instead(text))

    async def send_file(self, file: Attachment) -> int | None:
        return await self.wire.send_file(self.chat_id, file)

    async def forget(self, message_id: int) -> None:
        await self.wire.delete(self.chat_id, message_id)

    def extra(self) -> list[int]:
        return []

    def _instead(self, text: str) -> str:
        for engine_words, plain_words in INSTEAD.items():
            if text == tr(self.locale, engine_words):
                return tr(self.locale, plain_words)
        return text


class PlainAdapter:
    """Feeds one messenger's plain messages to the engine; one instance per running bot."""

    def __init__(
        self,
        wire: Wire,
        engine: Engine,
        storage: Storage,
        config: OrgConfig,
        clock: Clock,
        org: Organization,
        *,
        flush: Callable[[], None] | None = None,
    ) -> None:
        self.wire, self.engine, self.storage, self.config, self.clock, self.org = (
            wire,
            engine,
            storage,
            config,
            clock,
            org,
        )
        self.flush = flush  # sends what a step queued in the outbox (an alert) without waiting for a tick
        # chat id -> the newest message with choices the outbox sent there (an alert's). Kept in memory:
        # after a restart a number answers the conversation's question only.
        self.offers: dict[int, Menu] = {}
        self.shredder: Shredder | None = None  # the running bot's (bot/plain/runtime.py)

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
        """One message from a person (`upload`: the file it carries, if any; `text` is then its caption);
        whatever goes wrong, they get at most one neutral line. Once the key was destroyed from the chat,
        nobody gets anything."""
        if self.silenced:
            return
        locale = self.config.language
        try:
            async with self.storage.db.read() as tx:
                person = await self.storage.people.by_telegram_user(tx, user_id)
            if person is not None and person.status != "active":
                person = None
            locale = person.locale if person is not None else guess_locale(language, self.config.language)
            await self._receive(person, user_id, chat_id, text, locale, message_id, update_id, upload)
        except Exception as exc:
            log.error("Plain message not handled: %s", redacted(exc))
            try:
                await self.wire.send(chat_id, tr(locale, SORRY))
            except Exception as again:  # the messenger may be what failed; never loop on it
                log.warning("Could not send the error notice: %s", redacted(again))

    async def _receive(
        self,
        person: Person | None,
        user_id: int,
        chat_id: int,
        text: str,
        locale: str,
        message_id: int | None,
        update_id: int | None,
        upload: Upload | None = None,
    ) -> None:
        stranger = None
        if person is None:
            words = text.split()
            if not words or words[0].lower() != "/start":  # only an invitation opens this chat
                if await stranger_may_get_reply(self.storage, self.clock, user_id):
                    await self.wire.send(chat_id, tr(locale, NEUTRAL))
                return
            stranger = Stranger(user_id, chat_id, locale)
        if upload is not None:
            inp = Input(FILE, upload=upload, message_id=message_id, update_id=update_id)
        else:
            inp = await self._input(person, chat_id, text, message_id, update_id)
        ctx = Ctx(
            self.storage,
            self.config,
            self.clock,
            self.org,
            person,
            update_id=update_id,
            stranger=stranger,
            shredder=self.shredder,
        )
        out = PlainOutput(self.wire, chat_id, locale)
        handled = await self.engine.handle(ctx, inp, out, flush=self.flush)
        if self.silenced:  # this very message destroyed the key: nothing more is read
            return
        if not handled:
            await self.wire.send(chat_id, tr(locale, STALE if inp.kind == CHOICE else OUT_OF_ORDER))
        if out.menus and person is not None:
            # Choices shown at the end of a one-shot answer (/incident's follow-up) are no question the
            # conversation holds: their numbers answer them until a newer numbered message comes.
            asked = await self.menu(person, chat_id)
            beside = [m for m in out.menus if asked is None or m.message_id != asked.message_id]
            if beside and (asked is None or (beside[-1].message_id or 0) > (asked.message_id or 0)):
                self.offers[chat_id] = beside[-1]

    @property
    def silenced(self) -> bool:
        return self.shredder is not None and self.shredder.shredded is not None

    async def _input(
        self, person: Person | None, chat_id: int, text: str, message_id: int | None, update_id: int | None
    ) -> Input:
        """A reply that is a number of the message the person is looking at is that choice ("#37 2": choice
        2 of message #37, as a quoted reply names it); else as typed."""
        addressed = ADDRESSED.match(text.strip())
        if addressed is not None:
            target = int(addressed[1])
            menu = next((m for m in await self.menus(person, chat_id) if m.message_id == target), None)
            if menu is None:  # no message with choices of that number (any more): "no longer current"
                return Input(CHOICE, "#", on_screen=target, message_id=message_id, update_id=update_id)
            text = addressed[2]
        else:
            menu = await self.menu(person, chat_id)
        number = choice_number(text, menu)
        if menu is not None and number is not None:
            code = menu.codes[number - 1]
            return Input(CHOICE, code, on_screen=menu.message_id, message_id=message_id, update_id=update_id)
        return to_input(text, message_id=message_id, update_id=update_id)

    async def menus(self, person: Person | None, chat_id: int) -> list[Menu]:
        """Every numbered message a reply may address: the conversation's question (or kept line), and the
        newest outbox message with choices (an alert's, a reminder's)."""
        if person is None or self.silenced:
            return []
        asked, offer, _ = await self._menus(person, chat_id)
        return [m for m in (asked, offer) if m is not None]

    async def _menus(self, person: Person, chat_id: int) -> tuple[Menu | None, Menu | None, bool]:
        """The conversation's question, the newest offer, and whether a conversation is under way."""
        offer = self.offers.get(chat_id)
        async with self.storage.db.read() as tx:
            found = await self.storage.conversations.get(tx, person.id)
        conv = Conversation.load(*found) if found else Conversation()
        asked = Menu(conv.screen, tuple(conv.codes), conv.secret) if conv.codes or conv.secret else None
        return asked, offer, conv.flow is not None

    async def menu(self, person: Person | None, chat_id: int) -> Menu | None:
        """The message whose numbers a bare number takes: the question of the conversation the person is
        answering, even when a reminder or an alert with choices came after it (that one is answered
        "#37 1"); with no conversation under way, the newest numbered message."""
        if person is None or self.silenced:
            return None
        asked, offer, answering = await self._menus(person, chat_id)
        if offer is None or (asked is not None and answering and asked.message_id is not None):
            return asked
        if asked is not None and (asked.message_id or 0) > (offer.message_id or 0):
            return asked
        return offer


class PlainMessenger:
    """bot.messenger.Messenger over a `Wire`: what the outbox sends (alerts, reminders, clean-ups), as
    numbered text; a message with choices becomes the one its chat's numbers answer."""

    def __init__(self, wire: Wire, offers: dict[int, Menu]) -> None:
        self.wire = wire
        self.menus = offers

    async def send(self, chat_id: int, text: str, rows: Rows = ()) -> int:
        shown, codes = numbered(text, rows, None)
        message_id = await self.wire.send(chat_id, shown)
        if codes:
            self.menus[chat_id] = Menu(message_id, codes)
        return message_id

    async def edit(self, chat_id: int, message_id: int, text: str, rows: Rows = ()) -> None:
        shown, codes = numbered(text, rows, None)
        if not await self.wire.edit(chat_id, message_id, shown):
            raise Gone("the message is gone")
        menu = self.menus.get(chat_id)
        if menu is not None and menu.message_id == message_id:  # its numbers now stand for its new choices
            self.menus[chat_id] = Menu(message_id, codes)

    async def delete(self, chat_id: int, message_id: int) -> None:
        await self.wire.delete(chat_id, message_id)
        menu = self.menus.get(chat_id)
        if menu is not None and menu.message_id == message_id:
            del self.menus[chat_id]

    async def send_file(self, chat_id: int, file: Attachment) -> int:
        return await self.wire.send_file(chat_id, file)
