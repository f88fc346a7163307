"""Code words, /alert, duress PINs, the support directory and message deletion."""

from __future__ import annotations

import copy
from datetime import timedelta
from pathlib import Path

import pytest

from bot.services.alerts import check_pin
from tests.auxil.harness import EXAMPLE, Chatter, Harness
from tests.test_checkin import check_in

ALARMING = ("alert", "danger", "emergency", "help")


def _config(**changes: object) -> dict:
    config = copy.deepcopy(EXAMPLE)
    config["alert_codes"] = [
        {"word": "buy bread", "level": "red"},
        {"word": "call aunt", "level": "yellow"},
        {"word": "all good here", "level": "green"},
    ]
    config["hotspots"][1]["area"] = "Zona 1"
    config["support"] = [
        {"kind": "emergency", "name": "Ambulance", "contact": "128"},
        {"kind": "medical", "name": "Clinic Norte", "contact": "+502 1", "area": "Zona 18"},
        {"kind": "psychosocial", "name": "Listening line", "contact": "+502 2", "area": "Zona 1"},
        {"kind": "legal", "name": "Legal aid", "contact": "+502 3", "area": "Zona 1"},
    ]
    config.update(changes)
    return config


@pytest.fixture
async def h(tmp_path: Path):
    harness = Harness(tmp_path, _config(checkout={"pin": True}))
    await harness.start()
    yield harness
    await harness.stop()
    assert not harness.errors


async def _people(h: Harness) -> tuple[Chatter, Chatter, Chatter]:
    supervisor = await h.enrol("supervisor", "north")
    manager = await h.enrol("manager")
    worker = await h.enrol("worker", "north")
    return worker, supervisor, manager


def _urgent(h: Harness, chat_id: int) -> list:
    return [s for s in h.api.to(chat_id) if (s.text or "").startswith("URGENT")]


async def test_red_word_reaches_supervisor_and_manager_at_once_and_worker_sees_nothing_alarming(h: Harness) -> None:
    worker, supervisor, manager = await _people(h)
    await check_in(worker, duration="ci:dur:60", location=(14.6, -90.5))
    sent = await worker.say("Buy bread!")
    to_worker = [s for s in sent if s.chat_id == worker.chat_id]
    assert [s.text for s in to_worker] == ["OK, noted."]
    assert not any(word in to_worker[0].text.lower() for word in ALARMING)
    for person in (supervisor, manager):
        [alert] = _urgent(h, person.chat_id)
        assert f"{worker.person.code} sent the red code" in alert.text
        assert "Place: Bar La Luna" in alert.text and "Last location: 14.60000, -90.50000" in alert.text
        assert [label for label, _ in alert.buttons] == ["I'm handling it", "Reached them, they are safe"]
    # Repeats every repeat_every until acknowledged; acknowledging stops them.
    h.clock.advance(timedelta(minutes=5))
    await h.tick()
    assert len(_urgent(h, supervisor.chat_id)) == 1 and "Still no answer (reminder 1)" in supervisor.last().text
    await manager.tap(_urgent(h, manager.chat_id)[0], _urgent(h, manager.chat_id)[0].buttons[0][1])
    count = len(h.api.sent)
    h.clock.advance(timedelta(minutes=30))
    await h.tick()
    assert len(h.api.sent) == count


async def test_code_word_wins_over_an_open_flow(h: Harness) -> None:
    worker, supervisor, _ = await _people(h)
    sent = await worker.say("/checkin")
    await worker.tap(sent[-1], "ci:place:1")  # now asked "Who is with you?"
    sent = await worker.say("buy   BREAD")
    assert [s.text for s in sent if s.chat_id == worker.chat_id] == ["OK, noted."]
    assert len(_urgent(h, supervisor.chat_id)) == 1


def _fail_replies_to(chatter: Chatter):
    """The Bot API refusing every new message to this chat (as if the bot were killed before it)."""
    bad_gateway = (502, {"ok": False, "error_code": 502, "description": "Bad Gateway"})
    return lambda method, params: (
        bad_gateway if method == "sendMessage" and params.get("chat_id") == chatter.chat_id else None
    )


