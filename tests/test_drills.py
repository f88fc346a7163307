"""Critical reports and drills: a report of the highest severity raises an alert that climbs the ladder;
a drill walks the same ladder marked as a drill to everyone who receives it (in their language), is
counted apart from real alerts, and managers are reminded when none has run for a while."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.i18n import tr
from bot.render import DRILL
from bot.telegram.context import BotContext
from bot.telegram.jobs import sweep, weekly_summaries
from config.errors import ConfigError
from config.org import parse_org_config
from tests.auxil.harness import EXAMPLE, Chatter, Harness
from tests.auxil.plain import PlainHarness
from tests.test_checkin import check_in
from tests.test_reports import BUTTONS
from tests.test_seized_phone import ALARMING, chat_texts

ACCOUNT = "Zqaccount they cornered me behind the market"
CRITICAL_TAPS = [*BUTTONS[:5], "rp:severity:4", None, *BUTTONS[7:]]
NO_SUCH = "No worker with this code that you can drill. Write it like /drill W-7KQ2."
UNKNOWN = "I did not understand. Send /help to see what you can do."
ROOT = Path(__file__).resolve().parent.parent


async def _file_critical(worker: Chatter) -> str:
    sent = await worker.say("/report")
    for data in CRITICAL_TAPS:
        sent = await (worker.say(ACCOUNT) if data is None else worker.tap(sent[-1], data))
    sent = await worker.tap(sent[-1], "rp:send")
    mine = [s for s in sent if s.chat_id == worker.chat_id and s.shows]
    assert mine[-1].text.startswith("Sent. Your reference: R-")
    return mine[-1].text.split("reference: ")[1].split(".")[0]


def _shown(sent: list, chat_id: int) -> list[str]:
    return [s.text for s in sent if s.chat_id == chat_id and s.method in ("sendMessage", "editMessageText")]


async def _alert_counts(harness: Harness) -> tuple[int, int, int]:
    async with harness.storage.db.read() as tx:
        alerts = (await tx.one("SELECT count(*) FROM alerts"))[0]
        outbox = (await tx.one("SELECT count(*) FROM outbox WHERE kind = 'alert'"))[0]
        events = (await tx.one("SELECT count(*) FROM alert_events"))[0]
    return alerts, outbox, events


async def test_critical_report_raises_an_alert_that_climbs_the_ladder(harness: Harness) -> None:
    supervisor = await harness.enrol("supervisor", "north")
    manager = await harness.enrol("manager")
    worker = await harness.enrol("worker", "north")
    ref = await _file_critical(worker)
    on_phone = len(worker.received())
    first = supervisor.last()
    assert first.text.startswith(f"URGENT: {worker.person.code} sent report {ref}: life in danger or serious injury.")
    assert f"Details: /incident {ref}" in first.text and "Zqaccount" not in first.text
    assert [label for label, _ in first.buttons] == ["I'm handling it", "Reached them, they are safe"]
    assert not [s for s in harness.api.sent if "New report" in (s.text or "")]  # the alert, not the notice
    assert harness.api.to(manager.chat_id)[-1].text.startswith("Language saved")  # managers: not yet
    alert_id = first.buttons[0][1].removeprefix("ack:")
    async with harness.storage.db.read() as tx:
        alert = await harness.storage.alerts.get(tx, alert_id)
        incident = await harness.storage.incidents.by_ref(tx, worker.person.org_id, ref)
    assert alert.kind == "critical_report" and alert.person_id == worker.person.id and alert.status == "open"
    assert incident.alert_id == alert_id and incident.severity == 4
    # Repeats every 5 min; after ack_timeout (15 min) the managers too; each names the report.
    harness.clock.advance(timedelta(minutes=5))
    sent = await harness.tick()
    assert _shown(sent, supervisor.chat_id)[0].startswith("Still no answer (reminder 1).")
    assert ref in _shown(sent, supervisor.chat_id)[0] and not _shown(sent, manager.chat_id)
    harness.clock.advance(timedelta(minutes=10))
    sent = await harness.tick()
    told = _shown(sent, manager.chat_id)
    assert len(told) == 1 and "Nobody has acknowledged this yet." in told[0] and ref in told[0]
    assert "Zqaccount" not in told[0]
    # The manager acknowledges: the supervisor is told, the repeats stop.
    managers_alert = next(s for s in sent if s.chat_id == manager.chat_id)
    sent = await manager.tap(managers_alert, f"ack:{alert_id}")
    handling = f"{manager.person.code} is handling the alert about {worker.person.code}."
    assert _shown(sent, supervisor.chat_id) == [handling]
    harness.clock.advance(timedelta(minutes=30))
    assert await harness.tick() == []
    # The supervisor closes it like any alert; the worker's phone got nothing new throughout.
    sent = await supervisor.tap(first, f"safe:{alert_id}")
    assert _shown(sent, manager.chat_id)[-1].endswith("they are safe. The alert is closed.")
    assert len(worker.received()) == on_phone
    async with harness.storage.db.read() as tx:
        assert (await harness.storage.alerts.get(tx, alert_id)).status == "resolved"
    harness.clock.advance(timedelta(hours=41))  # past the clean-up delay: the phone as an officer would scroll it
    await harness.tick()
    left = " ".join(chat_texts(harness, worker.chat_id)).lower()
    assert left and not [word for word in ALARMING["en"] if word in left], left


async def test_a_report_below_critical_is_still_a_notice(harness: Harness) -> None:
    supervisor = await harness.enrol("supervisor", "north")
    worker = await harness.enrol("worker", "north")
    sent = await worker.say("/report")
    for data in BUTTONS:
        sent = await worker.tap(sent[-1], data)
    await worker.tap(sent[-1], "rp:send")
    assert supervisor.last().text.startswith("New report R-") and (await _alert_counts(harness))[0] == 0


LANGS = {"sup_es": "es", "sup_ar": "ar", "man_fr": "fr", "man_pt": "pt", "man_en": "en"}


async def test_a_drill_walks_the_ladder_marked_as_a_drill_in_each_language(harness: Harness) -> None:
    people = {
        "sup_es": await harness.enrol("supervisor", "north", language="es"),
        "sup_ar": await harness.enrol("supervisor", "north", language="ar"),
        "man_fr": await harness.enrol("manager", language="fr"),
        "man_pt": await harness.enrol("manager", language="pt"),
        "man_en": await harness.enrol("manager"),
    }
    admin = await harness.enrol("admin")
    worker = await harness.enrol("worker", "north", language="pt")
    await check_in(worker)
    start = len(harness.api.sent)
    on_phone = len(worker.received())
    sent = await admin.say(f"/drill {worker.person.code.lower()}")
    assert _shown(sent, admin.chat_id)[-1].startswith(f"Drill started for {worker.person.code}: their supervisors")
    for who in ("sup_es", "sup_ar"):
        text = people[who].last().text
        assert text.splitlines()[0] == tr(LANGS[who], DRILL) and worker.person.code in text
        assert "Bar La Luna" not in text  # a drill shows nothing real about the worker
    assert all(not _shown(sent, people[m].chat_id) for m in ("man_fr", "man_pt", "man_en"))
    alert_id = people["sup_es"].last().buttons[0][1].removeprefix("ack:")
    harness.clock.advance(timedelta(minutes=5))
    sent = await harness.tick()
    assert len(_shown(sent, people["sup_ar"].chat_id)) == 1  # the repeat
    harness.clock.advance(timedelta(minutes=10))
    sent = await harness.tick()
    for who in ("man_fr", "man_pt", "man_en"):
        [text] = _shown(sent, people[who].chat_id)
        assert text.splitlines()[0] == tr(LANGS[who], DRILL), (who, text)
    managers_alert = next(s for s in sent if s.chat_id == people["man_fr"].chat_id)
    await people["man_fr"].tap(managers_alert, f"ack:{alert_id}")
    harness.clock.advance(timedelta(minutes=20))
    assert await harness.tick() == []  # acknowledged: no more repeats
    await people["sup_es"].tap(people["sup_es"].received()[-2], f"safe:{alert_id}")
    # Every message any recipient got about the drill, in each of the five languages, says DRILL first.
    for who, chatter in people.items():
        texts = _shown(harness.api.sent[start:], chatter.chat_id)
        assert texts, who
        for text in texts:
            assert text.splitlines()[0] == tr(LANGS[who], DRILL), (who, text)
    assert {tr(lang, DRILL) for lang in ("es", "ar", "fr", "pt")}.isdisjoint({tr("en", DRILL)})  # translated
    # The worker: nothing at all, and their real check-in is untouched.
    assert len(worker.received()) == on_phone
    async with harness.storage.db.read() as tx:
        assert await harness.storage.checkins.open_for(tx, worker.person.id) is not None
        assert (await harness.storage.alerts.get(tx, alert_id)).kind == "drill"


async def test_a_drill_is_counted_apart_from_real_alerts(harness: Harness) -> None:
    supervisor = await harness.enrol("supervisor", "north")
    manager = await harness.enrol("manager")
    worker = await harness.enrol("worker", "north")
    await check_in(worker, duration="ci:dur:30")
    harness.clock.advance(timedelta(minutes=41))
    await harness.tick()  # one real alert: the missed check-out
    await supervisor.say(f"/drill {worker.person.code}")
    await supervisor.say(f"/drill {worker.person.code}")
    text = [s for s in await manager.say("/summary") if s.method == "sendMessage"][-1].text
    assert "Missed check-outs: 1. Alerts: 1." in text and "Drills: 2." in text
    assert (await _alert_counts(harness))[0] == 3
    harness.clock.advance(timedelta(days=7))  # the weekly job's summary of that week counts them the same way
    await weekly_summaries(BotContext(harness.app))
    weekly = [s.text for s in harness.api.to(manager.chat_id) if s.method == "sendMessage"][-1]
    assert "Missed check-outs: 1. Alerts: 1." in weekly and "Drills: 2." in weekly


async def test_managers_reminded_once_per_period_without_a_drill_across_a_restart(harness: Harness) -> None:
    managers = [await harness.enrol("manager"), await harness.enrol("manager", language="es")]
    supervisor = await harness.enrol("supervisor", "north")
    worker = await harness.enrol("worker", "north")

    async def reminders() -> list[tuple[int, str]]:
        before = len(harness.api.sent)
        await sweep(BotContext(harness.app))
        return [(s.chat_id, s.text) for s in harness.api.sent[before:] if s.method == "sendMessage"]

    harness.clock.advance(timedelta(days=29, hours=23))
    assert await reminders() == []
    harness.clock.advance(timedelta(hours=1))  # 30 days since the organisation began, no drill
    got = await reminders()
    assert sorted(chat for chat, _ in got) == sorted(m.chat_id for m in managers)
    assert dict(got)[managers[0].chat_id].startswith("No alert drill for 30 days.")
    assert dict(got)[managers[1].chat_id].startswith("Ningún simulacro de alerta desde hace 30 días.")
    assert await reminders() == []
    await harness.restart()
    harness.clock.advance(timedelta(days=1))
    assert await reminders() == []  # once per period, also after a restart
    harness.clock.advance(timedelta(days=29))  # the next period without a drill: once more
    assert len(await reminders()) == 2
    await supervisor.say(f"/drill {worker.person.code}")  # a drill: counted from it now
    harness.clock.advance(timedelta(days=29))
    assert await reminders() == []
    harness.clock.advance(timedelta(days=1))
    assert len(await reminders()) == 2


async def test_bad_drills_get_one_line_and_change_nothing(harness: Harness) -> None:
    sup_n = await harness.enrol("supervisor", "north")
    manager = await harness.enrol("manager")
    worker_n = await harness.enrol("worker", "north")
    worker_s = await harness.enrol("worker", "south")
    revoked = await harness.enrol("worker", "north")
    async with harness.storage.db.tx() as tx:
        await harness.storage.people.set_status(tx, revoked.person.id, "revoked")
    before = await _alert_counts(harness)
    on_phone = len(worker_n.received())
    for command in (
        "/drill",
        "/drill W-ZZZZ",
        "/drill nonsense-that-is-far-too-long-to-be-a-code",
        f"/drill {worker_s.person.code}",  # another team's worker
        f"/drill {manager.person.code}",  # not a worker
        f"/drill {sup_n.person.code}",
        f"/drill {revoked.person.code}",
        "/drill ' OR 1=1 --",
    ):
        assert _shown(await sup_n.say(command), sup_n.chat_id) == [NO_SUCH], command
    assert len(worker_n.received()) == on_phone  # nothing reached the worker
    # Nobody else learns that /drill exists: workers and managers get the unknown-command line.
    for chatter in (worker_n, manager):
        assert _shown(await chatter.say(f"/drill {worker_n.person.code}"), chatter.chat_id) == [UNKNOWN]
    stranger = harness.chatter()
    assert [s.text for s in await stranger.say(f"/drill {worker_n.person.code}")] == [
        "This chat is by invitation only."
    ]
    assert await _alert_counts(harness) == before


def _cli(harness: Harness, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "OUTREACH_DATA_DIR": str(harness.settings.data_dir),
        "OUTREACH_CONFIG": str(ROOT / "config" / "org.example.toml"),
        "OUTREACH_KEY": base64.b64encode(harness.app.bot_data.key).decode(),
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], env=env, capture_output=True, text=True, cwd=ROOT, timeout=60
    )


async def test_cli_drill_reaches_supervisors_through_the_running_bot(harness: Harness) -> None:
    supervisor = await harness.enrol("supervisor", "north")
    worker = await harness.enrol("worker", "north")
    bad = _cli(harness, "drill", "W-ZZZZ")
    assert bad.returncode == 2 and bad.stdout == "" and len(bad.stderr.strip().splitlines()) == 1, bad.stderr
    assert "no active worker" in bad.stderr and (await _alert_counts(harness))[0] == 0
    done = _cli(harness, "drill", supervisor.person.code)  # not a worker
    assert done.returncode == 2 and (await _alert_counts(harness))[0] == 0
    done = _cli(harness, "drill", worker.person.code)
    assert done.returncode == 0 and done.stdout.startswith(f"Drill started for {worker.person.code}"), done.stderr
    harness.clock.set(datetime.now(UTC) + timedelta(seconds=1))  # the CLI wrote at the real time
    sent = await harness.tick()  # the running bot sends what the CLI wrote
    [text] = [s.text for s in sent if s.chat_id == supervisor.chat_id and s.method == "sendMessage"]
    assert text.splitlines()[0] == tr("en", DRILL) and worker.person.code in text
    assert not [s for s in sent if s.chat_id == worker.chat_id and s.method == "sendMessage"]


async def test_a_drill_on_the_plain_adapter(tmp_path: Path) -> None:
    harness = PlainHarness(tmp_path)
    await harness.start()
    try:
        supervisor = await harness.enrol("supervisor", "north", language="fr")
        worker = await harness.enrol("worker", "north")
        before = len(harness.wire.chat(worker.chat_id))
        await supervisor.say(f"/drill {worker.person.code}")
        alert = [s for s in harness.wire.log if s.chat_id == supervisor.chat_id][-1]
        assert alert.text.splitlines()[0] == tr("fr", DRILL) and worker.person.code in alert.text
        assert len(harness.wire.chat(worker.chat_id)) == before
        # The plain bot's minute sweep reminds managers too, once, 30 days after that drill.
        manager = await harness.enrol("manager")
        harness.clock.advance(timedelta(days=30))
        reminded = [s.text for s in await harness.tick() if s.chat_id == manager.chat_id]
        assert sum(t.startswith("No alert drill for 30 days.") for t in reminded) == 1, reminded
        harness.clock.advance(timedelta(minutes=2))
        assert not [s for s in await harness.tick() if s.chat_id == manager.chat_id and "drill" in s.text]
    finally:
        await harness.stop()


def test_drill_period_is_configurable_and_checked() -> None:
    assert parse_org_config(EXAMPLE).drill_every == timedelta(days=30)
    assert parse_org_config({**EXAMPLE, "drills": {"remind_after": "14d"}}).drill_every == timedelta(days=14)
    for bad in ("soon", "2h", 30):
        with pytest.raises(ConfigError) as caught:
            parse_org_config({**EXAMPLE, "drills": {"remind_after": bad}})
        assert "drills.remind_after" in str(caught.value)
    with pytest.raises(ConfigError, match=r"drills\.every"):
        parse_org_config({**EXAMPLE, "drills": {"every": "30d"}})


async def test_a_drill_in_a_team_without_supervisor_goes_to_the_managers_at_once(harness: Harness) -> None:
    manager = await harness.enrol("manager", language="ar")
    admin = await harness.enrol("admin")
    worker = await harness.enrol("worker", "lonely")
    sent = await admin.say(f"/drill {worker.person.code}")
    assert _shown(sent, admin.chat_id)[0].startswith(f"Drill started for {worker.person.code}: their team has no")
    [text] = _shown(sent, manager.chat_id)
    assert text.splitlines()[0] == tr("ar", DRILL) and worker.person.code in text
