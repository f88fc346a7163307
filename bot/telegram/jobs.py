"""The scheduled jobs under python-telegram-bot: its JobQueue runs bot/jobs' plain functions, which
send through the Telegram messenger. What is Telegram's here is the scheduling and the Application's
shared state (bot_data: storage, config, clock, the outbox's lock); the rules are in bot/jobs.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from datetime import time as dt_time
from typing import Any

from bot.jobs import drafts, outbox, retention, ticker, weekly
from bot.messenger import BULK, urgent_as
from bot.telegram.context import BotContext, BotData
from bot.telegram.messenger import TelegramMessenger
from config import OrgConfig

HEARTBEAT_EVERY = 15.0
App = Any  # telegram.ext.Application with our context types (its six type parameters add nothing here)


async def flush(app: App, *, wait: bool = False) -> int:
    """Send what is due in the outbox through Telegram; one flush at a time per Application (its lock)."""
    data: BotData = app.bot_data
    if data.shredder is not None and data.shredder.shredded is not None:
        return 0  # the key was destroyed from the chat: nothing more goes out
    assert data.storage is not None and data.config is not None, "storage is opened in post_init"
    run = outbox.flush(data.storage, data.config, TelegramMessenger(app.bot), data.clock, data.outbox_lock, wait=wait)
    hooks = data.hooks
    if hooks is None:
        return await run
    found_running = data.outbox_lock.locked() and not wait
    start, sent = time.perf_counter(), 0
    try:
        sent = await run
        return sent
    finally:
        hooks.on_flush(time.perf_counter() - start, sent, found_running)


async def tick(context: BotContext) -> None:
    """The escalation job: advance what fell due, send the outbox, then prove we are alive."""
    app, hooks = context.application, context.bot_data.hooks
    if context.bot_data.shredder is not None and context.bot_data.shredder.shredded is not None:
        return  # the key was destroyed from the chat: its job is being removed
    on_step = hooks.on_tick_step if hooks is not None else None
    await ticker.tick(context.storage, context.config, context.clock, lambda: flush(app), on_step)
    beat(context.bot_data)


def beat(data: BotData) -> None:
    """Write the heartbeat file that `outreach-bot health` reads (at most every 15 s: it is a disk write).
    Here because it proves that PTB's JobQueue runs, which is what the health check asks."""
    settings = data.settings
    if settings is None:
        return
    moment = time.time()
    if moment - data.last_beat < HEARTBEAT_EVERY:
        return
    data.last_beat = moment
    path = settings.heartbeat_path
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # every file of the data dir: 0600
    with os.fdopen(fd, "w") as out:
        out.write(f"{moment:.0f}\n")
    os.replace(temporary, path)  # atomic: health never reads half a file


def schedule(app: App) -> None:
    """Start the tick; the first run is immediate so that missed deadlines go out at start."""
    app.job_queue.run_repeating(
        tick,
        interval=ticker.TICK_SECONDS,
        first=0,
        name="escalation",
        job_kwargs={
            "max_instances": 1,  # a slow tick (a long catch-up) is never run twice at once
            "coalesce": True,  # ticks missed meanwhile are one tick, not a burst
            "misfire_grace_time": None,  # a tick that starts late still runs
            "next_run_time": datetime.now(UTC),  # first=0 still waits one interval; a restart must not
        },
    )


async def sweep(context: BotContext) -> None:
    """Every minute: idle conversations ended, report reminders queued (bot.jobs.drafts), and sent."""
    assert context.bot_data.engine is not None, "build_application sets it"
    await drafts.sweep(context.bot_data.engine, context.storage, context.config, context.clock.now())
    await flush(context.application)


async def purge(context: BotContext) -> None:
    """Daily: records past the retention periods (bot.jobs.retention)."""
    await retention.run_purge(context.storage, context.config.retention, context.clock.now())


async def weekly_summaries(context: BotContext) -> None:
    """Weekly: last week's summary to every manager (bot.jobs.weekly)."""
    org = context.bot_data.org
    if org is None:
        return
    messenger = TelegramMessenger(context.bot)
    with urgent_as(BULK):  # after every alert, answer and reminder waiting to go
        await weekly.weekly_summaries(context.storage, context.config, context.clock, messenger, org)


def schedule_reports(app: App, config: OrgConfig) -> None:
    """The weekly summary in the organisation's time zone, the sweep of idle conversations, the purge."""
    assert app.job_queue is not None, "python-telegram-bot[job-queue] is a dependency"
    moment = config.summary_time.replace(tzinfo=config.tz)
    ptb_day = (config.summary_day + 1) % 7  # python-telegram-bot counts days from Sunday = 0
    late_ok = {"misfire_grace_time": None}  # a job that starts late still runs
    app.job_queue.run_daily(weekly_summaries, time=moment, days=(ptb_day,), name="weekly-summary", job_kwargs=late_ok)
    app.job_queue.run_repeating(sweep, interval=60, first=60, name="report-drafts")
    app.job_queue.run_daily(purge, time=dt_time(3, 30, tzinfo=config.tz), name="retention", job_kwargs=late_ok)


async def _flush_requested(app: App) -> None:
    app.bot_data.flush_requested = False  # what is queued from now on needs a flush of its own
    await flush(app)


def request_flush(context: BotContext, since: int | None = None) -> None:
    """Send what a handler just queued, without waiting for the next tick.

    `since`: `storage.outbox.enqueued` before the handler's change; if nothing was queued since,
    there is nothing to send (most check-ins and check-outs queue no message at all). A task rather
    than a scheduler job, and at most one waiting: a burst at shift start shares one flush."""
    if since is not None and context.storage.outbox.enqueued == since:
        return
    if not context.application.running:  # stopping: the queued messages wait in the outbox for the next start
        return
    if not context.bot_data.flush_requested:
        context.bot_data.flush_requested = True
        context.application.create_task(_flush_requested(context.application), name="outbox-flush")