async def test_the_same_update_sent_again_after_a_crash_raises_its_alert_once(h: Harness) -> None:
    # Telegram sends an update again when the bot was killed before confirming it, even if the alert
    # it raised was already committed: here the bot dies after the alert, before the worker's answer.
    worker, supervisor, manager = await _people(h)
    update = worker.factory.text("buy bread")
    h.api.fail = _fail_replies_to(worker)
    await h.feed(update)
    h.api.fail = None
    assert h.errors  # the failed answer was reported, not swallowed
    h.errors.clear()
    await h.restart()
    again = await h.feed(update)
    assert [s.text for s in again if s.chat_id == worker.chat_id] == ["OK, noted."]  # answered after all
    assert len(_urgent(h, supervisor.chat_id)) == len(_urgent(h, manager.chat_id)) == 1
    # Handled in full this time; sent once more, it is neither answered nor raised again.
    await h.restart()
    assert [s for s in await h.feed(update) if s.chat_id == worker.chat_id] == []
    assert len(_urgent(h, supervisor.chat_id)) == len(_urgent(h, manager.chat_id)) == 1
    await worker.say("buy bread")  # a new message is a new alert
    assert len(_urgent(h, supervisor.chat_id)) == 2
    # Telegram numbers updates afresh after a week without any: an old number is then another message.
    h.clock.advance(timedelta(days=8))
    await h.tick()
    again = await h.feed(update)
    assert [s.text for s in again if s.chat_id == worker.chat_id and s.shows] == ["OK, noted."]
    assert len(_urgent(h, supervisor.chat_id)) == 3


async def test_a_green_sent_again_after_a_crash_does_not_close_a_later_yellow(h: Harness) -> None:
    worker, supervisor, _ = await _people(h)
    green, yellow = worker.factory.text("all good here"), worker.factory.text("call aunt")
    await h.feed(green)
    await h.feed(yellow)
    await h.restart()  # killed before confirming either: Telegram sends both again, in order
    await h.feed(green)
    await h.feed(yellow)
    async with h.storage.db.read() as tx:
        [still_open] = await h.storage.alerts.active_for_person(tx, worker.person.id, "yellow")
    assert still_open.update_id == yellow["update_id"]
    assert "says all is good now" not in supervisor.last().text


async def test_yellow_asks_supervisor_then_managers_and_green_clears_it(h: Harness) -> None:
    worker, supervisor, manager = await _people(h)
    await worker.say("call aunt")
    assert supervisor.last().text.startswith(f"{worker.person.code} sent the yellow code: please call or message")
    assert h.api.to(manager.chat_id)[-1].text.startswith("Language saved")  # managers not yet
    h.clock.advance(timedelta(minutes=15))  # ack_timeout
    await h.tick()
    assert "yellow code" in manager.last().text and "Nobody has acknowledged" in manager.last().text
    sent = await worker.say("all good here")
    assert [s.text for s in sent if s.chat_id == worker.chat_id] == ["OK, noted."]
    for person in (supervisor, manager):
        assert person.last().text == f"{worker.person.code} says all is good now. The alert is closed."


async def test_alert_command_shows_neutral_buttons(h: Harness) -> None:
    worker, supervisor, manager = await _people(h)
    sent = await worker.say("/alert")
    assert sent[-1].text == "Choose:"
    assert [label for label, _ in sent[-1].buttons] == ["Pick me up", "Call me", "All good"]
    sent = await worker.tap(sent[-1], "alert:red")
    edited = [s for s in sent if s.chat_id == worker.chat_id and s.method == "editMessageText"]
    assert [s.text for s in edited] == ["OK, noted."] and "reply_markup" not in edited[0].params
    assert len(_urgent(h, supervisor.chat_id)) == 1 and len(_urgent(h, manager.chat_id)) == 1


