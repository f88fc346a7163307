"""Every person reads their own language: replies, buttons, reminders, alerts, in all five."""

from __future__ import annotations

import copy
from datetime import timedelta
from pathlib import Path

import pytest

from bot.i18n import LANGUAGES, tr
from tests.auxil.harness import EXAMPLE, Harness
from tests.test_checkin import check_in
from tests.test_reports import BUTTONS


@pytest.mark.parametrize("lang", list(LANGUAGES))
async def test_checkin_alert_and_report_in_each_language(tmp_path: Path, lang: str) -> None:
    harness = Harness(tmp_path)
    await harness.start()
    try:
        supervisor = await harness.enrol("supervisor", "north", language=lang)
        worker = await harness.enrol("worker", "north", language=lang)
        sent = await worker.say("/checkin")
        assert sent[-1].text == tr(lang, "Where are you going?")
        assert (tr(lang, "Other place"), "ci:place:other") in sent[-1].buttons
        await check_in(worker, duration="ci:dur:30")
        assert worker.last().text.startswith(tr(lang, "Checked in at {place} until {time}.").split("{")[0])
        harness.clock.advance(timedelta(minutes=25))
        await harness.tick()
        assert worker.last().text.startswith(tr(lang, "Reminder: your time at {place} ends at {time}.").split("{")[0])
        harness.clock.advance(timedelta(minutes=15))
        await harness.tick()
        alert = supervisor.last()
        assert alert.text.startswith(tr(lang, "Missed check-out: {worker} at {place}.").split("{")[0])
        assert [label for label, _ in alert.buttons] == [
            tr(lang, "I'm handling it"),
            tr(lang, "Reached them, they are safe"),
        ]
        sent = await worker.say("buy bread")
        assert [s.text for s in sent if s.chat_id == worker.chat_id] == [tr(lang, "OK, noted.")]
        sent = await worker.say("/report")
        assert sent[-1].text == tr(lang, "What happened?")
        for data in BUTTONS:
            sent = await worker.tap(sent[-1], data)
        assert sent[-1].text.startswith(tr(lang, "Your report:"))
        sent = await worker.tap(sent[-1], "rp:send")
        assert tr(lang, "Sent. Your reference: {ref}. Thank you.").split("{")[0] in sent[
            -2 if len(sent) > 1 else -1
        ].text or any(tr(lang, "Sent. Your reference: {ref}. Thank you.").split("{")[0] in (s.text or "") for s in sent)
        if lang != "en":  # the catalog really is used
            assert tr(lang, "What happened?") != "What happened?"
    finally:
        await harness.stop()
    assert not harness.errors


async def test_spanish_worker_and_arabic_supervisor_each_read_their_own(tmp_path: Path) -> None:
    config = copy.deepcopy(EXAMPLE)
    config["hotspots"][1]["name_ar"] = "بار لا لونا"
    harness = Harness(tmp_path, config)
    await harness.start()
    try:
        supervisor = await harness.enrol("supervisor", "north", language="ar")
        worker = await harness.enrol("worker", "north", language="es")
        await check_in(worker, duration="ci:dur:30")
        assert "Bar La Luna" in worker.last().text
        harness.clock.advance(timedelta(minutes=41))
        await harness.tick()
        due = [s for s in harness.api.to(worker.chat_id)][-1]
        assert due.text.startswith(
            tr("es", "Your time at {place} is over ({time}). Check out, or extend?").split("{")[0]
        )
        alert = supervisor.last()
        assert alert.text.startswith(tr("ar", "Missed check-out: {worker} at {place}.").split("{")[0])
        assert "بار لا لونا" in alert.text and "\u2068" in alert.text  # names isolated inside Arabic text
        assert worker.person.code in alert.text
    finally:
        await harness.stop()


async def test_command_menu_in_every_language(harness: Harness) -> None:
    menus = {p.get("language_code"): p["commands"] for m, p in harness.api.calls if m == "setMyCommands"}
    assert set(menus) == {None, *LANGUAGES}
    for lang in LANGUAGES:
        described = {c["command"]: c["description"] for c in menus[lang]}
        assert described["help"] == tr(lang, "Help") and described["checkin"] == tr(lang, "Check in")
    assert {c["command"]: c["description"] for c in menus["es"]}["help"] == "Ayuda"
