"""The check-out PIN and the duress PIN at the edges: a closed check-in, an abandoned /pin, digits of
other scripts, failed replies, updates Telegram sends twice, a worker who moved on, an old question."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.auxil.harness import Chatter, Harness
from tests.test_alert_codes import HINT, _config, _is_open, _people, _set_pins, _urgent
from tests.test_checkin import check_in

NOT_RIGHT = "That PIN is not right. Try again."


@pytest.fixture
async def h(tmp_path: Path):
    harness = Harness(tmp_path, _config(checkout={"pin": True}))
    await harness.start()
    yield harness
    await harness.stop()


async def _asked(worker: Chatter, choice: int = 0) -> None:
    """Check in, /checkout, answer "Are you safe?" (0: fine, 1: something happened): "Type your PIN."."""
    await check_in(worker)
    question = (await worker.say("/checkout"))[-1]
    assert (await worker.tap(question, question.buttons[choice][1]))[-1].text == "Type your PIN."


async def test_the_duress_pin_alerts_when_the_checkin_closes_meanwhile(h: Harness) -> None:
    worker, supervisor, _ = await _people(h)
    await _set_pins(worker)
    await check_in(worker)
    handle = h.api.handle

    async def close_first(method: str, params: dict) -> tuple[int, dict]:
        if method == "deleteMessage":  # a supervisor's "is safe" lands while the PIN leaves the screen
            async with h.storage.db.tx() as tx:
                current = await h.storage.checkins.open_for(tx, worker.person.id)
                await h.storage.checkins.close(tx, current.id, "fine", h.clock.now())
        return await handle(method, params)

    h.api.handle = close_first  # type: ignore[method-assign]
    await worker.say("1379")
    assert len(_urgent(h, supervisor.chat_id)) == 1 and not h.errors


async def test_an_abandoned_pin_change_does_not_hide_the_duress_pin(h: Harness) -> None:
    worker, supervisor, _ = await _people(h)
    await _set_pins(worker)
    await check_in(worker)
    await worker.say("/pin")  # and never finished
    h.clock.advance(timedelta(minutes=30))
    await worker.say("1379")
    assert len(_urgent(h, supervisor.chat_id)) == 1 and not await _is_open(h, worker)


async def test_pins_in_arabic_indic_digits(h: Harness) -> None:
    worker, supervisor, _ = await _people(h)
    await worker.say("/pin")
    await worker.say("٤٨٢١")  # 4821
    await worker.say("١٣٧٩")  # 1379
    assert (await worker.say("١٣٧٩"))[-1].text.startswith("Your PINs are saved.")
    await _asked(worker)
    assert (await worker.say("4821"))[-1].text == "Checked out. Thank you, take care."
    await check_in(worker)
    await worker.say("١٣٧٩")
    assert len(_urgent(h, supervisor.chat_id)) == 1 and not await _is_open(h, worker)
    assert not h.errors


async def test_a_failed_reply_does_not_hand_the_pin_to_a_report(h: Harness) -> None:
    worker, supervisor, _ = await _people(h)
    await _set_pins(worker)
    sent = await worker.say("/report")
    for data in ("rp:category:theft", "rp:affected:me", "rp:when:now", "rp:where:h1", "rp:perpetrator:police"):
        sent = await worker.tap(sent[-1], data)
    sent = await worker.tap(sent[-1], "rp:severity:3")  # now the report waits for the worker's own words
    h.api.fail = lambda method, params: (
        (502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}) if method == "sendMessage" else None
    )
    await worker.say("1379")
    h.api.fail = None
    assert len(_urgent(h, supervisor.chat_id)) == 0  # its message failed too; the alert is in the outbox
    async with h.storage.db.read() as tx:
        draft = await h.storage.incidents.draft(tx, worker.person.id)
        assert "1379" not in str(draft)
        assert [a.kind for a in await h.storage.alerts.active_for_person(tx, worker.person.id, "duress")] == ["duress"]
    assert h.errors  # the failed reply was reported, not swallowed
    h.errors.clear()


async def test_a_wrong_pin_sent_twice_by_telegram_counts_once(h: Harness) -> None:
    worker, supervisor, _ = await _people(h)
    await _set_pins(worker)
    await _asked(worker)
    await worker.say("0000")
    again = worker.factory.text("1111")
    assert (await h.feed(again))[-1].text == NOT_RIGHT
    await h.feed(again)  # Telegram sends it again...
    await h.restart()
    await h.feed(again)  # ...and again after a crash: still two wrong, not four
    assert _urgent(h, supervisor.chat_id) == [] and await _is_open(h, worker)
    shown = [s.text for s in await worker.say("2222") if s.chat_id == worker.chat_id and s.shows]
    assert shown == ["Checked out. Thank you, take care."]  # the third: duress
    assert len(_urgent(h, supervisor.chat_id)) == 1 and not await _is_open(h, worker)


async def test_asking_again_keeps_the_wrong_tries(h: Harness) -> None:
    worker, supervisor, _ = await _people(h)
    await _set_pins(worker)
    await check_in(worker)
    question = (await worker.say("/checkout"))[-1]
    await worker.tap(question, question.buttons[0][1])
    await worker.say("0000")
    await worker.say("1111")
    await worker.tap(question, question.buttons[0][1])  # tapping "I'm fine" again does not wipe them
    await worker.say("2222")
    assert len(_urgent(h, supervisor.chat_id)) == 1 and not await _is_open(h, worker)


async def test_digits_for_a_report_after_the_question_are_not_wrong_pins(h: Harness) -> None:
    worker, supervisor, _ = await _people(h)
    await _set_pins(worker)
    await _asked(worker)
    sent = await worker.say("/report")  # the worker moved on
    for data in ("rp:category:theft", "rp:affected:me", "rp:when:date"):
        sent = await worker.tap(sent[-1], data)
    for digits in ("0000", "1111", "2222"):  # dates, badly typed: the report answers, no PIN counted
        assert (await worker.say(digits))[-1].text.startswith("Write the date like")
    assert _urgent(h, supervisor.chat_id) == [] and await _is_open(h, worker)


async def test_the_choice_shapes_the_duress_checkout_until_the_question_times_out(h: Harness) -> None:
    worker, supervisor, _ = await _people(h)
    await _set_pins(worker)
    await _asked(worker, choice=1)  # "Something happened"
    h.clock.advance(timedelta(minutes=10))  # the check-out's question lasts 15 minutes
    await h.tick()
    shown = [s.text for s in await worker.say("1379") if s.chat_id == worker.chat_id and s.shows]
    assert shown[0].startswith("Checked out. It is noted that something happened.") and shown[-1] == "What happened?"
    assert len(_urgent(h, supervisor.chat_id)) == 1
    # Once the question has timed out, the duress PIN still alerts and shows a normal check-out.
    await worker.say("/cancel")
    await _asked(worker, choice=1)
    h.clock.advance(timedelta(minutes=20))
    await h.tick()
    shown = [s.text for s in await worker.say("1379") if s.chat_id == worker.chat_id and s.shows]
    assert shown == ["Checked out. Thank you, take care."]
    assert len(_urgent(h, supervisor.chat_id)) == 2 and not await _is_open(h, worker)


async def test_eight_digit_pins_never_reach_the_logs(h: Harness) -> None:
    # tests/conftest.py checks every typed word of 8 characters or more against the captured logs.
    worker, supervisor, _ = await _people(h)
    await _set_pins(worker, safe="48213795", duress="13794826")
    await _asked(worker)
    await h.restart()
    await worker.say("13794826")
    assert len(_urgent(h, supervisor.chat_id)) == 1
    assert [s.text for s in await worker.say("48213795") if s.shows] == [HINT]
