"""Every flow through both adapters: Telegram's buttons (the real Application against the Bot API
stand-in) and the plain-text adapter's numbered choices (bot/plain, no python-telegram-bot).

The same script runs on each: a flow that only works with buttons, or only with numbers, fails here.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.auxil.harness import EXAMPLE, Harness
from tests.auxil.plain import PlainHarness

ADAPTERS = ("telegram", "plain")


def _config(**changes: Any) -> dict[str, Any]:
    config = copy.deepcopy(EXAMPLE)
    config["alert_codes"] = [{"word": "buy bread", "level": "red"}]
    config.update(changes)
    return config


async def _harness(kind: str, tmp: Path, config: dict[str, Any]) -> Harness | PlainHarness:
    h: Harness | PlainHarness = Harness(tmp, config) if kind == "telegram" else PlainHarness(tmp, config)
    await h.start()
    return h


@pytest.fixture(params=ADAPTERS)
async def h(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    harness = await _harness(request.param, tmp_path, _config())
    try:
        yield harness
    finally:
        await harness.stop()
    assert not getattr(harness, "errors", []), harness.errors


@pytest.fixture(params=ADAPTERS)
async def with_pins(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    harness = await _harness(request.param, tmp_path, _config(checkout={"pin": True}))
    try:
        yield harness
    finally:
        await harness.stop()


def question(sent: Any) -> str:
    """A screen's question: Telegram shows it alone; the plain adapter puts the numbered choices after it."""
    return sent.question if hasattr(sent, "question") else (sent.text or "")


def shown(sent: list[Any]) -> list[Any]:
    return [s for s in sent if s.shows and s.text]


async def share_location(worker: Any, latitude: float, longitude: float) -> list[Any]:
    if hasattr(worker, "share_location"):
        return await worker.share_location(latitude, longitude)
    return await worker.harness.feed(worker.factory.location(latitude, longitude))


async def open_checkin(h: Any, worker: Any) -> Any:
    async with h.storage.db.read() as tx:
        return await h.storage.checkins.open_for(tx, worker.person.id)


async def alerts_of(h: Any, worker: Any) -> list[Any]:
    async with h.storage.db.read() as tx:
        return [
            a for a in await h.storage.alerts.active_in_org(tx, worker.person.org_id) if a.person_id == worker.person.id
        ]


async def check_in(worker: Any, *, location: tuple[float, float] | None = None) -> list[Any]:
    sent = shown(await worker.say("/checkin"))
    assert question(sent[-1]) == "Where are you going?"
    sent = shown(await worker.tap(sent[-1], "ci:place:1"))
    assert question(sent[-1]) == "Who is with you?"
    sent = shown(await worker.tap(sent[-1], "ci:partner:alone"))
    sent = shown(await worker.tap(sent[-1], "ci:dur:60"))
    if location is not None:
        return shown(await share_location(worker, *location))
    return shown(await worker.tap(sent[-1], "ci:loc:skip"))


async def test_check_in_and_out(h: Any) -> None:
    worker = await h.enrol("worker", "north")
    done = await check_in(worker, location=(14.6, -90.5))
    assert done[-1].text.startswith("Checked in at Bar La Luna until 7:00")
    current = await open_checkin(h, worker)
    assert current is not None and current.place == "Bar La Luna"
    sent = shown(await worker.say("/checkout"))
    sent = shown(await worker.tap(sent[-1], f"co:fine:{current.id}"))
    assert await open_checkin(h, worker) is None
    assert sent[-1].text  # a closing line


async def test_other_place_typed_and_duration_typed(h: Any) -> None:
    worker = await h.enrol("worker", "north")
    sent = shown(await worker.say("/checkin"))
    sent = shown(await worker.tap(sent[-1], "ci:place:other"))
    assert question(sent[-1]) == "Write the name of the place."
    sent = shown(await worker.say("Mercado Central"))
    sent = shown(await worker.tap(sent[-1], "ci:partner:alone"))
    sent = shown(await worker.say("45"))  # typed minutes, not a choice's number
    await worker.tap(sent[-1], "ci:loc:skip")
    current = await open_checkin(h, worker)
    assert current.place == "Mercado Central"
    assert current.deadline_at - current.started_at == current.deadline_at - current.started_at
    assert (current.deadline_at - current.started_at).total_seconds() == 45 * 60


