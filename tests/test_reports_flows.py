"""/timeline, /incident, /summary and /export as engine flows, and what no flow takes (an unknown
command, a stale or forged button) answered by the engine: pages turn in place, old and forged
page buttons change nothing, unknowns get one neutral line that goes with the clean-up, files that
managers asked for stay, strangers still get nothing that tells what the bot is."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.auxil.harness import Chatter, Harness
from tests.auxil.standin import Sent
from tests.test_reports import file_by_buttons

STALE = "This button is no longer current."
HINT = "I did not understand. Send /help to see what you can do."
NEUTRAL = "This chat is by invitation only."


def _shown(sent: list[Sent]) -> list[Sent]:
    return [s for s in sent if s.shows]


def _toasts(sent: list[Sent]) -> list[str | None]:
    return [s.params.get("text") for s in sent if s.method == "answerCallbackQuery"]


async def _state(harness: Harness, chatter: Chatter) -> dict[str, Any] | None:
    async with harness.storage.db.read() as tx:
        found = await harness.storage.conversations.get(tx, chatter.person.id)
    return found[0] if found else None


def _without_update(state: dict[str, Any] | None) -> dict[str, Any]:
    """A stored conversation but for the number of the last update it saw."""
    return {k: v for k, v in (state or {}).items() if k != "u"}


async def _actions(harness: Harness) -> list[tuple[str, str | None, str | None]]:
    async with harness.storage.db.read() as tx:
        return list(await harness.storage.audit.actions(tx))


async def _after_clean_up(harness: Harness) -> None:
    harness.clock.advance(timedelta(hours=41))  # the harness cleans up after 40 hours
    await harness.tick()


async def _twelve(harness: Harness) -> tuple[Chatter, list[str]]:
    manager = await harness.enrol("manager")
    worker = await harness.enrol("worker", "north")
    return manager, [await file_by_buttons(worker) for _ in range(12)]


async def test_timeline_pages_turn_in_place_and_survive_a_restart(harness: Harness) -> None:
    manager, _ = await _twelve(harness)
    [first] = _shown(await manager.say("/timeline"))
    assert first.method == "sendMessage" and first.text.startswith("Incidents 1–10 of 12:")
    assert first.buttons == [("Next ▶", "tl:10:12w:-:-")]
    sent = await manager.tap(first, "tl:10:12w:-:-")
    [second] = _shown(sent)
    assert (second.method, second.message_id) == ("editMessageText", first.message_id)  # the same message
    assert second.text.splitlines()[0] == "Incidents 11–12 of 12:" and len(second.text.splitlines()) == 3
    assert second.buttons == [("◀ Previous", "tl:0:12w:-:-")]
    assert _toasts(sent) == [None]  # the press is answered once, without a notice
    timelines = [t for t in harness.api.chats[manager.chat_id].values() if t.startswith("Incidents")]
    assert timelines == [second.text + "\n◀ Previous"]  # one message, showing the second page
    await harness.restart()  # the page is the conversation's current screen, stored
    [back] = _shown(await manager.tap(second, "tl:0:12w:-:-"))
    assert (back.method, back.message_id) == ("editMessageText", first.message_id)
    assert back.text == first.text and back.buttons == first.buttons
    assert not harness.errors


async def test_an_old_page_or_a_forged_page_code_gets_one_notice_and_changes_nothing(harness: Harness) -> None:
    manager, _ = await _twelve(harness)
    [old] = _shown(await manager.say("/timeline"))
    [current] = _shown(await manager.say("/timeline all"))
    state, chat = _without_update(await _state(harness, manager)), dict(harness.api.chats[manager.chat_id])
    for press in (
        manager.tap(old, "tl:10:12w:-:-"),  # a real button, of a page that is no longer current
        manager.tap_forged("tl:10:12w:-:-"),  # a code the current page does not offer
        manager.tap_forged("tl:99999999999999999999:all:-:-"),
        manager.tap_forged("tl:-1:all:-:-"),
        manager.tap_forged("tl:"),
        manager.tap_forged("tl:0:all:arrest:0:extra"),
    ):
        sent = await press
        assert [s.method for s in sent] == ["answerCallbackQuery"] and _toasts(sent) == [STALE]
    assert _without_update(await _state(harness, manager)) == state  # the current page still turns, nothing else moved
    assert harness.api.chats[manager.chat_id] == chat
    [turned] = _shown(await manager.tap(current, "tl:10:all:-:-"))
    assert turned.message_id == current.message_id and turned.text.startswith("Incidents 11–12 of 12:")
    # A one-shot command in between leaves the page current; another conversation ends it.
    [team] = _shown(await manager.say("/team"))
    assert team.text == "Nobody is checked in right now." and (await _state(harness, manager))["flow"] == "timeline"
    await manager.say("/language")
    sent = await manager.tap(turned, "tl:0:all:-:-")
    assert [s.method for s in sent] == ["answerCallbackQuery"] and _toasts(sent) == [STALE]
    assert not harness.errors


async def test_timeline_validation_and_one_page_ends_at_once(harness: Harness) -> None:
    manager = await harness.enrol("manager")
    worker = await harness.enrol("worker", "north")
    ref = await file_by_buttons(worker)
    for words in ("", "nonsense", "all arrest bar", "4w ²", "52W ARREST"):
        [page] = _shown(await manager.say(f"/timeline {words}".strip()))
        assert page.text.splitlines()[0] == "Incidents 1–1 of 1:" and ref in page.text, words
        assert page.buttons == []
    assert (await _state(harness, manager))["flow"] is None  # a single page ends the flow at once
    assert _shown(await manager.say("/timeline theft"))[-1].text == "No incidents for this choice."
    assert _shown(await manager.say("/timeline parque"))[-1].text == "No incidents for this choice."
    # The list goes with the clean-up, and the command that asked for it.
    await _after_clean_up(harness)
    assert not [t for t in harness.api.chats[manager.chat_id].values() if ref in t or "/timeline" in t]


async def test_unknown_command_answered_once_cleaned_up_and_a_conversation_waits(harness: Harness) -> None:
    worker = await harness.enrol("worker", "north")
    sent = await worker.say("/frobnicate now")
    assert [(s.method, s.text) for s in sent] == [("sendMessage", HINT)]
    # half-way through a check-in: one line, and the question before still counts
    last = _shown(await worker.say("/checkin"))[-1]
    last = _shown(await worker.tap(last, "ci:place:1"))[-1]
    before = await _state(harness, worker)
    sent = await worker.say("/incidents")
    assert [(s.method, s.text) for s in sent] == [("sendMessage", HINT)]
    assert _without_update(await _state(harness, worker)) == _without_update(before)
    assert _shown(await worker.tap(last, "ci:partner:alone"))[-1].text.startswith("How long will you stay?")
    await worker.say("/cancel")
    await _after_clean_up(harness)
    left = "\n".join(harness.api.chats[worker.chat_id].values())
    assert "/frobnicate" not in left and "/incidents" not in left and HINT not in left
    assert not harness.errors


async def test_buttons_no_flow_takes_get_a_notice_only(harness: Harness) -> None:
    manager = await harness.enrol("manager")
    for code in ("zz:1", "", "tl", "fu:X-1:closed", "lang", "co:fine:deadbeef"):
        sent = await manager.tap_forged(code)
        assert [s.method for s in sent] == ["answerCallbackQuery"] and _toasts(sent) == [STALE], code
    assert not harness.errors


async def test_strangers_get_nothing_that_tells_what_the_bot_is(harness: Harness) -> None:
    stranger = harness.chatter()
    shown = []
    for text in ("/frobnicate", "/timeline", "/incident R-AAAAA", "/export accounts", "/summary", "hello"):
        shown += [s.text for s in await stranger.say(text) if s.method != "answerCallbackQuery"]
    sent = await stranger.tap_forged("tl:10:all:-:-")
    assert [s.params.get("text") for s in sent if s.method == "answerCallbackQuery"] == [None]
    shown += [s.text for s in sent if s.method != "answerCallbackQuery"]
    assert set(shown) <= {NEUTRAL} and shown  # one neutral line now and then, nothing else
    async with harness.storage.db.read() as tx:
        assert await harness.storage.people.by_telegram_user(tx, stranger.chat_id) is None
    assert not harness.errors


async def test_export_is_a_document_that_stays_with_an_audit_row(harness: Harness) -> None:
    manager = await harness.enrol("manager")
    worker = await harness.enrol("worker", "north")
    await file_by_buttons(worker)
    sent = await manager.say("/export 2026-11-01 2026-11-30")
    assert [(s.method, s.text) for s in sent] == [("sendDocument", "Incidents: 1.")]
    document = [c for m, c in harness.api.calls if m == "sendDocument"][-1]["document"]
    assert document["file_name"] == "incidents_2026-11-01_2026-11-30.csv"
    assert "Arrest or detention" in document["content"].decode("utf-8-sig")
    assert (manager.person.id, None) in [
        (a, s) for action, a, s in await _actions(harness) if action == "incident.export"
    ]
    for bad in ("/export 30/11", "/export 2026-11-30 2026-11-01", "/export 2026-11-01 soon"):
        assert [s.text for s in await manager.say(bad)] == [
            "Write it like /export 2026-09-01 2026-11-30 (add: accounts)."
        ]
    assert [a for a, _, _ in await _actions(harness)].count("incident.export") == 1  # refused ones: no row
    await _after_clean_up(harness)
    left = list(harness.api.chats[manager.chat_id].values())
    assert "Incidents: 1." in left  # the file stays; the commands and the refusals go
    assert not [t for t in left if t.startswith("/export") or t.startswith("Write it like")]


async def test_incident_access_audit_follow_up_and_clean_up(harness: Harness) -> None:
    supervisor = await harness.enrol("supervisor", "north")
    other = await harness.enrol("supervisor", "south")
    manager = await harness.enrol("manager")
    worker, colleague = await harness.enrol("worker", "north"), await harness.enrol("worker", "north")
    sent = await worker.say("/report")
    for data in ("rp:category:arrest", "rp:affected:me", "rp:when:now", "rp:where:h1"):
        sent = await worker.tap(sent[-1], data)
    sent = await worker.tap(sent[-1], "rp:perpetrator:police")
    sent = await worker.tap(sent[-1], "rp:severity:3")
    sent = await worker.say("Mkincident words of the worker")
    for data in ("rp:support:none", "rp:authorities:no", "rp:send"):
        sent = await worker.tap(sent[-1], data)
    ref = [s for s in sent if s.chat_id == worker.chat_id][-1].text.split("reference: ")[1].split(".")[0]
    views = len([a for a, _, _ in await _actions(harness) if a == "incident.view"])
    for who in (colleague, other):
        for asked in (f"/incident {ref}", f"/incident {ref.lower()}x", "/incident"):
            shown = _shown(await who.say(asked))
            assert [s.text for s in shown] == ["No report with this reference. Write it like /incident R-4K2P7."]
    assert len([a for a, _, _ in await _actions(harness) if a == "incident.view"]) == views  # refused: no row
    # who, whether they read the account's words, whether they get follow-up buttons
    for who, words, buttons in ((worker, False, False), (supervisor, False, True), (manager, True, True)):
        [shown] = _shown(await who.say(f"/incident {ref.lower()}"))
        assert shown.text.startswith(f"{ref} · Arrest or detention"), shown.text
        assert ("Mkincident words" in shown.text) is words
        assert ("Account: yes, managers can read it." in shown.text) is not words
        assert bool(shown.buttons) is buttons
    views_now = [(a, s) for action, a, s in await _actions(harness) if action == "incident.view"]
    assert [a for a, _ in views_now[-3:]] == [worker.person.id, supervisor.person.id, manager.person.id]
    # The follow-up buttons start the follow-up flow, as before.
    [shown] = _shown(await supervisor.say(f"/incident {ref}"))
    sent = await supervisor.tap(shown, f"fu:{ref}:referred")
    assert _shown(sent)[-1].text == "Add a short note, or choose Skip."
    assert _shown(await supervisor.tap(_shown(sent)[-1], "fu:note:skip"))[-1].text == f"Saved: {ref} is now “Referred”."
    # The full view, the worker's words in it, leaves the manager's phone with the clean-up.
    await _after_clean_up(harness)
    assert not [t for t in harness.api.chats[manager.chat_id].values() if ref in t or "Mkincident" in t]
    assert not harness.errors


async def test_summary_chart_stays_for_managers_only(harness: Harness) -> None:
    manager = await harness.enrol("manager")
    supervisor = await harness.enrol("supervisor", "north")
    worker = await harness.enrol("worker", "north")
    await file_by_buttons(worker)
    for who in (manager, supervisor):
        sent = await who.say("/summary 2026-W48")
        assert [s.method for s in sent] == ["sendMessage", "sendPhoto"]
        assert sent[0].text.startswith("Week of 2026-11-23. Incidents: 1.")
    for bad in ("2026-W99", "0001-01-01", "soon"):
        assert [s.text for s in await manager.say(f"/summary {bad}")] == [
            "Write the week like 2026-W47 or a date like 2026-11-16."
        ]
    await _after_clean_up(harness)
    assert list(harness.api.chats[manager.chat_id].values()).count("[sendPhoto]") == 1
    assert "[sendPhoto]" not in harness.api.chats[supervisor.chat_id].values()
    for who in (manager, supervisor):
        assert not [t for t in harness.api.chats[who.chat_id].values() if t.startswith(("Week of", "/summary"))]
    assert not harness.errors
