"""A missed check-out, end to end in real seconds, as a new user would try it against a local Bot API.

The real `python -m bot run` runs as a subprocess against the HTTP emulator, with the example config and
`grace = "5s"`: a worker checks in at Bar La Luna for "1m" (the shortest time a worker may type) and does
not check out. These are the only tests that wait for real deadlines; the two scenarios (the bot up all
the time, and the bot killed with SIGKILL after the check-in and started again after the deadline) run at
once, each with its own emulator and data directory, so the file takes about 75 s.
"""

from __future__ import annotations

import asyncio
import re
import signal
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.auxil.standin import FakeBotApi, Sent
from tests.auxil.standin.http import BotApiServer
from tests.auxil.subprocess_bot import LISTS, TOKEN, BotProcess, Person, cli, environment, invite, write_config

ESCALATION = {"reminder_before": "20s", "grace": "5s", "ack_timeout": "1h", "repeat_every": "1h"}
DURATION, REMINDER_BEFORE, GRACE = 60.0, 20.0, 5.0  # seconds, as in ESCALATION and the typed "1m"
PLACE = "Bar La Luna"  # hotspot 1 of config/org.example.toml; no partner needed there
ALERT = "Missed check-out"
WITHIN_AFTER_CHECKIN = 80.0  # the promise to supervisors
LATE_AT_MOST = 10.0  # how long after deadline + grace the alert may reach them
SETTLE = 3.0  # more ticks (one a second) after the last expected message, to see nothing is sent twice


@dataclass
class Installation:
    api: FakeBotApi
    bot: BotProcess
    worker: Person
    supervisor: Person
    worker_code: str  # like W-AB12: what supervisors see instead of a name


@asynccontextmanager
async def installation(tmp: Path, worker_id: int, supervisor_id: int) -> AsyncIterator[Installation]:
    """An emulator, `init`, two invites, the bot running, a worker and a supervisor of team north enrolled."""
    api = FakeBotApi()
    server = BotApiServer(api, TOKEN)
    await server.start()
    env = environment(tmp, server, write_config(tmp / "org.toml", ESCALATION))
    bot = BotProcess(env, api, tmp / "run.log")
    try:
        rc, _, err = await cli(env, "init", "--import-lists", str(LISTS))
        assert rc == 0, err
        worker_invite = await invite(env, "worker", "north")
        supervisor_invite = await invite(env, "supervisor", "north")
        await bot.start()
        worker = Person(api, worker_id, "Wqxzvbn")
        supervisor = Person(api, supervisor_id, "Sjkfmtp")
        consent = await worker.enrol(worker_invite)
        await supervisor.enrol(supervisor_invite)
        found = re.search(r"\bW-[A-Z0-9]{4}\b", consent.text or "")
        assert found, consent.text
        yield Installation(api, bot, worker, supervisor, found.group())
    finally:
        await bot.aclose()
        await server.stop()


async def check_in(worker: Person) -> tuple[float, Sent]:
    """/checkin at Bar La Luna, alone, typed "1m", location skipped: (when Skip was tapped, the confirmation)."""
    worker.say("/checkin")
    worker.tap(await worker.receive("Where are you going?"), "ci:place:1")
    worker.tap(await worker.receive("Who is with you?"), "ci:partner:alone")
    await worker.receive("How long will you stay?")
    worker.say("1m")
    tapped = worker.tap(await worker.receive_button("ci:loc:skip"), "ci:loc:skip")
    confirmation = await worker.receive(f"Checked in at {PLACE} until")
    return tapped, confirmation


async def acknowledge_then_check_out_late(inst: Installation, alert: Sent) -> None:
    """The supervisor taps "I'm handling it"; the worker then checks out, and the supervisor hears of it."""
    supervisor, worker = inst.supervisor, inst.worker
    ack = [data for _, data in alert.buttons if data.startswith("ack:")]
    assert len(ack) == 1 and any(data.startswith("safe:") for _, data in alert.buttons), alert.buttons
    supervisor.tap(alert, ack[0])
    await supervisor.receive("Thank you. The others are told that you are handling it.")

    worker.say("/checkout")
    question = await worker.receive("Are you safe?")
    fine = question.buttons[0][1]
    assert fine.startswith("co:fine:"), question.buttons
    worker.tap(question, fine)
    await worker.receive("Checked out. Thank you, take care.")
    await supervisor.receive(f"{inst.worker_code} checked out. The alert is closed.")


