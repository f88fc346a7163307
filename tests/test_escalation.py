"""The escalation ladder, moved by a fake clock: reminder, due prompt, alert, managers, repeats."""

from __future__ import annotations

from datetime import timedelta

from tests.auxil.harness import Chatter, Harness
from tests.auxil.standin import Sent
from tests.test_checkin import check_in


def the_alert(sent: list[Sent]) -> Sent:
    """The one alert among what a tick sent (it goes before the worker's prompt: alerts first)."""
    [alert] = [s for s in sent if (s.text or "").startswith("Missed check-out")]
    return alert


async def _team(harness: Harness) -> tuple[Chatter, Chatter, Chatter]:
    supervisor = await harness.enrol("supervisor", "north")
    manager = await harness.enrol("manager")
    worker = await harness.enrol("worker", "north")
    return worker, supervisor, manager


async def _alert_id(harness: Harness, worker: Chatter) -> str:
    async with harness.storage.db.read() as tx:
        checkin = await harness.storage.checkins.open_for(tx, worker.person.id)
        alert = await harness.storage.alerts.active_for_checkin(tx, checkin.id)
    return alert.id


async def test_ladder_reminder_due_alert_managers_and_repeats(harness: Harness) -> None:
    worker, supervisor, manager = await _team(harness)
    await check_in(worker, duration="ci:dur:60", location=(14.6, -90.5))
    assert await harness.tick() == []
    harness.clock.advance(timedelta(minutes=55))  # reminder_before = 5m
    sent = await harness.tick()
    assert [s.chat_id for s in sent] == [worker.chat_id] and sent[0].text.startswith("Reminder: your time at")
    assert await harness.tick() == []  # nothing twice
    harness.clock.advance(timedelta(minutes=5))
    sent = await harness.tick()
    assert [s.chat_id for s in sent] == [worker.chat_id] and "Check out, or extend?" in sent[0].text
    harness.clock.advance(timedelta(minutes=9, seconds=59))
    assert await harness.tick() == []
    harness.clock.advance(timedelta(seconds=1))  # grace = 10m
    sent = await harness.tick()
    assert [s.chat_id for s in sent] == [supervisor.chat_id]
    alert = sent[0]
    assert alert.text.startswith(f"Missed check-out: {worker.person.code} at Bar La Luna.")
    assert "With: alone" in alert.text and "Last location: 14.60000, -90.50000" in alert.text
    assert [label for label, _ in alert.buttons] == ["I'm handling it", "Reached them, they are safe"]
    harness.clock.advance(timedelta(minutes=5))  # repeat_every
    sent = await harness.tick()
    assert [s.chat_id for s in sent] == [supervisor.chat_id] and sent[0].text.startswith("Still no answer (reminder 1)")
    harness.clock.advance(timedelta(minutes=10))  # ack_timeout = 15m after the alert: managers too
    sent = await harness.tick()
    assert sorted(s.chat_id for s in sent) == sorted([manager.chat_id, supervisor.chat_id])
    assert "Nobody has acknowledged this yet." in next(s.text for s in sent if s.chat_id == manager.chat_id)
    # Acknowledging stops the repeats and tells the other recipients.
    sent = await supervisor.tap(alert, alert.buttons[0][1])
    assert sent[-1].chat_id == manager.chat_id and sent[-1].text.startswith(f"{supervisor.person.code} is handling")
    harness.clock.advance(timedelta(minutes=30))
    assert await harness.tick() == []
    # The late check-out closes the alert and reaches whoever was alerted.
    question = (await worker.say("/checkout"))[-1]
    answered = await worker.tap(question, question.buttons[0][1])
    told = [s for s in answered if s.chat_id in (supervisor.chat_id, manager.chat_id)]
    closed = [s for s in told if s.method == "sendMessage"]  # (the alerts' location is edited out: see below)
    assert sorted(s.chat_id for s in closed) == sorted([supervisor.chat_id, manager.chat_id])
    assert all(s.text == f"{worker.person.code} checked out. The alert is closed." for s in closed)
    edited = [s for s in told if s.method == "editMessageText"]  # every alert message that showed it
    assert edited and all("14.60000" not in s.text and s.text.startswith("Alert closed.") for s in edited)


