"""Code words, duress PINs and incident reports, end to end in real seconds, as a user would try them.

The real `python -m bot run` runs as a subprocess against the HTTP Bot API emulator, with the example
config as an admin would edit it. Two scenarios run at once, each with its own emulator and data dir:

- issue 4: a checked-in worker types the red word "buy bread"; the supervisor and the manager get the
  alert with the hotspot's name within 10 s, the worker's screen shows nothing alarming, the alert repeats
  (`repeat_every = "3s"`) until the manager acknowledges it. Then `[checkout] pin = true`: checking out with
  the duress PIN gives the worker the very same reply as the safe PIN, while the supervisor is alerted.
- issue 5: a worker files a report by buttons alone, and a second one with a typed account; the supervisor
  is told without the account, a manager's /summary counts both under the right category and place,
  /timeline lists them, and after SIGTERM the database files hold no trace of the typed account in clear.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.auxil.standin import FakeBotApi, Sent
from tests.auxil.standin.http import BotApiServer
from tests.auxil.subprocess_bot import LISTS, SHOWS, TOKEN, BotProcess, Person, cli, environment, invite, write_config

ESCALATION = {"reminder_before": "1m", "grace": "1h", "ack_timeout": "1h", "repeat_every": "3s"}
REPEAT_EVERY = 3.0  # seconds, as in ESCALATION
QUIET = 7.0  # more than two repeat periods without a repeat, once acknowledged
ALERT_WITHIN = 10.0  # the promise: supervisor and manager have the alert this soon
SETTLE = 1.5  # after the worker's reply to a PIN, to see that nothing more reaches their screen
PLACE = "Bar La Luna"  # hotspot 1 of config/org.example.toml; no partner needed there
RED_WORD = "buy bread"  # the red code of config/org.example.toml
ALARMING = ("alert", "danger", "emergency", "help")
SAFE_PIN, DURESS_PIN = "4821", "1379"
ACCOUNT = "Zqxaccount they took my phone"
SECRET = b"Zqxaccount"
REPORT_CHOICES = (  # step question, button: arrest, me, now, Bar La Luna, police, severity 3
    ("What happened?", "rp:category:arrest"),
    ("Who was affected?", "rp:affected:me"),
    ("When?", "rp:when:now"),
    ("Where?", "rp:where:h1"),
    ("Who did it?", "rp:perpetrator:police"),
    ("How serious is it?", "rp:severity:3"),
)
AFTER_ACCOUNT = (("Do you need support?", "rp:support:none"), ("Did you tell the police", "rp:authorities:no"))


@dataclass
class Installation:
    api: FakeBotApi
    bot: BotProcess
    data_dir: Path
    worker: Person
    supervisor: Person
    manager: Person
    worker_code: str  # like W-AB12: what supervisors see instead of a name


@asynccontextmanager
async def installation(tmp: Path, ids: tuple[int, int, int], pin: bool) -> AsyncIterator[Installation]:
    """An emulator, `init`, three invites, the bot running, a worker, a supervisor (team north) and a
    manager enrolled, all with English phones."""
    api = FakeBotApi()
    server = BotApiServer(api, TOKEN)
    await server.start()
    config = write_config(tmp / "org.toml", ESCALATION, {"checkout": {"pin": pin}})
    env = environment(tmp, server, config)
    bot = BotProcess(env, api, tmp / "run.log")
    try:
        rc, _, err = await cli(env, "init", "--import-lists", str(LISTS))
        assert rc == 0, err
        codes = [await invite(env, "worker", "north"), await invite(env, "supervisor", "north")]
        codes.append(await invite(env, "manager"))
        await bot.start()
        worker = Person(api, ids[0], "Wqxzvbn", language_code="en")
        supervisor = Person(api, ids[1], "Sjkfmtp", language_code="en")
        manager = Person(api, ids[2], "Mrtqplk", language_code="en")
        consent, *_ = await asyncio.gather(worker.enrol(codes[0]), supervisor.enrol(codes[1]), manager.enrol(codes[2]))
        found = re.search(r"\bW-[A-Z0-9]{4}\b", consent.text or "")
        assert found, consent.text
        yield Installation(api, bot, tmp / "data", worker, supervisor, manager, found.group())
    finally:
        await bot.aclose()
        await server.stop()


async def stop_cleanly(inst: Installation) -> None:
    rc = await inst.bot.terminate()
    log = inst.bot.log()
    assert rc == 0, log
    assert "Traceback" not in log, log


def deleted(inst: Installation, since: float) -> int:
    """How many of the worker's messages the bot deleted from the chat since then."""
    return sum(
        1 for s in inst.api.sent if s.method == "deleteMessage" and s.chat_id == inst.worker.chat_id and s.at >= since
    )


