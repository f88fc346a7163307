"""Alerts first, under Telegram's real limits; start-up that never blocks on cosmetics.

The stand-in answers 429 past Telegram's limits (FloodLimits: 30/s per bot, 1/s per chat with a short
burst, 20/min per group) and the bot runs with its send budget on (bot/sendlimit.py,
bot/telegram/limiter.py). These limits are real time: the tests wait for deliveries (never for a
deadline: the clock that deadlines follow is the fake one)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path

import pytest
from telegram import Update

from bot.telegram import jobs
from tests.auxil.harness import Chatter, Harness
from tests.auxil.standin import FloodLimits, Sent
from tests.test_checkin import check_in


async def until(predicate: Callable[[], bool], within: float = 20.0) -> None:
    """Wait (real time) until predicate() holds; fail after `within` seconds."""
    end = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < end, "not within the time given"
        await asyncio.sleep(0.01)


def urgent(h: Harness, chat_id: int) -> list[Sent]:
    return [s for s in h.api.to(chat_id) if (s.text or "").startswith("URGENT")]


def shown_to(h: Harness, chat_ids: set[int], since: int = 0) -> list[Sent]:
    return [s for s in h.api.sent[since:] if s.chat_id in chat_ids and s.shows]


async def push(h: Harness, chatter: Chatter, text: str) -> None:
    """A message as it arrives from Telegram: queued for the update processor, not awaited."""
    await h.app.update_queue.put(Update.de_json(chatter.factory.text(text), h.app.bot))


@pytest.fixture
async def limited(tmp_path: Path) -> AsyncIterator[Harness]:
    h = Harness(tmp_path, rate_limit=True)
    h.api.limits = FloodLimits()
    await h.start()
    try:
        yield h
    finally:
        await h.stop()
    assert not h.errors, f"handlers raised: {h.errors!r}"


async def backlog(h: Harness, people: int, each: int) -> set[int]:
    """`each` routine messages (a note's reminder) queued for each of `people` workers; their chats."""
    org, now = h.app.bot_data.org, h.clock.now()
    chats = set()
    async with h.storage.db.tx() as tx:
        team = await h.storage.orgs.team_get_or_create(tx, org.id, "south", now)
        for n in range(people):
            uid = 900_000_001 + n
            person = await h.storage.people.create(
                tx,
                org_id=org.id,
                team_id=team.id,
                role="worker",
                telegram_user_id=uid,
                chat_id=uid,
                locale="en",
                now=now,
            )
            chats.add(uid)
            for k in range(each):
                await h.storage.outbox.enqueue(
                    tx, key=f"routine:{n}:{k}", recipient_id=person.id, kind="draft_reminder", params={}, now=now
                )
    return chats


async def test_a_red_alert_overtakes_a_backlog_within_the_limits(limited: Harness) -> None:
    h = limited
    supervisor = await h.enrol("supervisor", "north")
    worker = await h.enrol("worker", "north")
    chats = await backlog(h, people=40, each=3)
    flushing = asyncio.create_task(jobs.flush(h.app, wait=True))
    await until(lambda: len(shown_to(h, chats)) >= 30)  # the backlog is going out, at the bot's limit
    raised = time.monotonic()
    await push(h, worker, "buy bread")
    await until(lambda: bool(urgent(h, supervisor.chat_id)), within=5)
    alert = urgent(h, supervisor.chat_id)[0]
    routine_before = len([s for s in shown_to(h, chats) if s.at < alert.at])
    await flushing
    routine = shown_to(h, chats)
    assert alert.at - raised < 1.0, f"the alert took {alert.at - raised:.2f} s"
    assert len(routine) - routine_before >= 40, "the alert did not overtake the backlog"
    assert len(routine) == 120 and len({s.message_id for s in routine}) == 120  # all of it, once each
    assert len(urgent(h, supervisor.chat_id)) == 1
    assert h.api.limits is not None and h.api.limits.refused == []  # not one 429


async def test_a_429_is_waited_out_in_full_and_the_answer_still_arrives(
    limited: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    h = limited
    worker = await h.enrol("worker", "north")
    refused: list[float] = []

    def once(method: str, params: dict) -> tuple[int, dict] | None:
        if method == "sendMessage" and not refused:
            refused.append(time.monotonic())
            body = {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 2"}
            return 429, body | {"parameters": {"retry_after": 2}}
        return None

    h.api.fail = once
    before = len(h.api.sent)
    await worker.say("/help")
    answers = shown_to(h, {worker.chat_id}, before)
    assert refused and answers, "the answer was dropped"
    assert answers[0].at - refused[0] >= 2.0, "sent again before retry_after"
    assert not [r for r in caplog.records if "error notice" in r.getMessage()]


async def test_a_burst_of_quick_messages_loses_no_answer(limited: Harness) -> None:
    h = limited
    worker = await h.enrol("worker", "north")
    before = len(h.api.sent)
    for _ in range(8):
        await push(h, worker, "/status")
    await until(lambda: len([s for s in h.api.sent[before:] if s.method == "sendMessage"]) >= 8)
    assert h.api.limits is not None and h.api.limits.refused == []


async def test_without_the_budget_the_same_burst_meets_429s(tmp_path: Path) -> None:
    """The stand-in's limits bite: the bot without its send budget is refused (the old way lost answers)."""
    h = Harness(tmp_path)
    await h.start()
    try:
        worker = await h.enrol("worker", "north")
        h.api.limits = FloodLimits()
        for _ in range(8):
            await push(h, worker, "/status")
        await until(lambda: bool(h.api.limits and h.api.limits.refused), within=10)
    finally:
        await h.stop()


async def test_a_failing_command_menu_never_stops_start_up(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    h = Harness(tmp_path)
    failure = {"ok": False, "error_code": 400, "description": "Bad Request: BOT_COMMAND_INVALID"}
    h.api.fail = lambda method, params: (400, failure) if method == "setMyCommands" else None
    await h.start()
    try:
        worker = await h.enrol("worker", "north")  # the bot runs and answers
        assert worker.last().text
        await until(lambda: any("command menu" in r.getMessage() for r in caplog.records), within=5)
        lines = [r for r in caplog.records if "command menu" in r.getMessage()]
        assert all(r.exc_info is None and r.levelno == logging.WARNING for r in lines)  # no traceback
    finally:
        await h.stop()
    assert not h.errors


async def test_api_down_at_start_retries_then_alerts_what_fell_due_meanwhile(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first = Harness(tmp_path)
    await first.start()
    supervisor = await first.enrol("supervisor", "north")
    worker = await first.enrol("worker", "north")
    await check_in(worker, duration="ci:dur:60")
    await first.stop()

    clock, waits = first.clock, []

    async def waited(seconds: float) -> None:  # start-up's wait between tries: half an hour passes each
        waits.append(seconds)
        clock.advance(timedelta(minutes=30))

    h = Harness(tmp_path, start_sleep=waited)
    h.clock = clock
    h.app.bot_data.clock = clock
    h.api.fail = lambda method, params: (0, {}) if len(waits) < 4 else None  # no connection at all
    caplog.clear()
    await h.start()
    try:
        tries = [r.getMessage() for r in caplog.records if "Bot API is unreachable" in r.getMessage()]
        assert len(tries) == 4 and waits == [1, 2, 4, 8], tries  # one line a try, backing off
        assert all(r.exc_info is None for r in caplog.records if "unreachable" in r.getMessage())
        await h.tick()  # the tick after connecting (its first run may have come first): the deadline passed 2 h ago
        sent = h.api.sent
        assert [s for s in sent if s.chat_id == supervisor.chat_id and (s.text or "").startswith("Missed check-out")]
        assert [s for s in sent if s.chat_id == worker.chat_id and s.shows]  # the worker's prompt too
    finally:
        await h.stop()
    assert not h.errors
