"""Nothing left on a seized supervisor's or manager's phone (issue 12): once an alert closes, every message
of it that showed the worker's location is edited to one without; a worker's own words in a report are
read by managers and admins only, and supervisors see only that there are some.

What a chat holds is read as the phone shows it: the latest text of each message, edits applied."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.services.checkins import resolve_safe
from bot.services.enrolment import revoke
from bot.telegram import jobs
from tests.auxil.harness import Chatter, Harness
from tests.auxil.standin import FakeBotApi, Sent
from tests.test_checkin import check_in
from tests.test_reports import BUTTONS

WHERE = (14.6, -90.5)
COORDINATES = ("14.60000", "-90.50000")
ACCOUNT = "Mkwords the guard took my phone"


def screen(api: FakeBotApi, chat_id: int) -> dict[int, str]:
    """message id -> the text the chat shows now (sent, then edited; deleted ones gone)."""
    shown: dict[int, str] = {}
    for s in api.sent:
        if s.chat_id != chat_id or s.message_id is None:
            continue
        if s.method == "deleteMessage":
            shown.pop(s.message_id, None)
        elif s.method in ("sendMessage", "editMessageText"):
            shown[s.message_id] = s.text or ""
    return shown


def with_coordinates(api: FakeBotApi, chat_id: int) -> list[str]:
    return [text for text in screen(api, chat_id).values() if any(c in text for c in COORDINATES)]


def edits(api: FakeBotApi, chat_id: int) -> list[Sent]:
    """The edits of alert messages (the language choice, say, is edited in place too)."""
    return [s for s in api.to(chat_id) if s.method == "editMessageText" and "Missed check-out" in (s.text or "")]


async def team(h: Harness) -> tuple[Chatter, Chatter, Chatter]:
    supervisor = await h.enrol("supervisor", "north")
    manager = await h.enrol("manager")
    worker = await h.enrol("worker", "north")
    return worker, supervisor, manager


async def missed_checkout(h: Harness, worker: Chatter) -> None:
    """A check-in of 30 min with the location shared, and no check-out: the alert, a repeat, the managers."""
    await check_in(worker, duration="ci:dur:30", location=WHERE)
    h.clock.advance(timedelta(minutes=40))  # past the deadline and the 10 min grace: the supervisor
    await h.tick()
    h.clock.advance(timedelta(minutes=5))  # repeat_every
    await h.tick()
    h.clock.advance(timedelta(minutes=10))  # ack_timeout (15 min after the alert): the managers too
    await h.tick()


def first_alert(api: FakeBotApi, chat_id: int) -> Sent:
    return next(s for s in api.to(chat_id) if s.method == "sendMessage" and (s.text or "").startswith("Missed"))


async def test_resolving_an_alert_takes_the_location_off_every_screen_it_was_on(harness: Harness) -> None:
    worker, supervisor, manager = await team(harness)
    await missed_checkout(harness, worker)
    # The location was shown: in the first alert and its two repeats, and in the managers' copy.
    assert len(with_coordinates(harness.api, supervisor.chat_id)) == 3
    assert len(with_coordinates(harness.api, manager.chat_id)) == 1
    alert = first_alert(harness.api, supervisor.chat_id)
    await supervisor.tap(alert, alert.buttons[1][1])  # "Reached them, they are safe"
    for person in (supervisor, manager):
        assert with_coordinates(harness.api, person.chat_id) == [], person.person.role
    # The edited alerts say why they changed, keep the rest, and have no buttons left to press.
    changed = edits(harness.api, supervisor.chat_id)
    assert sorted(e.message_id for e in changed) == sorted(
        s.message_id
        for s in harness.api.to(supervisor.chat_id)
        if "Missed check-out" in (s.text or "") and s.method == "sendMessage"
    )
    assert all(e.text.startswith("Alert closed. The location was removed from this message.") for e in changed)
    assert all(f"Missed check-out: {worker.person.code} at Bar La Luna." in e.text for e in changed)
    assert all(not e.buttons for e in changed)
    assert len(edits(harness.api, manager.chat_id)) == 1
    # Each message is edited once: nothing more goes out later.
    count = len(harness.api.sent)
    harness.clock.advance(timedelta(minutes=30))
    await harness.tick()
    await jobs.flush(harness.app, wait=True)
    assert len(harness.api.sent) == count
    # The check-in itself keeps the location (sealed in the database), for the report that may follow.
    async with harness.storage.db.read() as tx:
        stored = await harness.storage.alerts.get(tx, alert.buttons[1][1].removeprefix("safe:"))
        assert stored is not None and stored.checkin_id is not None
        checkin = await harness.storage.checkins.get(tx, stored.checkin_id)
    assert checkin is not None and checkin.location == ", ".join(COORDINATES)


async def test_the_edits_are_stored_with_the_closing_and_survive_a_restart(harness: Harness) -> None:
    """Resolved without the outbox running (as if the bot died right after the commit): the edits
    were written with the resolution, and go out after a restart."""
    worker, supervisor, manager = await team(harness)
    await missed_checkout(harness, worker)
    alert = first_alert(harness.api, supervisor.chat_id)
    result = await resolve_safe(
        harness.storage, supervisor.person, alert.buttons[1][1].removeprefix("safe:"), harness.clock.now()
    )
    assert result.alert is not None and result.alert.status == "resolved"
    assert len(with_coordinates(harness.api, supervisor.chat_id)) == 3  # nothing sent yet
    await harness.restart()
    await jobs.flush(harness.app, wait=True)
    for person in (supervisor, manager):
        assert with_coordinates(harness.api, person.chat_id) == [], person.person.role


async def test_an_alert_sent_only_after_it_closed_is_edited_once_it_is_out(harness: Harness) -> None:
    """The Bot API is down while the alert is due; the worker checks out late meanwhile (closing it); when
    the API is back the alert goes out, and is then edited: the edit waited for the message."""
    worker, supervisor, _ = await team(harness)
    await check_in(worker, duration="ci:dur:30", location=WHERE)
    to_supervisor = supervisor.chat_id

    def down(method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
        if str(params.get("chat_id")) == str(to_supervisor):
            return 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}
        return None

    harness.api.fail = down
    harness.clock.advance(timedelta(minutes=40))
    await harness.tick()
    question = (await worker.say("/checkout"))[-1]
    await worker.tap(question, question.buttons[0][1])
    assert with_coordinates(harness.api, to_supervisor) == []  # nothing reached the supervisor yet
    harness.api.fail = None
    for _ in range(4):  # the alert first; the edit on a later try, once the alert's message id is known
        harness.clock.advance(timedelta(seconds=20))
        await jobs.flush(harness.app, wait=True)
    assert any(s.method == "sendMessage" and COORDINATES[0] in (s.text or "") for s in harness.api.to(to_supervisor))
    assert with_coordinates(harness.api, to_supervisor) == []
    assert len(edits(harness.api, to_supervisor)) == 1


async def test_a_revoked_supervisor_keeps_no_location_even_of_an_open_alert(harness: Harness) -> None:
    worker, supervisor, manager = await team(harness)
    await missed_checkout(harness, worker)
    org = harness.app.bot_data.org
    assert org is not None and supervisor.person is not None
    assert await revoke(harness.storage, org, supervisor.person.code, harness.clock.now()) is not None
    await jobs.flush(harness.app, wait=True)
    assert with_coordinates(harness.api, supervisor.chat_id) == []
    assert all(not e.text.startswith("Alert closed") for e in edits(harness.api, supervisor.chat_id))  # still open
    assert len(with_coordinates(harness.api, manager.chat_id)) == 1  # the others still see where to go


async def file_report(worker: Chatter, account: str) -> str:
    """/report by buttons, with a typed account; the reference."""
    sent = await worker.say("/report")
    for data in [*BUTTONS[:6], None, *BUTTONS[7:]]:
        sent = await (worker.say(account) if data is None else worker.tap(sent[-1], data))
    sent = await worker.tap(sent[-1], "rp:send")
    mine = [s.text for s in sent if s.chat_id == worker.chat_id and "reference: R-" in (s.text or "")]
    return mine[-1].split("reference: ")[1].split(".")[0]


async def test_only_managers_and_admins_read_a_workers_own_words(harness: Harness) -> None:
    worker, supervisor, manager = await team(harness)
    admin = await harness.enrol("admin")
    ref = await file_report(worker, ACCOUNT)
    # The supervisor's notice says there is an account, never what it says.
    notice = supervisor.last().text
    assert notice.startswith(f"New report {ref}") and "Account: yes, managers can read it." in notice
    assert "Mkwords" not in notice
    for person in (supervisor, worker):
        shown = "\n".join(s.text or "" for s in await person.say(f"/incident {ref}"))
        assert shown.startswith(ref) and "Account: yes, managers can read it." in shown, person.person.role
        assert "Mkwords" not in shown and "In their words" not in shown, person.person.role
    for person in (manager, admin):
        shown = "\n".join(s.text or "" for s in await person.say(f"/incident {ref}"))
        assert f"In their words:\n{ACCOUNT}" in shown and "Account: yes" not in shown, person.person.role
    for person in (supervisor, worker):  # on no screen of theirs, anywhere
        assert not [t for t in screen(harness.api, person.chat_id).values() if "Mkwords" in t]


async def test_a_report_without_an_account_says_nothing_about_one(harness: Harness) -> None:
    worker, supervisor, _ = await team(harness)
    sent = await worker.say("/report")
    for data in BUTTONS:
        sent = await worker.tap(sent[-1], data)
    await worker.tap(sent[-1], "rp:send")
    assert "Account" not in supervisor.last().text