def screen(inst: Installation, since: float) -> list[tuple[str, str | None, Any]]:
    """Everything the bot did to the worker's chat since then, without message ids (which always differ)."""
    return [
        (s.method, s.text, s.params.get("reply_markup"))
        for s in inst.api.sent
        if s.chat_id == inst.worker.chat_id and s.at >= since
    ]


# -- issue 4: code words and the duress PIN -----------------------------------------------------------


async def set_pins(inst: Installation) -> None:
    """/pin, the safe PIN, the duress PIN twice; each PIN message is deleted from the chat."""
    worker = inst.worker
    started = worker.say("/pin")
    await worker.receive("Choose your normal PIN", since=started)
    typed = worker.say(SAFE_PIN)
    await worker.receive("Now choose a second", since=typed)
    typed = worker.say(DURESS_PIN)
    await worker.receive("Type the second PIN once more", since=typed)
    typed = worker.say(DURESS_PIN)
    await worker.receive("Your PINs are saved", since=typed)
    assert deleted(inst, started) == 3


async def check_in(worker: Person) -> Sent:
    """/checkin at Bar La Luna, alone, the "1 h" button, location skipped: the confirmation."""
    started = worker.say("/checkin")
    worker.tap(await worker.receive_button("ci:place:1", since=started), "ci:place:1")
    worker.tap(await worker.receive_button("ci:partner:alone", since=started), "ci:partner:alone")
    worker.tap(await worker.receive_button("ci:dur:60", since=started), "ci:dur:60")
    worker.tap(await worker.receive_button("ci:loc:skip", since=started), "ci:loc:skip")
    return await worker.receive(f"Checked in at {PLACE} until", method=SHOWS, since=started)


async def check_out_with_pin(inst: Installation, pin: str) -> tuple[list[tuple[str, str | None, Any]], float, float]:
    """/checkout, "Yes, all fine", the PIN: (what the worker's chat showed after the PIN, seconds to the reply,
    when the PIN was sent)."""
    worker = inst.worker
    started = worker.say("/checkout")
    question = await worker.receive("Are you safe?", since=started)
    fine = question.buttons[0][1]
    assert fine.startswith("co:fine:"), question.buttons
    tapped = worker.tap(question, fine)
    await worker.receive("Type your PIN.", method=SHOWS, since=tapped)
    typed = worker.say(pin)
    answer = await worker.receive("", since=typed)
    await asyncio.sleep(SETTLE)
    shown = screen(inst, typed)
    assert answer.text == "Checked out. Thank you, take care.", shown
    assert deleted(inst, typed) == 1, shown  # the PIN does not stay on the screen
    return shown, answer.at - typed, typed


def urgent(person: Person, since: float) -> list[Sent]:
    """Red alerts and their repeats."""
    return [s for s in person.messages(since=since) if "URGENT:" in (s.text or "")]


