"""The conversation engine's rules, as a person meets them: one conversation at a time, one-shot
commands in between, a report set aside rather than lost, and bad input that changes nothing."""

from __future__ import annotations

from tests.auxil.harness import Chatter, Harness


def _screen(sent):
    return [s for s in sent if s.shows][-1]


async def _state(harness: Harness, worker: Chatter) -> tuple[str | None, str | None]:
    async with harness.storage.db.read() as tx:
        found = await harness.storage.conversations.get(tx, worker.person.id)
    assert found is not None
    return found[0]["flow"], found[0]["step"]


async def test_a_one_shot_command_half_way_leaves_the_conversation_where_it_was(harness: Harness) -> None:
    worker = await harness.enrol("worker", "north")
    last = _screen(await worker.say("/checkin"))
    last = _screen(await worker.tap(last, "ci:place:1"))
    assert await _state(harness, worker) == ("checkin", "partner")
    assert _screen(await worker.say("/status")).text.startswith("You are not checked in")
    assert await _state(harness, worker) == ("checkin", "partner")
    last = _screen(await worker.tap(last, "ci:partner:alone"))  # the question before /status still counts
    assert last.text.startswith("How long will you stay?")


async def test_a_report_half_way_is_set_aside_by_a_check_in_and_taken_up_again(harness: Harness) -> None:
    worker = await harness.enrol("worker", "north")
    last = _screen(await worker.say("/report"))
    last = _screen(await worker.tap(last, "rp:category:theft"))
    assert last.text == "Who was affected?"
    last = _screen(await worker.say("/checkin"))
    for code in ("ci:place:1", "ci:partner:alone", "ci:dur:60", "ci:loc:skip"):
        last = _screen(await worker.tap(last, code))
    assert last.text.startswith("Checked in at")
    assert _screen(await worker.say("/report")).text == "Who was affected?"  # "theft" was kept


async def test_bad_input_changes_nothing_and_gets_one_neutral_line(harness: Harness) -> None:
    worker = await harness.enrol("worker", "north")
    first = _screen(await worker.say("/checkin"))
    last = _screen(await worker.tap(first, "ci:place:1"))
    before = await _state(harness, worker)
    # typed text where a choice is expected
    sent = await worker.say("hello")
    assert [s.text for s in sent if s.shows] == ["Please tap one of the buttons above, or send /cancel."]
    # a button from a screen that is gone, and a forged one: a notice on the button, nothing changes
    for sent in (await worker.tap_forged("ci:place:0"), await worker.tap_forged("ci:dur:99999999")):
        assert [s.params.get("text") for s in sent if s.method == "answerCallbackQuery"] == [
            "This button is no longer current."
        ]
    assert await _state(harness, worker) == before
    last = _screen(await worker.tap(last, "ci:partner:alone"))
    assert last.text.startswith("How long will you stay?")
