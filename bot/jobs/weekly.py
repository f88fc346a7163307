"""The scheduled weekly summary: last week's, text and chart, to every manager."""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram.error import TelegramError

from bot.services.summary import this_week
from bot.services.summary_message import summary_message
from bot.telegram.context import BotContext

log = logging.getLogger("outreach.reports")


async def weekly_summaries(context: BotContext) -> None:
    """The scheduled job: last week's summary to every manager; one failure does not stop the others."""
    org = context.bot_data.org
    if org is None:
        return
    week = this_week(context.clock.now(), context.config.tz) - timedelta(weeks=1)
    async with context.storage.db.read() as tx:
        managers = await context.storage.people.with_role(tx, org.id, "manager")
    for manager in managers:
        try:
            text, png = await summary_message(context.storage, context.config, manager, week)
            await context.bot.send_message(chat_id=manager.chat_id, text=text)
            await context.bot.send_photo(chat_id=manager.chat_id, photo=png, filename="incidents.png")
        except TelegramError as exc:
            log.warning("Weekly summary not delivered: %s", type(exc).__name__)