async def test_every_step_is_recorded_with_its_time(harness: Harness) -> None:
    worker, supervisor, _ = await _team(harness)
    await check_in(worker, duration="ci:dur:30")
    harness.clock.advance(timedelta(minutes=40))
    alert = the_alert(await harness.tick())
    harness.clock.advance(timedelta(minutes=1))
    await supervisor.tap(alert, alert.buttons[1][1])  # reached them, they are safe
    alert_id = alert.buttons[1][1].removeprefix("safe:")
    async with harness.storage.db.read() as tx:
        stored = await harness.storage.alerts.get(tx, alert_id)
        history = await harness.storage.alerts.history(tx, alert_id)
        checkin = await harness.storage.checkins.get(tx, stored.checkin_id)
    assert stored.status == "resolved" and stored.resolution == "reached_safe"
    assert stored.acknowledged_by == supervisor.person.id and stored.resolved_by == supervisor.person.id
    assert checkin.status == "closed" and checkin.outcome == "resolved_by_supervisor"
    events = [e.event for e in history]
    assert (
        events[:3] == ["raised", "told", "sent:alert"]
        and "acknowledged" in events
        and "resolved:reached_safe" in events
    )
    assert history[0].at < history[-1].at


async def test_extend_after_alert_closes_it_and_no_supervisor_goes_to_managers(harness: Harness) -> None:
    manager = await harness.enrol("manager")
    worker = await harness.enrol("worker", "lonely")
    await check_in(worker, duration="ci:dur:30")
    harness.clock.advance(timedelta(minutes=45))
    sent = await harness.tick()
    # The tick jumped straight past the deadline: the worker still gets the prompt, the alert goes
    # to the managers at once because the team has no supervisor.
    assert [(s.chat_id, s.text.split(":")[0]) for s in sent] == [
        (manager.chat_id, "Missed check-out"),  # alerts go first (the outbox sends by urgency)
        (worker.chat_id, "Your time at Bar La Luna is over (6"),
    ]
    question = (await worker.say("/extend"))[-1]
    await worker.tap(question, question.buttons[0][1])  # +30 min: a sign of life
    assert manager.last().text == f"{worker.person.code} answered and extended their time. The alert is closed."


async def test_stale_and_foreign_alert_buttons_change_nothing(harness: Harness) -> None:
    worker, supervisor, manager = await _team(harness)
    other_supervisor = await harness.enrol("supervisor", "south")
    await check_in(worker, duration="ci:dur:30")
    harness.clock.advance(timedelta(minutes=45))
    alert = the_alert(await harness.tick())
    alert_id = alert.buttons[0][1].removeprefix("ack:")
    sent = await other_supervisor.tap_forged(f"ack:{alert_id}")
    assert sent[-1].text == "This button is no longer current."
    sent = await worker.tap_forged(f"safe:{alert_id}")
    assert sent[-1].text == "This button is no longer current."
    async with harness.storage.db.read() as tx:
        assert (await harness.storage.alerts.get(tx, alert_id)).status == "open"
    await supervisor.tap(alert, f"ack:{alert_id}")
    sent = await manager.tap_forged(f"ack:{alert_id}")
    assert sent[-1].text == f"{supervisor.person.code} is already handling it."


