"""Runs before every other handler: finds the enrolled person, or answers a stranger neutrally."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop

from bot.flows.model import Conversation
from bot.handlers.start import NEUTRAL
from bot.i18n import guess_locale, tr
from bot.redaction import redacted
from bot.services.enrolment import stranger_may_get_reply
from bot.telegram.context import BotContext
from bot.telegram.shred import silenced

log = logging.getLogger("outreach.gate")


async def gate(update: Update, context: BotContext) -> None:
    """Fail closed: if finding the person fails (say, the database), the update goes no further.

    python-telegram-bot carries on with later handler groups after an exception, so an error here
    would otherwise let a stranger's update reach every handler. Once the key was destroyed from
    the chat, nobody gets anything: no answer tells a prober (or a seized phone) more."""
    if silenced(context.bot_data):
        raise ApplicationHandlerStop
    try:
        await _gate(update, context)
    except ApplicationHandlerStop:
        raise
    except Exception as exc:
        log.error("Gate failed, update dropped: %s", redacted(exc))
        raise ApplicationHandlerStop from None


async def _gate(update: Update, context: BotContext) -> None:
    """Attach the enrolled, active person to the context; stop every update from anyone else."""
    if update.edited_message is not None:
        raise ApplicationHandlerStop  # an edit is not a new answer (or command); live-location moves are edits too
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or chat.type != ChatType.PRIVATE or user.is_bot:
        raise ApplicationHandlerStop  # groups, channels, bots: this bot talks only in private chats
    storage = context.storage
    async with storage.db.read() as tx:
        # Their conversation in the same statement: the engine takes it from here (one read per update).
        person, found = await storage.people.with_conversation(tx, user.id, storage.conversations)
    if person is not None and person.status == "active":
        context.person = person
        context.conversation = Conversation.load(*found) if found else Conversation()
        return
    message = update.message
    words = message.text.split() if message is not None and message.text else []  # whitespace-only: no words
    if words and words[0].lower() in ("/start", f"/start@{(context.bot.username or '').lower()}"):
        return  # the start handler enrols with an invite code, or refuses it (not /start@another_bot)
    if update.callback_query is not None:
        await update.callback_query.answer()
    if await stranger_may_get_reply(context.storage, context.clock, user.id):
        locale = guess_locale(user.language_code, context.config.language)
        await context.bot.send_text(chat.id, tr(locale, NEUTRAL))
    raise ApplicationHandlerStop
