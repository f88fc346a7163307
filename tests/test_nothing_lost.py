"""Alerts survive restarts and Telegram outages: written first, retried until accepted, never sent twice."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.auxil.harness import Harness
from tests.test_checkin import check_in


def _missed(harness: Harness, chat_id: int) -> list:
    return [s for s in harness.api.to(chat_id) if (s.text or "").startswith("Missed check-out")]


async def test_alert_that_fell_due_while_down_goes_out_once_at_start(harness: Harness) -> None:
    supervisor = await harness.enrol("supervisor", "north")
    worker = await harness.enrol("worker", "north")
    await check_in(worker, duration="ci:dur:30")
    await harness.stop()  # down before the deadline...
    harness.clock.advance(timedelta(hours=2))  # ...and back long after deadline + grace
    await harness.restart()
    await harness.tick()  # the first tick runs at start (first=0)
    assert len(_missed(harness, supervisor.chat_id)) == 1
    assert [s.text.split(" is over")[0] for s in harness.api.to(worker.chat_id) if "is over" in (s.text or "")] == [
        "Your time at Bar La Luna"
    ]
    await harness.restart()
    await harness.tick()
    assert len(_missed(harness, supervisor.chat_id)) == 1  # no step twice, however often we restart


async def test_start_schedules_an_immediate_tick_every_second(tmp_path) -> None:
    from datetime import UTC, datetime

    h = Harness(tmp_path)
    await h.app.initialize()
    from bot.telegram.app import close_resources, open_resources

    await open_resources(h.app)
    try:
        job = h.app.job_queue.get_jobs_by_name("escalation")[0]
        assert job.job.trigger.interval == timedelta(seconds=1)
        assert abs((job.job.trigger.start_date - datetime.now(UTC)).total_seconds()) < 1.0  # first run: at start
    finally:
        await h.app.shutdown()
        await close_resources(h.app)


def _outage(kind: str) -> Any:
    def fail(method: str, params: dict) -> tuple[int, dict] | None:
        if method != "sendMessage":
            return None
        if kind == "connection":
            return 0, {}
        if kind == "5xx":
            return 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}
        return 429, {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 7",
            "parameters": {"retry_after": 7},
        }

    return fail


async def test_outage_queues_alerts_and_delivers_each_once_after(harness: Harness) -> None:
    supervisors = [await harness.enrol("supervisor", "north") for _ in range(2)]
    workers = [await harness.enrol("worker", "north") for _ in range(3)]
    for worker in workers:
        await check_in(worker, duration="ci:dur:30")
    harness.clock.advance(timedelta(minutes=40))
    for kind in ("connection", "5xx", "429"):
        harness.api.fail = _outage(kind)
        for _ in range(3):
            await harness.tick()
            harness.clock.advance(timedelta(seconds=10))
        assert all(_missed(harness, s.chat_id) == [] for s in supervisors)
    await harness.restart()  # pending sends survive a restart, too
    harness.api.fail = _outage("429")
    await harness.tick()
    harness.api.fail = None
    await harness.tick()  # too early: Telegram asked for 7 s
    assert all(_missed(harness, s.chat_id) == [] for s in supervisors)
    harness.clock.advance(timedelta(seconds=31))  # the longest backoff is 30 s
    await harness.tick()
    for supervisor in supervisors:
        assert len(_missed(harness, supervisor.chat_id)) == 3  # one per worker
    harness.clock.advance(timedelta(minutes=1))
    await harness.tick()
    for supervisor in supervisors:
        assert len(_missed(harness, supervisor.chat_id)) == 3
    async with harness.storage.db.read() as tx:
        # 3 workers x 2 supervisors alerts, and each worker's "time is over" prompt; besides them only the
        # clean-ups of finished conversations, still waiting for their delay ([privacy] clean_up_after)
        rows = await tx.all("SELECT kind = 'cleanup' AS cleanup, status, count(*) AS n FROM outbox GROUP BY 1, 2")
    counts = {(bool(r["cleanup"]), r["status"]): r["n"] for r in rows}
    assert {status: n for (cleanup, status), n in counts.items() if not cleanup} == {"sent": 3 * 2 + 3}
    assert {status for (cleanup, status) in counts if cleanup} <= {"pending"}


async def test_worker_confirmation_only_after_commit(harness: Harness) -> None:
    worker = await harness.enrol("worker", "north")
    seen: list[bool] = []

    def on_sent(sent: Any) -> None:
        if (sent.text or "").startswith("Checked in at"):
            import sqlite3

            conn = sqlite3.connect(harness.tmp / "data" / "outreach.db")
            seen.append(conn.execute("SELECT count(*) FROM checkins WHERE status = 'open'").fetchone()[0] == 1)
            conn.close()

    harness.api.listeners.append(on_sent)
    await check_in(worker)
    assert seen == [True]
