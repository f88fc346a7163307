"""The running Telegram bot's side of a shred from the chat (bot/shredder.py): once the key is
destroyed it answers nobody, its jobs stop touching the data, and `outreach-bot run` ends."""

from __future__ import annotations

import base64
import dataclasses
import logging
from typing import Any

from bot.logs import forget_secret
from bot.shredder import Shredder
from bot.telegram.context import BotData
from bot.telegram.messenger import TelegramMessenger

log = logging.getLogger("outreach.shred")
App = Any  # telegram.ext.Application with our context types


def make_shredder(app: App) -> Shredder:
    """The Shredder of this Application, with its way to fall silent."""
    data: BotData = app.bot_data
    assert data.settings is not None
    return Shredder(data.settings, lambda: silence(app), TelegramMessenger(app.bot))


def silenced(data: BotData) -> bool:
    """Whether the key was destroyed: the gate, the error handler and the jobs then do nothing."""
    return data.shredder is not None and data.shredder.shredded is not None


def silence(app: App) -> None:
    """No job runs again, and the Application drops its own references to the key."""
    data: BotData = app.bot_data
    if app.job_queue is not None:
        for job in app.job_queue.jobs():
            job.schedule_removal()
    if data.key is not None:
        forget_secret(base64.b64encode(data.key).decode())
        data.key = None  # bytes cannot be overwritten: the reference goes (see Sealer.forget)
    if data.settings is not None and data.settings.key_b64:
        forget_secret(data.settings.key_b64)
        data.settings = dataclasses.replace(data.settings, key_b64=None)


def stop_if_polling(app: App) -> None:
    """End `outreach-bot run` once the admin's last line is sent. Only when polling: a test or an
    embedding that drives the Application itself keeps its event loop (stop_running stops the loop)."""
    if app.updater is not None and app.updater.running:
        app.stop_running()
