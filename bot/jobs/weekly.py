"""The weekly summary: last week's, text and chart, to every manager (scheduled by bot/telegram/jobs.py)."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.clock import Clock
from bot.flows.model import Attachment
from bot.messenger import Messenger, MessengerError
from bot.services.summary import this_week
from bot.services.summary_message import summary_message
from config import OrgConfig
from storage import Storage
from storage.orgs import Organization

log = logging.getLogger("outreach.reports")
CHART = "incidents.png"


async def weekly_summaries(
    storage: Storage, config: OrgConfig, clock: Clock, messenger: Messenger, org: Organization
) -> None:
    """Last week's summary to every manager of `org`; one failure does not stop the others."""
    week = this_week(clock.now(), config.tz) - timedelta(weeks=1)
    async with storage.db.read() as tx:
        managers = await storage.people.with_role(tx, org.id, "manager")
    for manager in managers:
        try:
            text, png = await summary_message(storage, config, manager, week, clock.now().astimezone(config.tz).date())
            await messenger.send(manager.chat_id, text)
            await messenger.send_file(manager.chat_id, Attachment("photo", png, CHART))
        except MessengerError as exc:
            log.warning("Weekly summary not delivered: %s", type(exc).__name__)