async def test_configured_labels_and_reply(tmp_path: Path) -> None:
    harness = Harness(tmp_path, _config(alerts={"red_label": "Tortillas", "reply": "Gracias"}))
    await harness.start()
    try:
        worker = await harness.enrol("worker", "north")
        sent = await worker.say("/alert")
        assert sent[-1].buttons[0][0] == "Tortillas"
        assert [s.text for s in await worker.say("buy bread")] == ["Gracias"]
    finally:
        await harness.stop()


async def _set_pins(worker: Chatter, safe: str = "4821", duress: str = "1379") -> None:
    await worker.say("/pin")
    await worker.say(safe)
    await worker.say(duress)
    assert (await worker.say(duress))[-1].text.startswith("Your PINs are saved.")  # the second PIN, asked twice


async def test_pin_rules(h: Harness) -> None:
    worker = await h.enrol("worker", "north")
    assert "set yours now with /pin" in worker.received()[1].text
    await worker.say("/pin")
    typed: list[tuple[dict, list]] = []

    async def type_pin(text: str) -> list:
        update = worker.factory.text(text)
        sent = await h.feed(update)
        typed.append((update, sent))
        return sent

    for bad in ("12", "123456789", "abcd", "12 34"):
        assert (await type_pin(bad))[-1].text == "A PIN is 4 to 8 digits, like 4821."
    assert (await type_pin("4821"))[-1].text.startswith("Now choose a second, different PIN")
    assert (await type_pin("4821"))[-1].text == "The two PINs must be different. Choose another one."
    assert (await type_pin("1379"))[-1].text == "Type the second PIN once more."
    assert (await type_pin("1397"))[-1].text == "The two did not match. Choose the second PIN again."
    assert (await type_pin("1379"))[-1].text == "Type the second PIN once more."
    assert (await type_pin("1379"))[-1].text.startswith("Your PINs are saved.")
    for update, sent in typed:  # every message that carried a PIN left the chat at once
        deleted = [s.message_id for s in sent if s.method == "deleteMessage"]
        assert update["message"]["message_id"] in deleted
    async with h.storage.db.read() as tx:
        assert await h.storage.people.pins(tx, worker.person.id) is not None
    assert await check_pin(h.storage, worker.person, "4821") == "safe"
    assert await check_pin(h.storage, worker.person, "1379") == "duress"


async def _checkout_with(h: Harness, worker: Chatter, pins: list[str], answer: str = "fine") -> list:
    await check_in(worker)
    question = (await worker.say("/checkout"))[-1]
    sent = await worker.tap(question, question.buttons[0 if answer == "fine" else 1][1])
    assert sent[-1].text == "Type your PIN."
    shown = []
    for pin in pins:
        shown = [
            (s.method, s.text, s.params.get("reply_markup"))
            for s in await worker.say(pin)
            if s.chat_id == worker.chat_id and s.method != "deleteMessage"
        ]
    return shown


async def test_duress_pin_looks_exactly_like_the_safe_pin(h: Harness) -> None:
    worker, supervisor, manager = await _people(h)
    await _set_pins(worker)
    safe_reply = await _checkout_with(h, worker, ["4821"])
    assert _urgent(h, supervisor.chat_id) == []
    duress_reply = await _checkout_with(h, worker, ["1379"])
    assert duress_reply == safe_reply == [("sendMessage", "Checked out. Thank you, take care.", None)]
    for person in (supervisor, manager):
        [alert] = _urgent(h, person.chat_id)
        assert "duress PIN" in alert.text and "Bar La Luna" in alert.text
    async with h.storage.db.read() as tx:
        assert await h.storage.checkins.open_for(tx, worker.person.id) is None


async def test_three_wrong_pins_count_as_duress(h: Harness) -> None:
    worker, supervisor, _ = await _people(h)
    await _set_pins(worker)
    shown = await _checkout_with(h, worker, ["0000", "1111", "2222"])
    assert shown == [("sendMessage", "Checked out. Thank you, take care.", None)]
    assert len(_urgent(h, supervisor.chat_id)) == 1