async def test_team_lists_overdue_first_and_acknowledges(harness: Harness) -> None:
    supervisor = await harness.enrol("supervisor", "north")
    late, early = await harness.enrol("worker", "north"), await harness.enrol("worker", "north")
    await check_in(late, duration="ci:dur:30")
    await check_in(early, place="ci:place:0", partner=f"ci:partner:{late.person.id}", duration="ci:dur:180")
    harness.clock.advance(timedelta(minutes=45))
    await harness.tick()
    sent = await supervisor.say("/team")
    lines = sent[-1].text.splitlines()
    assert lines[0] == "Out now: 2"
    assert lines[1].startswith(f"• {late.person.code} · Bar La Luna · alone") and "LATE 15 min" in lines[1]
    assert lines[2].startswith(f"• {early.person.code} · Parque Central · {late.person.code}")
    assert sent[-1].buttons == [(f"I'm handling {late.person.code}", f"ack:{await _alert_id(harness, late)}")]
    await supervisor.tap(sent[-1], sent[-1].buttons[0][1])
    alert_id = await _alert_id(harness, late)
    async with harness.storage.db.read() as tx:
        assert (await harness.storage.alerts.get(tx, alert_id)).acknowledged_by == supervisor.person.id
    sent = await supervisor.say("/team")
    assert sent[-1].buttons == [(f"{late.person.code} is safe", f"safe:{alert_id}")]
    await supervisor.tap(sent[-1], f"safe:{alert_id}")
    assert (await supervisor.say("/team"))[-1].text.splitlines()[0] == "Out now: 1"


async def test_team_of_a_whole_organisation_at_shift_start_fits_telegram(harness: Harness) -> None:
    # 120 workers out and overdue: more lines than one message holds and more alerts than one keyboard.
    manager = await harness.enrol("manager")
    await harness.enrol("supervisor", "north")
    workers = [await harness.enrol("worker", "north") for _ in range(120)]
    for worker in workers:
        await check_in(worker, duration="ci:dur:30")
    harness.clock.advance(timedelta(minutes=45))
    await harness.tick()
    shown = await manager.say("/team")
    assert len(shown) >= 2 and all(len(s.text) <= 4096 for s in shown) and not harness.errors
    lines = "\n".join(s.text for s in shown).splitlines()
    assert lines[0] == "Out now: 120" and len(lines) == 123
    assert {line.split(" · ")[0] for line in lines[1:121]} == {f"• {w.person.code}" for w in workers}
    assert lines[-1] == "Buttons for the first 50 only. Handle them, then send /team again."
    assert [len(s.buttons) for s in shown] == [0] * (len(shown) - 1) + [50]
    sent = await manager.tap(shown[-1], shown[-1].buttons[0][1])  # the buttons on the last piece work
    assert not harness.errors and sent


async def test_revoking_a_person_closes_the_alert_about_them_and_says_why(harness: Harness) -> None:
    """A person is often revoked because their phone was taken: the alert about them must not go quiet
    without a word. Revoking closes it (issue 14) and tells everyone who was alerted why, and to reach the
    person another way; the alert's buttons then say it is closed."""
    from bot.services.enrolment import revoke

    worker, supervisor, _ = await _team(harness)
    await check_in(worker, duration="ci:dur:30")
    harness.clock.advance(timedelta(minutes=40))  # 30 min + grace 10 min
    sent = await harness.tick()
    alert = next(s for s in sent if s.chat_id == supervisor.chat_id)
    assert alert.text.startswith("Missed check-out")
    assert await revoke(harness.storage, harness.app.bot_data.org, worker.person.code, harness.clock.now())
    harness.clock.advance(timedelta(minutes=5))
    sent = [s for s in await harness.tick() if s.method == "sendMessage"]
    assert [s.chat_id for s in sent] == [supervisor.chat_id]
    assert sent[0].text == (
        f"The alert about {worker.person.code} is closed because an admin revoked their access to this bot."
        " If they may still be in danger, reach them another way."
    )
    sent = await supervisor.tap(alert, alert.buttons[1][1])  # "Reached them, they are safe"
    assert sent[-1].text == "This alert is already closed."
    harness.clock.advance(timedelta(minutes=30))
    assert await harness.tick() == []