async def red_word_then_duress_pin(tmp: Path, timings: dict[str, float]) -> None:
    async with installation(tmp, (7_318_604_297, 8_207_519_364, 9_146_382_075), pin=True) as inst:
        worker, supervisor, manager = inst.worker, inst.supervisor, inst.manager
        await set_pins(inst)
        await check_in(worker)

        # The red word: the worker's screen stays ordinary; both bosses hear of it within 10 s.
        typed = worker.say(RED_WORD)
        alerts = await asyncio.gather(
            *(person.receive("URGENT:", within=ALERT_WITHIN, since=typed) for person in (supervisor, manager))
        )
        for alert in alerts:
            assert alert.text is not None and alert.text.startswith("URGENT:"), alert.text
            assert inst.worker_code in alert.text and PLACE in alert.text, alert.text
            assert alert.at - typed <= ALERT_WITHIN
        timings.update(red_to_supervisor=alerts[0].at - typed, red_to_manager=alerts[1].at - typed)
        answer = await worker.receive("", since=typed)
        assert answer.text == "OK, noted.", answer.text

        # Unacknowledged, it repeats; the manager's "I'm handling it" stops the repeats for everyone.
        repeats = await asyncio.gather(
            *(
                person.receive("Still no answer (reminder 1).", within=REPEAT_EVERY + 5, since=typed)
                for person in (supervisor, manager)
            )
        )
        timings.update(first_repeat_after_red=repeats[0].at - alerts[0].at)
        ack = alerts[1].buttons[0][1]
        assert ack.startswith("ack:"), alerts[1].buttons
        tapped = manager.tap(alerts[1], ack)
        await manager.receive("Thank you. The others are told that you are handling it.", since=tapped)
        await supervisor.receive(f"is handling the alert about {inst.worker_code}", since=tapped)
        acknowledged = time.monotonic()
        await asyncio.sleep(QUIET)
        for person in (supervisor, manager):
            later = [s.text for s in person.messages(since=acknowledged)]
            assert not any("URGENT:" in text or "Still no answer" in (text or "") for text in later if text), later
            assert len(urgent(person, typed)) in (2, 3), [s.text for s in urgent(person, typed)]
        for sent in worker.messages(since=typed):
            assert not any(word in (sent.text or "").lower() for word in ALARMING), sent.text

        # The duress PIN: the worker sees exactly what the safe PIN shows; the supervisor is alerted.
        safe_screen, timings["safe_pin_reply"], _ = await check_out_with_pin(inst, SAFE_PIN)
        assert not supervisor.messages("duress", since=typed) and not manager.messages("duress", since=typed)
        await check_in(worker)
        before = time.monotonic()
        duress_screen, timings["duress_pin_reply"], typed = await check_out_with_pin(inst, DURESS_PIN)
        assert duress_screen == safe_screen
        for person, name in ((supervisor, "supervisor"), (manager, "manager")):
            alert = await person.receive("checked out with the duress PIN", within=ALERT_WITHIN, since=before)
            assert alert.text is not None and alert.text.startswith(f"URGENT: {inst.worker_code} checked out"), (
                alert.text
            )
            assert PLACE in alert.text, alert.text
            timings[f"duress_to_{name}"] = alert.at - typed
        for sent in worker.messages(since=before):
            assert not any(word in (sent.text or "").lower() for word in ALARMING), sent.text
        await stop_cleanly(inst)


# -- issue 5: incident reports --------------------------------------------------------------------------