async def test_a_duress_pin_typed_after_a_restart_still_alerts(h: Harness) -> None:
    worker, supervisor, manager = await _people(h)
    await _set_pins(worker)
    await check_in(worker)
    question = (await worker.say("/checkout"))[-1]
    assert (await worker.tap(question, question.buttons[0][1]))[-1].text == "Type your PIN."
    await h.restart()  # the bot no longer knows it asked for a PIN
    sent = await worker.say(" 1379 ")
    assert [(s.method, s.text) for s in sent if s.chat_id == worker.chat_id] == [
        ("deleteMessage", None),
        ("sendMessage", "Checked out. Thank you, take care."),
    ]
    for person in (supervisor, manager):
        [alert] = _urgent(h, person.chat_id)
        assert "duress PIN" in alert.text
    async with h.storage.db.read() as tx:
        assert await h.storage.checkins.open_for(tx, worker.person.id) is None


HINT = "I did not understand. Send /help to see what you can do."


async def _is_open(h: Harness, worker: Chatter) -> bool:
    async with h.storage.db.read() as tx:
        return await h.storage.checkins.open_for(tx, worker.person.id) is not None


async def test_pins_typed_without_a_question(h: Harness) -> None:
    worker, supervisor, manager = await _people(h)
    await _set_pins(worker)
    shown = await worker.say("4821")  # the safe PIN, not checked in: it only leaves the screen
    assert [(s.method, s.text) for s in shown] == [("deleteMessage", None), ("sendMessage", HINT)]
    await check_in(worker)
    assert [(s.method, s.text) for s in await worker.say("5555")] == [("sendMessage", HINT)]  # just digits
    shown = await worker.say("4821")  # nobody asked: it checks nobody out (a guesser gains nothing)
    assert [(s.method, s.text) for s in shown] == [("deleteMessage", None), ("sendMessage", HINT)]
    assert await _is_open(h, worker) and _urgent(h, supervisor.chat_id) == []
    # The duress PIN works wherever it is typed, here in the middle of /extend, as a code word does.
    await worker.say("/extend")
    shown = await worker.say("1379")
    assert [(s.method, s.text) for s in shown if s.chat_id == worker.chat_id] == [
        ("deleteMessage", None),
        ("sendMessage", "Checked out. Thank you, take care."),
    ]
    assert not await _is_open(h, worker)
    for person in (supervisor, manager):
        [alert] = _urgent(h, person.chat_id)
        assert "duress PIN" in alert.text
    # Not checked in, the duress PIN still alerts; the screen shows only an ordinary hint.
    shown = await worker.say("1379")
    assert [(s.method, s.text) for s in shown if s.chat_id == worker.chat_id] == [
        ("deleteMessage", None),
        ("sendMessage", HINT),
    ]
    assert len(_urgent(h, supervisor.chat_id)) == 2


async def test_the_pin_question_outlives_a_restart_with_its_choice_and_wrong_tries(h: Harness) -> None:
    worker, supervisor, _ = await _people(h)
    await _set_pins(worker)
    await check_in(worker)
    question = (await worker.say("/checkout"))[-1]
    await worker.tap(question, question.buttons[1][1])  # "Something happened"
    assert (await worker.say("0000"))[-1].text == "That PIN is not right. Try again."
    await h.restart()
    assert (await worker.say("1111"))[-1].text == "That PIN is not right. Try again."
    await h.restart()
    await worker.say("2222")  # the third wrong one, across two restarts: duress
    assert len(_urgent(h, supervisor.chat_id)) == 1 and not await _is_open(h, worker)
    await check_in(worker)
    async with h.storage.db.read() as tx:
        checkin_id = (await h.storage.checkins.open_for(tx, worker.person.id)).id
    question = (await worker.say("/checkout"))[-1]
    await worker.tap(question, question.buttons[1][1])
    await h.restart()
    shown = await worker.say("4821")
    assert [s.text for s in shown if s.shows][-1] == "What happened?"  # the choice was kept
    async with h.storage.db.read() as tx:
        assert (await h.storage.checkins.get(tx, checkin_id)).outcome == "something_happened"


