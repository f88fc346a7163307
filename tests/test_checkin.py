"""/checkin, /checkout, /extend, /status through the real Application, with a fake clock."""

from __future__ import annotations

from datetime import timedelta

from storage.timefmt import to_db
from tests.auxil.harness import Chatter, Harness


async def check_in(
    worker: Chatter,
    place: str = "ci:place:1",
    partner: str = "ci:partner:alone",
    duration: str | None = "ci:dur:60",
    typed: str | None = None,
    location: tuple | None = None,
) -> list:
    sent = await worker.say("/checkin")
    sent = await worker.tap(sent[-1], place)
    sent = await worker.tap(sent[-1], partner)
    if duration:
        sent = await worker.tap(sent[-1], duration)
    else:
        sent = await worker.say(typed or "45")
    if location:
        return await worker.harness.feed(worker.factory.location(*location))
    return await worker.tap(sent[-1], "ci:loc:skip")


async def test_full_checkin_confirms_deadline_in_org_time_zone(harness: Harness) -> None:
    worker = await harness.enrol("worker", "north")
    sent = await worker.say("/checkin")
    labels = [label for label, _ in sent[-1].buttons]
    assert labels[:2] == ["Parque Central", "Bar La Luna"] and "Other place" in labels
    sent = await worker.tap(sent[-1], "ci:place:1")
    assert sent[-1].text == "Who is with you?"
    sent = await worker.tap(sent[-1], "ci:partner:alone")
    sent = await worker.tap(sent[-1], "ci:dur:120")
    assert "location" in sent[-2].text and sent[-2].params["reply_markup"]["keyboard"][0][0]["request_location"]
    sent = await worker.tap(sent[-1], "ci:loc:skip")
    # 12:00 UTC is 06:00 in Guatemala; two hours later is 08:00 there.
    assert sent[-1].text.startswith("Checked in at Bar La Luna until 8:00\u202fAM.")
    assert "Stay alert" in sent[-1].text
    async with harness.storage.db.read() as tx:
        current = await harness.storage.checkins.open_for(tx, worker.person.id)
    assert current is not None and current.place == "Bar La Luna" and current.partner_id is None
    assert current.deadline_at - current.started_at == timedelta(hours=2)


async def test_recent_places_come_first_and_other_place_is_sealed_and_flagged(harness: Harness) -> None:
    admin = await harness.enrol("admin")
    worker = await harness.enrol("worker", "north")
    await check_in(worker, place="ci:place:1")
    await worker.tap((await worker.say("/checkout"))[-1], "co:fine:" + (await _open(harness, worker)).id)
    sent = await worker.say("/checkin")
    assert [label for label, _ in sent[-1].buttons][:2] == ["Bar La Luna", "Parque Central"]
    sent = await worker.tap(sent[-1], "ci:place:other")
    sent = await worker.say("Mercado Mkplace")
    assert sent[-1].text == "Who is with you?"
    sent = await worker.tap(sent[-1], "ci:partner:alone")
    await worker.say("1h30")  # stored now: the admins are told of the new place before the location question
    await worker.tap(worker.last(), "ci:loc:skip")
    current = await _open(harness, worker)
    assert current.place == "Mercado Mkplace" and current.place_custom
    assert admin.last().text.startswith("A worker checked in at a place that is not on the list: Mercado Mkplace.")
    raw = b"".join(p.read_bytes() for p in (harness.tmp / "data").glob("outreach.db*"))
    assert b"Mkplace" not in raw


async def _open(harness: Harness, worker: Chatter):
    async with harness.storage.db.read() as tx:
        return await harness.storage.checkins.open_for(tx, worker.person.id)


async def test_partner_choice_and_alone_at_pairs_place_tells_supervisor(harness: Harness) -> None:
    supervisor = await harness.enrol("supervisor", "north")
    worker = await harness.enrol("worker", "north")
    colleague = await harness.enrol("worker", "north")
    await harness.enrol("worker", "south")  # another team: never offered
    sent = await worker.say("/checkin")
    sent = await worker.tap(sent[-1], "ci:place:0")  # Parque Central: pairs required
    assert [d for _, d in sent[-1].buttons] == [f"ci:partner:{colleague.person.id}", "ci:partner:alone"]
    sent = await worker.tap(sent[-1], "ci:partner:alone")
    assert "needs two people" in sent[-1].text
    sent = await worker.tap(sent[-1], "ci:alone:yes")
    await worker.tap(sent[-1], "ci:dur:30")
    await worker.tap(worker.last(), "ci:loc:skip")
    assert "High-risk place" in worker.last().text
    told = supervisor.received()[-1]
    assert told.text.startswith(f"{worker.person.code} checked in alone at Parque Central")


