"""A restart at each step of each conversation continues it there, and the person's next answer is
taken: the bot is stopped and started again (a new Application on the same database) before every
answer. The conversation's state lives sealed in the database, not in memory."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.auxil.harness import EXAMPLE, Chatter, Harness


@pytest.fixture
async def pins_harness(tmp_path: Path):
    harness = Harness(tmp_path, {**EXAMPLE, "checkout": {"pin": True}})
    await harness.start()
    yield harness
    await harness.stop()


async def _open(harness: Harness, worker: Chatter):
    async with harness.storage.db.read() as tx:
        return await harness.storage.checkins.open_for(tx, worker.person.id)


async def _answer(harness: Harness, worker: Chatter, last, answer: str):
    """Restart, then answer: a tap on the last screen ("tap:<code>"), or typed text."""
    await harness.restart()
    if answer.startswith("tap:"):
        return await worker.tap(last, answer.removeprefix("tap:"))
    return await worker.say(answer)


def _screen(sent):
    """The last screen in what the bot sent (a message or an edit), for the next tap."""
    return [s for s in sent if s.shows][-1]


async def test_checkin_continues_after_a_restart_at_every_step(pins_harness: Harness) -> None:
    harness = pins_harness
    await harness.enrol("supervisor", "north")
    worker = await harness.enrol("worker", "north")
    last = _screen(await worker.say("/checkin"))
    for answer in ("tap:ci:place:other", "Mercado Norte", "tap:ci:partner:alone", "1h30"):
        last = _screen(await _answer(harness, worker, last, answer))
    assert (await _open(harness, worker)) is not None  # stored once the time is chosen
    await harness.restart()
    sent = await harness.feed(worker.factory.location(14.6, -90.5))
    assert _screen(sent).text.startswith("Checked in at Mercado Norte until")
    current = await _open(harness, worker)
    assert current.location is not None and current.place_custom


async def test_checkin_alone_at_a_pairs_place_after_a_restart(pins_harness: Harness) -> None:
    harness = pins_harness
    worker = await harness.enrol("worker", "north")
    last = _screen(await worker.say("/checkin"))
    for answer in ("tap:ci:place:0", "tap:ci:partner:alone", "tap:ci:alone:yes", "tap:ci:dur:30", "tap:ci:loc:skip"):
        last = _screen(await _answer(harness, worker, last, answer))
    assert last.text.startswith("Checked in at Parque Central until")


async def test_checkout_with_pin_continues_after_a_restart_at_every_step(pins_harness: Harness) -> None:
    harness = pins_harness
    worker = await harness.enrol("worker", "north")
    last = _screen(await worker.say("/pin"))
    for answer in ("4821", "9377", "9377"):
        last = _screen(await _answer(harness, worker, last, answer))
    assert last.text.startswith("Your PINs are saved.")
    last = _screen(await worker.say("/checkin"))
    for answer in ("tap:ci:place:1", "tap:ci:partner:alone", "tap:ci:dur:60", "tap:ci:loc:skip"):
        last = _screen(await worker.tap(last, answer.removeprefix("tap:")))
    current = await _open(harness, worker)
    last = _screen(await _answer(harness, worker, last, "/checkout"))
    last = _screen(await _answer(harness, worker, last, f"tap:co:fine:{current.id}"))
    assert last.text == "Type your PIN."
    last = _screen(await _answer(harness, worker, last, "4821"))
    assert last.text == "Checked out. Thank you, take care."
    assert await _open(harness, worker) is None


async def test_extend_continues_after_a_restart(pins_harness: Harness) -> None:
    harness = pins_harness
    worker = await harness.enrol("worker", "north")
    last = _screen(await worker.say("/checkin"))
    for answer in ("tap:ci:place:1", "tap:ci:partner:alone", "tap:ci:dur:60", "tap:ci:loc:skip"):
        last = _screen(await worker.tap(last, answer.removeprefix("tap:")))
    before = (await _open(harness, worker)).deadline_at
    last = _screen(await _answer(harness, worker, last, "/extend"))
    last = _screen(await _answer(harness, worker, last, "45"))
    assert last.text.startswith("Done. New time:")
    assert ((await _open(harness, worker)).deadline_at - before).total_seconds() == 45 * 60


async def test_report_continues_after_a_restart_at_every_step(pins_harness: Harness) -> None:
    harness = pins_harness
    worker = await harness.enrol("worker", "north")
    last = _screen(await worker.say("/report"))
    steps = [
        "tap:rp:category:threat",
        "tap:rp:affected:me",
        "tap:rp:when:date",
        "3/11",
        "tap:rp:where:other",
        "Mercado Sur",
        "tap:rp:perpetrator:client",
        "tap:rp:severity:2",
        "Someone shouted at me",
        "tap:rp:support:none",
        "tap:rp:authorities:no",
        "tap:rp:change",
        "tap:rp:edit:severity",
        "tap:rp:severity:3",
    ]
    for answer in steps:
        last = _screen(await _answer(harness, worker, last, answer))
    assert last.text.startswith("Your report:") and "Mercado Sur" in last.text
    last = _screen(await _answer(harness, worker, last, "tap:rp:send"))
    assert last.text.startswith("Sent. Your reference: R-")
    async with harness.storage.db.read() as tx:
        ref = last.text.split("reference: ")[1].split(".")[0]
        incident = await harness.storage.incidents.by_ref(tx, worker.person.org_id, ref)
    assert incident is not None and incident.severity == 3 and incident.account == "Someone shouted at me"


async def test_followup_note_continues_after_a_restart(pins_harness: Harness) -> None:
    harness = pins_harness
    manager = await harness.enrol("manager")
    worker = await harness.enrol("worker", "north")
    last = _screen(await worker.say("/report"))
    for answer in ("rp:category:threat", "rp:skip:affected", "rp:when:now", "rp:skip:where", "rp:skip:perpetrator"):
        last = _screen(await worker.tap(last, answer))
    for answer in ("rp:skip:severity", "rp:skip:account", "rp:skip:support", "rp:skip:authorities", "rp:send"):
        last = _screen(await worker.tap(last, answer))
    ref = last.text.split("reference: ")[1].split(".")[0]
    shown = _screen(await manager.say(f"/incident {ref}"))
    last = _screen(await _answer(harness, manager, shown, f"tap:fu:{ref}:referred"))
    assert last.text == "Add a short note, or choose Skip."
    last = _screen(await _answer(harness, manager, last, "Sent to the legal clinic"))
    assert last.text.startswith(f"Saved: {ref} is now")
    async with harness.storage.db.read() as tx:
        incident = await harness.storage.incidents.by_ref(tx, manager.person.org_id, ref)
        notes = await harness.storage.incidents.followups(tx, incident.id)
    assert incident.status == "referred" and [n.note for n in notes] == ["Sent to the legal clinic"]