async def test_a_question_left_unanswered_is_forgotten(h: Harness) -> None:
    worker, supervisor, _ = await _people(h)
    await _set_pins(worker)
    await check_in(worker)
    question = (await worker.say("/checkout"))[-1]
    await worker.tap(question, question.buttons[0][1])
    h.clock.advance(timedelta(minutes=16))
    await h.tick()  # the clean-ups that fell due meanwhile
    for wrong in ("0000", "1111", "2222"):  # no longer an answer: no wrong tries, no duress
        assert [s.text for s in await worker.say(wrong)] == [HINT]
    assert await _is_open(h, worker) and _urgent(h, supervisor.chat_id) == []


async def test_something_happened_leads_into_the_report(h: Harness) -> None:
    # Support contacts come only with /support now; "Something happened" goes on to the report.
    worker, _, _ = await _people(h)
    await _set_pins(worker)
    shown = await _checkout_with(h, worker, ["4821"], answer="issue")
    assert [text for _, text, _ in shown] == [
        "Checked out. It is noted that something happened. Your supervisor can help.",
        "What happened?",
    ]
    assert "rp:category:theft" in [b["callback_data"] for row in shown[-1][2]["inline_keyboard"] for b in row]
    assert not any("Support contacts" in text for _, text, _ in shown)
    async with h.storage.db.read() as tx:
        assert not await h.storage.checkins.open_for(tx, worker.person.id)
    text = (await worker.say("/support"))[-1].text
    lines = text.split("Support contacts:")[1].strip().splitlines()
    assert lines[0].startswith("• Legal: Legal aid")


async def test_support_lists_everything(h: Harness) -> None:
    worker = await h.enrol("worker", "north")
    text = (await worker.say("/support"))[-1].text
    assert text.splitlines()[0] == "Support contacts:" and text.count("•") == 4


@pytest.mark.parametrize("name", ["clean_up_after", "delete_after"])  # delete_after: the older name
async def test_clean_up_after_removes_code_message_and_reply_even_across_a_restart(tmp_path: Path, name: str) -> None:
    harness = Harness(tmp_path, _config(privacy={name: "60s"}))
    await harness.start()
    try:
        worker = await harness.enrol("worker", "north")
        update = worker.factory.text("buy bread")
        sent = await harness.feed(update)
        await harness.restart()  # a deploy or crash between the code word and its deletion
        harness.clock.advance(timedelta(seconds=59))
        assert [s for s in await harness.tick() if s.method == "deleteMessage"] == []
        harness.clock.advance(timedelta(seconds=2))
        deleted = [s for s in await harness.tick() if s.method == "deleteMessage"]
        assert {(s.chat_id, s.message_id) for s in deleted} >= {  # (with the enrolment's, which fall due too)
            (worker.chat_id, update["message"]["message_id"]),
            (worker.chat_id, sent[-1].message_id),
        }
        harness.clock.advance(timedelta(minutes=5))
        assert await harness.tick() == []  # once
        # The same code word sent again after a crash is not answered again (its answer went out and
        # was cleaned up). A person revoked (their phone taken) still has the messages removed.
        assert [s for s in await harness.feed(update) if s.chat_id == worker.chat_id] == []
        again = worker.factory.text("buy bread")
        answer = await harness.feed(again)
        from bot.services.enrolment import revoke

        assert await revoke(harness.storage, harness.app.bot_data.org, worker.person.code, harness.clock.now())
        harness.clock.advance(timedelta(seconds=61))
        deleted = [s for s in await harness.tick() if s.method == "deleteMessage"]
        assert {(s.chat_id, s.message_id) for s in deleted} >= {  # (with whatever else a revocation removes)
            (worker.chat_id, again["message"]["message_id"]),
            (worker.chat_id, answer[-1].message_id),
        }
    finally:
        await harness.stop()