async def test_typed_durations(harness: Harness) -> None:
    worker = await harness.enrol("worker", "north")
    sent = await worker.say("/checkin")
    sent = await worker.tap(sent[-1], "ci:place:1")
    sent = await worker.tap(sent[-1], "ci:partner:alone")
    for bad in ("soon", "0", "13h", "-5", "1h75"):
        sent = await worker.say(bad)
        assert [s.text for s in sent] == ["Write the time like 45, 45m or 1h30 (up to 12 hours)."]
    sent = await worker.say("1m")
    await worker.tap(sent[-1], "ci:loc:skip")
    current = await _open(harness, worker)
    assert current.deadline_at - current.started_at == timedelta(minutes=1)


async def test_location_is_stored_sealed(harness: Harness) -> None:
    worker = await harness.enrol("worker", "north")
    sent = await check_in(worker, location=(14.63491, -90.50692))
    assert sent[-1].text.startswith("Checked in at")
    current = await _open(harness, worker)
    assert current.location == "14.63491, -90.50692"
    raw = b"".join(p.read_bytes() for p in (harness.tmp / "data").glob("outreach.db*"))
    assert b"14.63491" not in raw and b"90.50692" not in raw


async def test_one_open_checkin_and_checkin_while_open_offers_checkout_or_extend(harness: Harness) -> None:
    worker = await harness.enrol("worker", "north")
    await check_in(worker)
    sent = await worker.say("/checkin")
    current = await _open(harness, worker)
    assert sent[-1].text.startswith("You are already checked in at Bar La Luna")
    assert [d for _, d in sent[-1].buttons] == [f"co:ask:{current.id}", f"ext:ask:{current.id}"]


async def test_checkout_something_happened_is_recorded(harness: Harness) -> None:
    worker = await harness.enrol("worker", "north")
    await check_in(worker)
    current = await _open(harness, worker)
    sent = await worker.say("/checkout")
    assert sent[-1].text == "Are you safe?"
    sent = await worker.tap(sent[-1], f"co:issue:{current.id}")
    texts = [s.text for s in sent if s.method in ("sendMessage", "editMessageText")]
    assert texts[-2].startswith("Checked out.")  # on the "Are you safe?" message, edited in place
    assert texts[-1] == "What happened?"  # the report opens with place and time filled in
    async with harness.storage.db.read() as tx:
        closed = await harness.storage.checkins.get(tx, current.id)
    assert closed.status == "closed" and closed.outcome == "something_happened"
    again = await worker.tap_forged(f"co:fine:{current.id}")  # the old "Are you safe?" button, pressed again
    assert again[-1].text == "This button is no longer current."


async def test_extend_by_button_and_typed_and_status(harness: Harness) -> None:
    worker = await harness.enrol("worker", "north")
    await check_in(worker)  # one hour
    current = await _open(harness, worker)
    sent = await worker.say("/extend")
    sent = await worker.tap(sent[-1], f"ext:30:{current.id}")
    assert sent[-1].text.startswith("Done. New time:")
    assert (await _open(harness, worker)).deadline_at == current.deadline_at + timedelta(minutes=30)
    await worker.say("/extend")
    sent = await worker.say("whenever")
    assert sent[-1].text == "Write the time like 45, 45m or 1h30 (up to 12 hours)."
    await worker.say("45")
    assert (await _open(harness, worker)).deadline_at == current.deadline_at + timedelta(minutes=75)
    sent = await worker.say("/status")
    assert sent[-1].text.startswith("Checked in at Bar La Luna since") and "With: alone" in sent[-1].text


async def test_out_of_order_commands_get_neutral_hints(harness: Harness) -> None:
    worker = await harness.enrol("worker", "north")
    assert (await worker.say("/checkout"))[-1].text == "You are not checked in. To start: /checkin."
    assert (await worker.say("/extend"))[-1].text == "You are not checked in. To start: /checkin."
    assert (await worker.say("/status"))[-1].text == "You are not checked in. To start: /checkin."
    assert (await worker.tap_forged("ext:30:deadbeef"))[-1].text == "This button is no longer current."
    assert (await worker.tap_forged("ci:dur:30"))[-1].text == "This button is no longer current."
    supervisor = await harness.enrol("supervisor", "north")
    assert (await supervisor.say("/checkin"))[-1].text == "Check-ins are for outreach workers."
    assert (await worker.say("/team"))[-1].text == "This command is for supervisors."
    async with harness.storage.db.read() as tx:
        assert await harness.storage.checkins.open_for(tx, worker.person.id) is None


async def test_cancel_stores_nothing(harness: Harness) -> None:
    worker = await harness.enrol("worker", "north")
    sent = await worker.say("/checkin")
    sent = await worker.tap(sent[-1], "ci:place:1")
    sent = await worker.say("/cancel")
    assert sent[-1].text == "Cancelled. Nothing was saved."
    assert await _open(harness, worker) is None
    assert to_db(harness.clock.now())  # clock untouched


