"""Invite-only enrolment through the real Application and the Bot API stand-in."""

from __future__ import annotations

from datetime import timedelta

from tests.auxil.harness import Harness


async def test_invite_enrols_with_consent_and_language_choice(harness: Harness) -> None:
    newcomer = harness.chatter(language_code="en-GB")
    code = await harness.invite("worker", "north")
    sent = await newcomer.say(f"/start {code}")
    notice = sent[-1]
    assert "not end-to-end encrypted" in notice.text and "Clear history" in notice.text
    assert ("Español", "lang:es") in notice.buttons and ("العربية", "lang:ar") in notice.buttons
    await newcomer.tap(notice, "lang:es")
    async with harness.storage.db.read() as tx:
        person = await harness.storage.people.by_telegram_user(tx, newcomer.chat_id)
    assert person is not None and person.role == "worker" and person.locale == "es"
    assert person.code.startswith("W-") and len(person.code) == 6
    assert person.code in notice.text


async def test_stranger_gets_one_neutral_line_and_nothing_is_stored(harness: Harness) -> None:
    stranger = harness.chatter()
    for text in ("hola", "/checkin", "/help", "/start"):
        sent = await stranger.say(text)
        assert [s.text for s in sent] == ["This chat is by invitation only."]
    async with harness.storage.db.read() as tx:
        assert await harness.storage.people.by_telegram_user(tx, stranger.chat_id) is None


async def test_reused_code_is_refused(harness: Harness) -> None:
    code = await harness.invite("worker")
    first, second = harness.chatter(), harness.chatter()
    await first.say(f"/start {code}")
    sent = await second.say(f"/start {code}")
    assert sent[-1].text == "This code was already used. Ask your supervisor for a new one."
    async with harness.storage.db.read() as tx:
        assert await harness.storage.people.by_telegram_user(tx, second.chat_id) is None


async def test_expired_code_is_refused(harness: Harness) -> None:
    code = await harness.invite("worker", ttl=timedelta(hours=1))
    harness.clock.advance(timedelta(hours=1, seconds=1))
    sent = await harness.chatter().say(f"/start {code}")
    assert sent[-1].text == "This code has expired. Ask your supervisor for a new one."


async def test_five_wrong_codes_silence_the_sender_for_a_while(harness: Harness) -> None:
    guesser = harness.chatter()
    for i in range(4):
        sent = await guesser.say(f"/start wrongcode{i:04d}")
        assert sent[-1].text.startswith("This code is not valid")
    await guesser.say("/start wrongcode0005")  # the fifth: counted, and from now on silence
    good = await harness.invite("worker")
    assert await guesser.say(f"/start {good}") == []
    assert await guesser.say("hello") == []
    harness.clock.advance(timedelta(hours=1, minutes=1))
    sent = await guesser.say(f"/start {good}")
    assert "enrolled as W-" in sent[-1].text


async def test_enrolled_person_keeps_their_code_and_is_told_so(harness: Harness) -> None:
    worker = await harness.enrol("worker", language="en")
    again = await harness.invite("worker")
    sent = await worker.say(f"/start {again}")
    assert sent[-1].text == f"You are enrolled as {worker.person.code}. Send /help to see what you can do."


async def test_help_names_every_command_of_the_role(harness: Harness) -> None:
    def commands(text: str) -> list[str]:
        return [line.split(" – ")[0] for line in text.splitlines()]

    worker = await harness.enrol("worker", "north")
    supervisor = await harness.enrol("supervisor", "north")
    manager = await harness.enrol("manager")
    shown = commands((await worker.say("/help"))[-1].text)
    assert shown[:6] == ["/checkin", "/checkout", "/extend", "/status", "/report", "/timeline"]
    assert "/pin" not in shown  # this organisation does not use PINs
    assert commands((await supervisor.say("/help"))[-1].text)[:6] == [
        "/team",
        "/alerts",
        "/report",
        "/timeline",
        "/incident",
        "/summary",
    ]
    assert "/export" in commands((await manager.say("/help"))[-1].text)
    es = await harness.enrol("worker", "north", language="es")
    es_help = (await es.say("/help"))[-1].text
    # Neutral words: a seized phone's /help must not say what the bot is for.
    assert "/report – escribir una nota" in es_help
    assert "incidente" not in es_help