def assert_alert_text(inst: Installation, alert: Sent) -> None:
    assert alert.text is not None
    assert alert.text.startswith(f"{ALERT}: {inst.worker_code} at {PLACE}."), alert.text


def assert_sent_once(inst: Installation) -> None:
    """One alert to the supervisor, one "time is over" prompt to the worker, over the whole run."""
    alerts = inst.supervisor.messages(ALERT)
    assert len(alerts) == 1, [s.text for s in alerts]
    over = inst.worker.messages(f"Your time at {PLACE} is over")
    assert len(over) == 1, [s.text for s in over]
    assert len(inst.worker.messages("Checked in at")) == 1  # no update was handled twice after the restart


async def stop_cleanly(inst: Installation) -> None:
    rc = await inst.bot.terminate()
    log = inst.bot.log()
    assert rc == 0, log
    assert "Traceback" not in log, log


async def bot_up_all_along(tmp: Path, timings: dict[str, float]) -> None:
    async with installation(tmp, 7_418_260_935, 8_530_174_926) as inst:
        worker, supervisor = inst.worker, inst.supervisor
        tapped, confirmation = await check_in(worker)
        due = tapped + DURATION + GRACE  # the check-in's clock reading is a little later than `tapped`

        reminder = await worker.receive(f"Reminder: your time at {PLACE} ends at", within=DURATION)
        over = await worker.receive(f"Your time at {PLACE} is over", within=DURATION)
        alert = await supervisor.receive(ALERT, within=confirmation.at + WITHIN_AFTER_CHECKIN - time.monotonic())
        assert reminder.at >= tapped + DURATION - REMINDER_BEFORE - 1, reminder.at - tapped
        assert over.at >= tapped + DURATION - 1, over.at - tapped
        assert alert.at - confirmation.at <= WITHIN_AFTER_CHECKIN
        assert alert.at >= due - 1, f"alert {due - alert.at:.1f} s before deadline + grace"
        assert alert.at - due < LATE_AT_MOST, f"alert {alert.at - due:.1f} s after deadline + grace"
        assert_alert_text(inst, alert)
        assert supervisor.messages(ALERT) == [alert]
        timings.update(
            up_checkin_to_alert=alert.at - confirmation.at,
            up_alert_after_due=alert.at - due,
            up_reminder_after_checkin=reminder.at - tapped,
            up_over_after_checkin=over.at - tapped,
        )

        await acknowledge_then_check_out_late(inst, alert)
        await asyncio.sleep(SETTLE)
        assert_sent_once(inst)
        await stop_cleanly(inst)


async def bot_killed_after_checkin(tmp: Path, timings: dict[str, float]) -> None:
    async with installation(tmp, 7_602_851_394, 8_941_306_275) as inst:
        worker, supervisor = inst.worker, inst.supervisor
        tapped, confirmation = await check_in(worker)
        due = tapped + DURATION + GRACE
        assert await inst.bot.kill() == -signal.SIGKILL

        await asyncio.sleep(max(0.0, due + 1 - time.monotonic()))  # down through the deadline and the grace
        assert not supervisor.messages(ALERT) and not worker.messages("is over")
        await inst.bot.start()
        alert = await supervisor.receive(ALERT, within=30)
        assert alert.at - inst.bot.started_at <= 30
        assert alert.at - confirmation.at <= WITHIN_AFTER_CHECKIN
        assert alert.at - due < LATE_AT_MOST, f"alert {alert.at - due:.1f} s after deadline + grace"
        assert_alert_text(inst, alert)
        over = await worker.receive(f"Your time at {PLACE} is over", within=5)
        assert over.at >= inst.bot.started_at
        assert not worker.messages("Reminder:")  # after downtime the ladder jumps, it does not replay
        timings.update(
            kill9_checkin_to_alert=alert.at - confirmation.at,
            kill9_alert_after_due=alert.at - due,
            kill9_alert_after_restart=alert.at - inst.bot.started_at,
        )

        await acknowledge_then_check_out_late(inst, alert)
        await asyncio.sleep(SETTLE)
        assert_sent_once(inst)
        await stop_cleanly(inst)


async def test_missed_checkout_reaches_the_supervisor_in_real_time_also_across_kill_9(tmp_path: Path) -> None:
    timings: dict[str, float] = {}
    async with asyncio.TaskGroup() as scenarios:
        scenarios.create_task(bot_up_all_along(tmp_path / "up", timings))
        scenarios.create_task(bot_killed_after_checkin(tmp_path / "kill9", timings))
    print("\n" + "\n".join(f"{name}: {seconds:.2f} s" for name, seconds in timings.items()))