async def test_a_command_ends_a_half_finished_checkin(harness: Harness) -> None:
    """A check-in left at "how long?" must not take the text typed for the next thing (a report)."""
    worker = await harness.enrol("worker", "north")
    sent = await worker.say("/checkin")
    sent = await worker.tap(sent[-1], "ci:place:1")
    duration_question = (await worker.tap(sent[-1], "ci:partner:alone"))[-1]
    assert duration_question.text.startswith("How long will you stay?")
    sent = await worker.say("/report")
    sent = await worker.tap(sent[-1], "rp:category:theft")
    sent = await worker.tap(sent[-1], "rp:affected:me")
    sent = await worker.tap(sent[-1], "rp:when:date")
    sent = await worker.say("45")  # a duration to the check-in, a wrong date to the report
    assert sent[-1].text.startswith("Write the date like")
    async with harness.storage.db.read() as tx:
        assert await harness.storage.checkins.open_for(tx, worker.person.id) is None
    # The old question's buttons are stale now; the check-in starts again with /checkin.
    sent = await worker.tap(duration_question, "ci:dur:60")
    assert [s.text for s in sent if s.method == "answerCallbackQuery"] == ["This button is no longer current."]


async def test_a_flow_left_alone_times_out_without_any_job(harness: Harness) -> None:
    worker = await harness.enrol("worker", "north")
    sent = await worker.say("/checkin")
    sent = await worker.tap(sent[-1], "ci:place:1")
    duration_question = (await worker.tap(sent[-1], "ci:partner:alone"))[-1]
    harness.clock.advance(timedelta(minutes=29))
    sent = await worker.say("nonsense")  # still the check-in's question: a hint, and the 30 minutes restart
    assert sent[-1].text == "Write the time like 45, 45m or 1h30 (up to 12 hours)."
    harness.clock.advance(timedelta(minutes=31))
    sent = await worker.tap(duration_question, "ci:dur:60")
    assert [s.text for s in sent if s.method == "answerCallbackQuery"] == ["This button is no longer current."]
    sent = await worker.say("45")
    assert sent[-1].text == "I did not understand. Send /help to see what you can do."
    async with harness.storage.db.read() as tx:
        assert await harness.storage.checkins.open_for(tx, worker.person.id) is None
    assert not [job for job in harness.app.job_queue.jobs() if "conversation" in (job.name or "").lower()]
    sent = await check_in(worker)  # and a new check-in works as before
    assert sent[-1].text.startswith("Checked in at Bar La Luna")


async def test_the_worker_is_covered_once_the_time_is_chosen(harness: Harness) -> None:
    """The location question is optional: a worker who puts the phone away there, or goes on to
    something else, is checked in all the same, and missing the check-out alerts their supervisor."""
    supervisor = await harness.enrol("supervisor", "north")
    worker = await harness.enrol("worker", "north")
    sent = await worker.say("/checkin")
    sent = await worker.tap(sent[-1], "ci:place:1")
    sent = await worker.tap(sent[-1], "ci:partner:alone")
    await worker.tap(sent[-1], "ci:dur:30")  # now "Share your location?", never answered
    assert (await worker.say("/status"))[-1].text.startswith("Checked in at Bar La Luna since")
    harness.clock.advance(timedelta(minutes=45))
    await harness.tick()
    assert supervisor.last().text.startswith(f"Missed check-out: {worker.person.code} at ")


async def test_cancel_at_the_location_question_says_the_checkin_stands(harness: Harness) -> None:
    worker = await harness.enrol("worker", "north")
    sent = await worker.say("/checkin")
    sent = await worker.tap(sent[-1], "ci:place:1")
    sent = await worker.tap(sent[-1], "ci:partner:alone")
    await worker.tap(sent[-1], "ci:dur:30")
    assert (await worker.say("/cancel"))[-1].text.startswith("Checked in at Bar La Luna until")
    assert await _open(harness, worker) is not None


async def test_skip_after_a_supervisor_closed_the_checkin_says_so(harness: Harness) -> None:
    worker = await harness.enrol("worker", "north")
    sent = await worker.say("/checkin")
    sent = await worker.tap(sent[-1], "ci:place:1")
    sent = await worker.tap(sent[-1], "ci:partner:alone")
    await worker.tap(sent[-1], "ci:dur:30")
    async with harness.storage.db.tx() as tx:  # "Reached them, they are safe", meanwhile
        await harness.storage.checkins.close(tx, (await _open(harness, worker)).id, "reached", harness.clock.now())
    sent = await worker.tap(worker.last(), "ci:loc:skip")
    assert sent[-1].text == "You are not checked in. To start: /checkin."


async def test_skip_after_a_restart_confirms_the_stored_checkin(harness: Harness) -> None:
    worker = await harness.enrol("worker", "north")
    sent = await worker.say("/checkin")
    sent = await worker.tap(sent[-1], "ci:place:0")  # Parque Central: high risk, for two
    sent = await worker.tap(sent[-1], "ci:partner:alone")
    sent = await worker.tap(sent[-1], "ci:alone:yes")
    await worker.tap(sent[-1], "ci:dur:30")
    await harness.restart()  # the flow is forgotten; the check-in is not
    sent = await worker.tap(worker.last(), "ci:loc:skip")
    assert sent[-1].text.startswith("Checked in at Parque Central until") and "High-risk place" in sent[-1].text
