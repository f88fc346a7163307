"""The seized-phone test: one ordinary shift, played in each language, then the worker's chat read as
Telegram holds it once the clean-up delay has passed (the stand-in applies every edit and deletion).

The shift: set PINs, check in at a high-risk place sharing a location, type the red code word, the
supervisor closes the alert, report police abuse with a typed account, check out with the PIN.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.auxil.harness import EXAMPLE, Harness
from tests.auxil.plain import PlainHarness

ACCOUNT = "The officers took my phone near the fountain"
CODE_WORD = "buy bread"
SAFE_PIN, DURESS_PIN = "4821", "9377"
LATITUDE, LONGITUDE = 14.6349, -90.5069
# Words that would tell an officer scrolling the phone what the worker does (checked lower-cased).
ALARMING = {
    "en": ["police", "alert", "danger", "incident", "arrest", "violence", "hiv", "pin", "duress", "legal", "threat"],
    "es": ["policía", "alerta", "peligro", "incidente", "arresto", "violencia", "vih", "pin", "coacción", "legal"],
    "fr": ["police", "alerte", "danger", "incident", "arrestation", "violence", "vih", "pin", "contrainte"],
    "pt": ["polícia", "alerta", "perigo", "incidente", "prisão", "violência", "hiv", "pin", "coação", "jurídic"],
    "ar": ["شرطة", "الشرطة", "تنبيه", "خطر", "حادث", "اعتقال", "عنف", "إكراه", "قانوني", "تهديد"],
}


def chat_texts(harness: Harness | PlainHarness, chat_id: int) -> list[str]:
    """What the chat holds now, as the messenger holds it after edits and deletions."""
    if isinstance(harness, PlainHarness):
        return [said.text for said in harness.wire.chat(chat_id)]
    return list(harness.api.chats.get(chat_id, {}).values())


@pytest.mark.parametrize("adapter", ["telegram", "plain"])
@pytest.mark.parametrize("language", ["es", "en", "fr", "pt", "ar"])
async def test_a_shift_leaves_nothing_telling_on_the_phone(tmp_path: Path, language: str, adapter: str) -> None:
    config = {**EXAMPLE, "checkout": {"pin": True}, "privacy": {"clean_up_after": "3m"}}
    harness: Any = Harness(tmp_path, config) if adapter == "telegram" else PlainHarness(tmp_path, config)
    await harness.start()
    try:
        supervisor = await harness.enrol("supervisor", "north")
        worker = await harness.enrol("worker", "north", language=language)
        conversations = 1  # enrolment
        # PINs: normal, duress, duress again
        await worker.say("/pin")
        for pin in (SAFE_PIN, DURESS_PIN, DURESS_PIN):
            await worker.say(pin)
        conversations += 1
        # Check in at the high-risk place, alone, an hour, sharing the location.
        sent = await worker.say("/checkin")
        sent = await worker.tap(sent[-1], "ci:place:0")
        sent = await worker.tap(sent[-1], "ci:partner:alone")
        sent = await worker.tap(sent[-1], "ci:alone:yes")
        sent = await worker.tap(sent[-1], "ci:dur:60")
        await worker.share_location(LATITUDE, LONGITUDE)
        conversations += 1
        # The red code word; the supervisor reaches the worker and closes the alert.
        await worker.say(CODE_WORD)
        alert = next(s for s in reversed(supervisor.received()) if s.buttons and s.buttons[-1][1].startswith("safe:"))
        await supervisor.tap(alert, alert.buttons[-1][1])
        conversations += 1  # the neutral line after the alert
        # A report of police abuse with the worker's own words.
        sent = await worker.say("/report")
        for data in ("rp:category:arrest", "rp:affected:me", "rp:when:now", "rp:where:h0"):
            sent = await worker.tap(sent[-1], data)
        sent = await worker.tap(sent[-1], "rp:perpetrator:police")
        sent = await worker.tap(sent[-1], "rp:severity:4")
        sent = await worker.say(ACCOUNT)
        sent = await worker.tap(sent[-1], "rp:support:legal")
        sent = await worker.tap(sent[-1], "rp:authorities:afraid")
        sent = await worker.tap(sent[-1], "rp:send")
        conversations += 1
        # Check out with the normal PIN (closing the alert closed the check-in: the worker goes on elsewhere).
        current = await _open_checkin(harness, worker.person.id)
        if current is None:
            await _check_in_at_the_bar(worker)
            conversations += 1
            current = await _open_checkin(harness, worker.person.id)
        sent = await worker.say("/checkout")
        await worker.tap(sent[-1], f"co:fine:{current}")
        await worker.say(SAFE_PIN)
        conversations += 1
        assert await _open_checkin(harness, worker.person.id) is None

        harness.clock.advance(timedelta(minutes=4))
        await harness.tick()
        left = chat_texts(harness, worker.chat_id)
        everything = "\n".join(left).lower()
        for secret in ("parque central", "bar la luna", ACCOUNT.lower(), CODE_WORD, SAFE_PIN, DURESS_PIN, "14.63"):
            assert secret not in everything, f"{secret!r} is still on the phone: {left}"
        for word in ALARMING[language] + ALARMING["en"]:
            assert word not in everything, f"{word!r} is still on the phone: {left}"
        assert len(left) <= conversations, left
        supervisor_chat = "\n".join(chat_texts(harness, supervisor.chat_id))
        assert ACCOUNT not in supervisor_chat and "14.63" not in supervisor_chat
    finally:
        await harness.stop()


async def _check_in_at_the_bar(worker: Any) -> None:
    """Bar La Luna, alone, an hour, no location: by buttons (numbers on the plain adapter)."""
    sent = await worker.say("/checkin")
    for data in ("ci:place:1", "ci:partner:alone", "ci:dur:60", "ci:loc:skip"):
        sent = await worker.tap(sent[-1], data)


async def _open_checkin(harness: Harness | PlainHarness, person_id: str) -> str | None:
    async with harness.storage.db.read() as tx:
        current = await harness.storage.checkins.open_for(tx, person_id)
    return current.id if current is not None else None


async def test_the_check_in_line_goes_when_the_check_out_line_takes_its_place(tmp_path: Path) -> None:
    """Of a check-in, an extension and a check-out typed as new commands, one line stays: the last."""
    harness = Harness(tmp_path, {**EXAMPLE, "privacy": {"clean_up_after": "3m"}})
    await harness.start()
    try:
        worker = await harness.enrol("worker", "north")
        await _check_in_at_the_bar(worker)
        sent = await worker.say("/extend")
        await worker.tap(sent[-1], sent[-1].buttons[0][1])
        current = await _open_checkin(harness, worker.person.id)
        harness.clock.advance(timedelta(minutes=4))
        await harness.tick()
        [until] = [text for text in harness.api.chats[worker.chat_id].values() if text.startswith("Until")]
        assert "7:30" in until  # the extended time's line replaced the first one (7:00)
        sent = await worker.say("/checkout")
        await worker.tap(sent[-1], f"co:fine:{current}")
        harness.clock.advance(timedelta(minutes=4))
        await harness.tick()
        left = list(harness.api.chats[worker.chat_id].values())
        assert left[-1] == "Thank you." and not [text for text in left if text.startswith("Until")], left
        assert len(left) == 2, left  # and the enrolment's line ("Language saved"), which nothing replaces
    finally:
        await harness.stop()


async def test_the_duress_pin_typed_anywhere_leaves_what_a_check_out_leaves(tmp_path: Path) -> None:
    """An officer comparing two phones cannot tell a duress PIN typed into the chat from a check-out."""
    harness = Harness(tmp_path, {**EXAMPLE, "checkout": {"pin": True}, "privacy": {"clean_up_after": "3m"}})
    await harness.start()
    try:
        await harness.enrol("supervisor", "north")
        chats = []
        for duress in (False, True):
            worker = await harness.enrol("worker", "north")
            await worker.say("/pin")
            for pin in (SAFE_PIN, DURESS_PIN, DURESS_PIN):
                await worker.say(pin)
            await _check_in_at_the_bar(worker)
            current = await _open_checkin(harness, worker.person.id)
            if duress:
                await worker.say(DURESS_PIN)  # no question asked it
            else:
                sent = await worker.say("/checkout")
                await worker.tap(sent[-1], f"co:fine:{current}")
                await worker.say(SAFE_PIN)
            assert await _open_checkin(harness, worker.person.id) is None
            chats.append(worker.chat_id)
        harness.clock.advance(timedelta(minutes=4))
        await harness.tick()
        normal, forced = (
            [t for t in harness.api.chats[chat].values() if not t.startswith("Welcome")] for chat in chats
        )
        assert forced == normal and normal[-2:] == ["Saved.", "Thank you."], normal
    finally:
        await harness.stop()


@pytest.mark.parametrize("adapter", ["telegram", "plain"])
async def test_reminders_and_the_deadline_prompt_leave_the_chat(tmp_path: Path, adapter: str) -> None:
    """What the bot tells a worker unasked names the place: it goes after the clean-up delay too."""
    config = {**EXAMPLE, "privacy": {"clean_up_after": "3m"}}
    harness: Any = Harness(tmp_path, config) if adapter == "telegram" else PlainHarness(tmp_path, config)
    await harness.start()
    try:
        worker = await harness.enrol("worker", "north")
        await _check_in_at_the_bar(worker)
        harness.clock.advance(timedelta(minutes=56))
        told = [s.text for s in await harness.tick() if s.chat_id == worker.chat_id and s.shows]
        assert [text for text in told if text.startswith("Reminder: your time at Bar La Luna")], told
        harness.clock.advance(timedelta(minutes=5))
        told = [s.text for s in await harness.tick() if s.chat_id == worker.chat_id and s.shows]
        assert [text for text in told if text.startswith("Your time at Bar La Luna is over")], told
        current = await _open_checkin(harness, worker.person.id)
        sent = await worker.say("/checkout")
        await worker.tap(sent[-1], f"co:fine:{current}")
        harness.clock.advance(timedelta(minutes=4))
        await harness.tick()
        left = chat_texts(harness, worker.chat_id)
        assert not [text for text in left if "Bar La Luna" in text or "Reminder" in text], left
    finally:
        await harness.stop()