async def test_extend_and_status(h: Any) -> None:
    worker = await h.enrol("worker", "north")
    await check_in(worker)
    before = (await open_checkin(h, worker)).deadline_at
    sent = shown(await worker.say("/extend"))
    codes = [code for _, code in sent[-1].buttons]
    assert codes, "the extend question offers durations"
    await worker.tap(sent[-1], codes[0])
    assert (await open_checkin(h, worker)).deadline_at > before
    status = shown(await worker.say("/status"))
    assert status and "Bar La Luna" in status[-1].text


async def test_pins_and_a_check_out_with_the_safe_pin(with_pins: Any) -> None:
    h = with_pins
    worker = await h.enrol("worker", "north")
    await worker.say("/pin")
    await worker.say("4821")
    await worker.say("1379")
    assert shown(await worker.say("1379"))[-1].text.startswith("Your PINs are saved.")
    await check_in(worker)
    current = await open_checkin(h, worker)
    sent = shown(await worker.say("/checkout"))
    sent = shown(await worker.tap(sent[-1], f"co:fine:{current.id}"))
    assert question(sent[-1]) == "Type your PIN."
    await worker.say("4821")
    assert await open_checkin(h, worker) is None


async def test_the_duress_pin_looks_like_a_check_out_and_raises_an_alert(with_pins: Any) -> None:
    h = with_pins
    supervisor = await h.enrol("supervisor", "north")
    worker = await h.enrol("worker", "north")
    for typed in ("/pin", "4821", "1379", "1379"):
        await worker.say(typed)
    await check_in(worker)
    current = await open_checkin(h, worker)
    sent = shown(await worker.say("/checkout"))
    sent = shown(await worker.tap(sent[-1], f"co:fine:{current.id}"))
    safe_end = [s for s in shown(await worker.say("1379")) if s.chat_id == worker.chat_id]
    assert await open_checkin(h, worker) is None
    assert safe_end and not any("alert" in s.text.lower() or "duress" in s.text.lower() for s in safe_end)
    assert await alerts_of(h, worker), "the duress PIN raised an alert"
    assert supervisor.person is not None


async def test_a_report_from_start_to_send(h: Any) -> None:
    worker = await h.enrol("worker", "north")
    ref = await file_report(worker)
    assert ref.startswith("R-")
    async with h.storage.db.read() as tx:
        found = await h.storage.incidents.by_ref(tx, worker.person.org_id, ref)
    assert found is not None and found.account == "They took the condoms and my phone"


async def test_language_and_help(h: Any) -> None:
    worker = await h.enrol("worker", "north")
    sent = shown(await worker.say("/language"))
    await worker.tap(sent[-1], "lang:es")
    async with h.storage.db.read() as tx:
        person = await h.storage.people.get(tx, worker.person.id)
    assert person.locale == "es"
    help_text = shown(await worker.say("/help"))[-1].text
    assert "/checkin – empezar el trabajo en un lugar" in help_text


async def test_a_code_word_is_noted_neutrally_and_opens_an_alert(h: Any) -> None:
    await h.enrol("supervisor", "north")
    worker = await h.enrol("worker", "north")
    await check_in(worker)
    answer = [s for s in shown(await worker.say("Buy bread!")) if s.chat_id == worker.chat_id]
    assert [s.text for s in answer] == ["OK, noted."]
    assert await alerts_of(h, worker)


async def test_a_restart_half_way_continues_at_that_step(h: Any) -> None:
    worker = await h.enrol("worker", "north")
    sent = shown(await worker.say("/checkin"))
    sent = shown(await worker.tap(sent[-1], "ci:place:1"))
    await h.restart()
    sent = shown(await worker.tap(sent[-1], "ci:partner:alone"))
    assert sent and question(sent[-1]) != "Who is with you?"
    sent = shown(await worker.tap(sent[-1], "ci:dur:60"))
    await worker.tap(sent[-1], "ci:loc:skip")
    assert (await open_checkin(h, worker)).place == "Bar La Luna"