async def file_report(worker: Person, account: str | None) -> tuple[str, float]:
    """/report by buttons (the account typed or skipped), then Send: (reference, when Send was tapped)."""
    since = worker.say("/report")
    for question, data in REPORT_CHOICES:
        await worker.receive(question, method=SHOWS, since=since)
        since = worker.tap(await worker.receive_button(data, since=since), data)
    await worker.receive("Tell what happened in your own words", method=SHOWS, since=since)
    if account is None:
        since = worker.tap(await worker.receive_button("rp:skip:account", since=since), "rp:skip:account")
    else:
        since = worker.say(account)
    for question, data in AFTER_ACCOUNT:
        await worker.receive(question, method=SHOWS, since=since)
        since = worker.tap(await worker.receive_button(data, since=since), data)
    summary = await worker.receive("Your report:", method=SHOWS, since=since)
    assert summary.text is not None
    assert "• What: Arrest or detention" in summary.text and f"• Where: {PLACE}" in summary.text, summary.text
    assert "Zqxaccount" not in summary.text  # the summary shows the account's length, never the words
    sent = worker.tap(summary, "rp:send")
    thanks = await worker.receive("Sent. Your reference:", method=SHOWS, since=sent)
    found = re.fullmatch(r"Sent\. Your reference: (R-[A-Z0-9]{5})\. Thank you\.", thanks.text or "")
    assert found, thanks.text
    return found.group(1), sent


async def reports_summary_timeline(tmp: Path, timings: dict[str, float]) -> None:
    async with installation(tmp, (7_529_031_846, 8_461_790_253, 9_370_815_642), pin=False) as inst:
        worker, supervisor, manager = inst.worker, inst.supervisor, inst.manager
        refs: list[str] = []
        for account in (None, ACCOUNT):
            ref, sent = await file_report(worker, account)
            told = await supervisor.receive(f"New report {ref} from {inst.worker_code}:", since=sent)
            expected = f"New report {ref} from {inst.worker_code}: Arrest or detention. Severity: 3. Place: {PLACE}."
            assert told.text is not None and told.text.startswith(expected), told.text
            timings[f"report_{len(refs) + 1}_to_supervisor"] = told.at - sent
            refs.append(ref)
        assert len(set(refs)) == 2, refs

        asked = manager.say("/summary")
        summary = await manager.receive("Week of", since=asked)
        chart = await manager.receive("", method="sendPhoto", since=asked)
        assert summary.text is not None and summary.text.startswith("Week of"), summary.text
        assert "By type: Arrest or detention 2" in summary.text, summary.text
        assert f"By place: {PLACE} 2" in summary.text, summary.text
        timings["summary_chart"] = chart.at - asked
        asked = manager.say("/timeline")
        timeline = await manager.receive("Incidents 1–2 of 2", since=asked)
        assert all(ref in (timeline.text or "") for ref in refs), timeline.text

        await asyncio.sleep(1.0)  # the outbox has no more to tell anyone
        for person in (worker, supervisor, manager):
            assert not [s.text for s in inst.api.to(person.chat_id) if "Zqxaccount" in (s.text or "")]
        asked = manager.say(f"/incident {refs[1]}")  # the account was kept (sealed), for managers to read
        details = await manager.receive(refs[1], since=asked)
        assert f"In their words:\n{ACCOUNT}" in (details.text or ""), details.text
        assert_no_trace(inst.data_dir)  # a copy taken while the bot runs (write-ahead log included)
        await stop_cleanly(inst)
        assert "Zqxaccount" not in inst.bot.log()
        assert_no_trace(inst.data_dir)


def assert_no_trace(data_dir: Path) -> None:
    """The raw bytes of the database files hold no trace of the typed account, in any letter case."""
    files = sorted(data_dir.glob("outreach.db*"))
    assert files and files[0].name == "outreach.db", files
    for path in files:
        assert SECRET.lower() not in path.read_bytes().lower(), f"the typed account is readable in {path.name}"


async def test_red_word_duress_pin_and_reports_as_a_user_tries_them(tmp_path: Path) -> None:
    timings: dict[str, float] = {}
    async with asyncio.TaskGroup() as scenarios:
        scenarios.create_task(red_word_then_duress_pin(tmp_path / "alerts", timings))
        scenarios.create_task(reports_summary_timeline(tmp_path / "reports", timings))
    print("\n" + "\n".join(f"{name}: {seconds:.2f} s" for name, seconds in timings.items()))
