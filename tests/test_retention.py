"""Retention: after the purge and a WAL checkpoint, purged records leave no trace in the database files."""

from __future__ import annotations

from datetime import timedelta

from bot.jobs.retention import run_purge
from tests.auxil.harness import Harness
from tests.test_checkin import check_in
from tests.test_reports import BUTTONS


def _raw(harness: Harness) -> bytes:
    return b"".join(p.read_bytes() for p in (harness.tmp / "data").glob("outreach.db*"))


async def test_purge_removes_old_records_everywhere_but_keeps_open_ones(harness: Harness) -> None:
    supervisor = await harness.enrol("supervisor", "north")
    worker, other = await harness.enrol("worker", "north"), await harness.enrol("worker", "north")
    # An old, closed check-in at a typed place, with a resolved alert; and an open check-in that must stay.
    sent = await worker.say("/checkin")
    sent = await worker.tap(sent[-1], "ci:place:other")
    sent = await worker.say("Mkpurgeplace")
    sent = await worker.tap(sent[-1], "ci:partner:alone")
    sent = await worker.tap(sent[-1], "ci:dur:30")
    await worker.tap(sent[-1], "ci:loc:skip")
    harness.clock.advance(timedelta(minutes=41))
    alert = next(s for s in await harness.tick() if (s.text or "").startswith("Missed check-out"))
    await supervisor.tap(alert, alert.buttons[1][1])  # resolved: closes the check-in too
    # A closed incident with an account.
    sent = await worker.say("/report")
    for data in [*BUTTONS[:6]]:
        sent = await worker.tap(sent[-1], data)
    sent = await worker.say("Mkpurgeaccount")
    for data in BUTTONS[7:]:
        sent = await worker.tap(sent[-1], data)
    await worker.tap(sent[-1], "rp:send")
    async with harness.storage.db.tx() as tx:
        closed = harness.storage.codes.token("incidents.status", "closed")  # coded (storage/codes.py)
        await tx.execute("UPDATE incidents SET status = ?", (closed,))
    await harness.storage.db.checkpoint()
    assert b"Mkpurge" not in _raw(harness)  # sealed all along; the real check is on the sealed bytes below
    async with harness.storage.db.read() as tx:
        sealed = [bytes(r[0]) for r in await tx.all("SELECT place_sealed FROM checkins")]
        sealed += [bytes(r[0]) for r in await tx.all("SELECT account_sealed FROM incidents")]
    assert all(s in _raw(harness) for s in sealed)

    harness.clock.advance(timedelta(days=100))
    await harness.tick()  # the clean-ups of the conversations above fell due meanwhile: out of the way first
    await check_in(other)  # open: stays whatever its age
    purged = await run_purge(harness.storage, harness.config.retention, harness.clock.now())
    assert purged.checkins == 1 and purged.alerts == 0 and purged.incidents == 0
    harness.clock.advance(timedelta(days=300))
    assert (await run_purge(harness.storage, harness.config.retention, harness.clock.now())).alerts == 1
    async with harness.storage.db.read() as tx:  # counted because gone, not merely counted
        assert (await tx.one("SELECT count(*) FROM alerts"))[0] == 0
    harness.clock.advance(timedelta(days=400))
    assert (await run_purge(harness.storage, harness.config.retention, harness.clock.now())).incidents == 1
    raw = _raw(harness)
    for value in sealed:
        assert value not in raw  # not in the database pages (secure_delete), not in the WAL (checkpoint)
    async with harness.storage.db.read() as tx:
        assert (await tx.one("SELECT count(*) FROM checkins WHERE status = 'open'"))[0] == 1
        assert (await tx.one("PRAGMA integrity_check"))[0] == "ok"
        assert (await tx.one("SELECT count(*) FROM alert_events"))[0] == 0
        # the conversations that took the typed place and account hold none of it once they ended
        for person in (worker, other):
            state, _ = await harness.storage.conversations.get(tx, person.person.id)
            assert state["flow"] is None and state["a"] == {}, state


async def test_purge_job_is_scheduled_daily(harness: Harness) -> None:
    [job] = harness.app.job_queue.get_jobs_by_name("retention")
    assert str(job.job.trigger.fields[5]) == "3" and str(job.job.trigger.fields[6]) == "30"  # hour, minute


async def test_a_revoked_persons_chat_keeps_no_line_of_ours_after_clean_up(harness: Harness) -> None:
    # their phone may be in someone else's hands: the clean-up deletes even the line it would keep
    from bot.telegram import jobs

    worker = await harness.enrol("worker", "north")
    await check_in(worker)  # a finished conversation: its clean-up keeps one neutral line, with buttons
    async with harness.storage.db.tx() as tx:  # as `outreach-bot revoke` does
        await harness.storage.people.set_status(tx, worker.person.id, "revoked")
    before = len(harness.api.sent)
    harness.clock.advance(harness.config.clean_up_after + timedelta(seconds=1))
    await jobs.flush(harness.app, wait=True)
    done = [s for s in harness.api.sent[before:] if s.chat_id == worker.chat_id]
    assert done and {s.method for s in done} == {"deleteMessage"}
    kept = {s.message_id for s in worker.received() if s.method == "sendMessage"}
    assert kept <= {s.params["message_id"] for s in done}  # every message we showed is gone