async def test_bad_input_gets_one_line_and_changes_nothing(h: Any) -> None:
    worker = await h.enrol("worker", "north")
    sent = shown(await worker.say("/checkin"))
    where = sent[-1]
    answer = shown(await worker.say("banana"))  # typed where a choice is expected
    assert len(answer) == 1 and "/cancel" in answer[0].text
    answer = shown(await worker.say("/nonsense"))
    assert len(answer) == 1
    sent = shown(await worker.tap(where, "ci:place:1"))  # the question is still open
    assert question(sent[-1]) == "Who is with you?"
    assert await open_checkin(h, worker) is None


async def test_a_stranger_learns_nothing(h: Any) -> None:
    stranger = h.chatter()
    answer = shown(await stranger.say("hello"))
    assert [s.text for s in answer] == ["This chat is by invitation only."]
    answer = shown(await stranger.say("/start NOTACODE"))
    assert len(answer) == 1 and answer[0].text.startswith("This code is not valid.")


async def test_support_and_team(h: Any) -> None:
    supervisor = await h.enrol("supervisor", "north")
    worker = await h.enrol("worker", "north")
    assert "Legal aid" in shown(await worker.say("/support"))[-1].text
    await check_in(worker)
    team = shown(await supervisor.say("/team"))
    assert team and team[-1].text


async def file_report(worker: Any) -> str:
    """A whole report, the first answer of every question; its reference."""
    sent = shown(await worker.say("/report"))
    for _ in range(20):
        screen = sent[-1]
        codes = [code for _, code in screen.buttons]
        if "rp:send" in codes:
            sent = shown(await worker.tap(screen, "rp:send"))
            break
        if question(screen).startswith("Tell what happened"):
            sent = shown(await worker.say("They took the condoms and my phone"))
        elif "rp:acc:done" in codes:
            sent = shown(await worker.tap(screen, "rp:acc:done"))
        else:
            sent = shown(await worker.tap(screen, codes[0]))
    mine = [s for s in sent if s.chat_id == worker.chat_id]
    assert mine[-1].text.startswith("Sent. Your reference: R-"), mine[-1].text
    return mine[-1].text.split("reference: ")[1].split(".")[0]


async def test_timeline_incident_and_a_follow_up_note(h: Any) -> None:
    supervisor = await h.enrol("supervisor", "north")
    manager = await h.enrol("manager")
    worker = await h.enrol("worker", "north")
    ref = await file_report(worker)
    assert ref in shown(await worker.say("/timeline"))[-1].text
    details = shown(await supervisor.say(f"/incident {ref}"))[-1]
    assert details.text.startswith(ref) and "They took the condoms" not in details.text  # managers only
    assert "They took the condoms" in "\n".join(s.text for s in shown(await manager.say(f"/incident {ref}")))
    sent = shown(await supervisor.tap(details, f"fu:{ref}:referred"))
    assert question(sent[-1]) == "Add a short note, or choose Skip."
    await supervisor.say("Sent to the clinic")
    async with h.storage.db.read() as tx:
        found = await h.storage.incidents.by_ref(tx, worker.person.org_id, ref)
    assert found is not None and found.status == "referred"


async def test_export_and_summary_send_their_files(h: Any) -> None:
    manager = await h.enrol("manager")
    worker = await h.enrol("worker", "north")
    await file_report(worker)
    files = [s for s in await manager.say("/export") if _is_file(s)]
    assert len(files) == 1 and b"R-" in _content(files[0])
    files = [s for s in await manager.say("/summary") if _is_file(s)]
    assert len(files) == 1 and _content(files[0]).startswith(b"\x89PNG")


def _is_file(sent: Any) -> bool:
    return getattr(sent, "file", None) is not None or getattr(sent, "method", "") in ("sendDocument", "sendPhoto")


def _content(sent: Any) -> bytes:
    if getattr(sent, "file", None) is not None:
        return sent.file.content
    value = sent.params.get("document") or sent.params.get("photo")  # the stand-in keeps the upload
    return value["content"] if isinstance(value, dict) else b""
