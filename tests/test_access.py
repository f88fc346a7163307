"""Access control: every command and button, by every role, against another team's and another
organisation's records. Nothing is read or changed without the right; revocation is immediate."""

from __future__ import annotations

from datetime import timedelta

import pytest

from storage.timefmt import to_db
from tests.auxil.harness import Chatter, Harness
from tests.test_checkin import check_in
from tests.test_reports import file_by_buttons

STALE = "This button is no longer current."
OUT_OF_ORDER = "I did not understand. Send /help to see what you can do."
PEOPLE_BUTTONS = ["ppl:team", "ppl:role", "ppl:revoke", "ppl:yes", "ppl:inv", "ppl:i:0", "ppl:t:0", "ppl:r:admin"]


async def _snapshot(harness: Harness) -> list:
    async with harness.storage.db.read() as tx:
        rows = []
        for sql in (
            "SELECT id, status, deadline_at FROM checkins ORDER BY id",
            "SELECT id, status, acknowledged_by, resolved_by FROM alerts ORDER BY id",
            "SELECT id, status FROM incidents ORDER BY id",
            "SELECT count(*) FROM incident_followups",
            "SELECT revision FROM org_lists",
            "SELECT id, role, team_id, status FROM people ORDER BY id",
            "SELECT id, used_at, cancelled_at FROM invites ORDER BY id",
            "SELECT id, data_sealed, status FROM plans ORDER BY id",
        ):
            rows.append([tuple(r) for r in await tx.all(sql)])
    return rows


@pytest.fixture
async def world(harness: Harness) -> dict[str, Chatter | str]:
    people: dict[str, Chatter | str] = {
        "sup_n": await harness.enrol("supervisor", "north"),
        "sup_s": await harness.enrol("supervisor", "south"),
        "manager": await harness.enrol("manager"),
        "admin": await harness.enrol("admin"),
        "worker_n": await harness.enrol("worker", "north"),
        "worker_n2": await harness.enrol("worker", "north"),
        "worker_s": await harness.enrol("worker", "south"),
    }
    worker_s = people["worker_s"]
    assert isinstance(worker_s, Chatter)
    people["ref_s"] = await file_by_buttons(worker_s)
    await check_in(worker_s, duration="ci:dur:30")
    harness.clock.advance(timedelta(minutes=41))
    await harness.tick()
    async with harness.storage.db.read() as tx:
        checkin = await harness.storage.checkins.open_for(tx, worker_s.person.id)
        alert = await harness.storage.alerts.active_for_checkin(tx, checkin.id)
    people["checkin_s"], people["alert_s"] = checkin.id, alert.id
    # Another organisation in the same database, with its own incident and alert.
    now = harness.clock.now()
    async with harness.storage.db.tx() as tx:
        await tx.execute(
            "INSERT INTO organizations (id, name_sealed, timezone, language, created_at)"
            " VALUES ('org-b', ?, 'UTC', 'en', ?)",
            (harness.storage.sealer.seal("Other", "organizations", "name", "org-b"), to_db(now)),
        )
        other = await harness.storage.people.create(
            tx,
            org_id="org-b",
            team_id=None,
            role="worker",
            telegram_user_id=999_000_001,
            chat_id=999_000_001,
            locale="en",
            now=now,
        )
        await tx.execute(
            "INSERT INTO alerts (id, org_id, person_id, kind, raised_at) VALUES ('alert-b', 'org-b', ?, 'red', ?)",
            (other.id, to_db(now)),
        )
    return people


async def test_forged_buttons_from_every_role_change_nothing(harness: Harness, world: dict) -> None:
    before = await _snapshot(harness)
    alert_s, checkin_s, ref_s = world["alert_s"], world["checkin_s"], world["ref_s"]
    attempts = {
        "sup_n": [f"ack:{alert_s}", f"safe:{alert_s}", f"fu:{ref_s}:closed", "ack:alert-b", "safe:alert-b"],
        "worker_n": [
            f"ack:{alert_s}",
            f"safe:{alert_s}",
            f"co:fine:{checkin_s}",
            f"ext:30:{checkin_s}",
            f"co:ask:{checkin_s}",
            f"rp:alert:{alert_s}",
            f"fu:{ref_s}:closed",
        ],
        "worker_n2": [f"co:issue:{checkin_s}", f"ext:60:{checkin_s}", f"ext:ask:{checkin_s}"],
        "manager": ["ack:alert-b", "safe:alert-b", "lst:add", "lst:rm", "lst:pick:0", "lst:r:low", *PEOPLE_BUTTONS],
        "sup_s": PEOPLE_BUTTONS,
        "worker_s": [*PEOPLE_BUTTONS, f"ack:{alert_s}", f"safe:{alert_s}"],
        "admin": ["ack:alert-b", "safe:alert-b"],
    }
    for who, datas in attempts.items():
        for data in datas:
            sent = await world[who].tap_forged(data)
            shown = [s.text for s in sent if s.shows]
            assert shown == [STALE] or shown == [], (who, data, shown)
    assert await _snapshot(harness) == before


async def test_commands_by_role(harness: Harness, world: dict) -> None:
    ref_s = world["ref_s"]
    code_s = world["worker_s"].person.code

    async def text(who: str, command: str) -> str:
        return [s.text for s in await world[who].say(command) if s.shows][-1]

    # /incident: the reporter, their supervisor, managers and admins; nobody else.
    for who in ("worker_s", "sup_s", "manager", "admin"):
        assert (await text(who, f"/incident {ref_s}")).startswith(ref_s), who
    for who in ("worker_n", "sup_n"):
        assert (await text(who, f"/incident {ref_s}")).startswith("No report with this reference"), who
    # /timeline: only what each may see.
    assert (await text("worker_n", "/timeline")) == "No incidents for this choice."
    assert (await text("sup_n", "/timeline")) == "No incidents for this choice."
    assert ref_s in await text("sup_s", "/timeline") and ref_s in await text("manager", "/timeline")
    # /team: supervisors see their own team only; workers nothing.
    assert code_s not in await text("sup_n", "/team")
    assert code_s in await text("sup_s", "/team") and code_s in await text("manager", "/team")
    assert (await text("worker_n", "/team")) == "This command is for supervisors."
    # /summary and /export.
    assert (await text("worker_n", "/summary")) == "This command is for managers and supervisors."
    for who in ("worker_n", "sup_n", "sup_s"):
        assert (await text(who, "/export")) == "This command is for managers."
    # The sensitive lists: admins only; nobody else sees a place, a code word or a contact.
    for who in ("worker_n", "sup_n", "manager"):
        for command in ("/places", "/codes", "/contacts"):
            assert (await text(who, command)) == "This command is for admins.", (who, command)
    assert (await text("admin", "/codes")).startswith("Code words:\n• buy bread")
    await world["admin"].say("/cancel")
    # People and invites: admins only, and only their organisation's.
    for who in ("worker_n", "sup_n", "manager"):
        for command in ("/people", "/invites"):
            assert (await text(who, command)) == "This command is for admins.", (who, command)
    people = await text("admin", "/people")
    assert code_s in people and world["manager"].person.code in people and "People: 7" in people
    await world["admin"].say("/cancel")
    # /alerts: a supervisor's team, a manager's or admin's organisation; for workers, no such command.
    assert (await text("worker_n", "/alerts")) == OUT_OF_ORDER
    assert (await text("worker_s", "/alerts")) == OUT_OF_ORDER
    assert (await text("sup_n", "/alerts")) == "No open alerts."
    for who in ("sup_s", "manager", "admin"):
        listed = await text(who, "/alerts")
        assert listed.startswith("Open alerts: 1\n") and code_s in listed, who  # not the other organisation's
    # /risk: managers and admins every place, a supervisor the places of their team's records (south's
    # missed check-out at Bar La Luna), workers: no such command.
    for who in ("worker_n", "worker_s"):
        assert (await text(who, "/risk")) == OUT_OF_ORDER
    assert (await text("sup_n", "/risk")) == "No places to show yet."
    south = await text("sup_s", "/risk")
    assert "\nBar La Luna: " in south and "Parque Central" not in south
    for who in ("manager", "admin"):
        assert "\nParque Central: " in await text(who, "/risk"), who
    # Check-in commands are for workers.
    for who in ("sup_n", "manager", "admin"):
        assert (await text(who, "/checkin")) == "Check-ins are for outreach workers."
    # /drill: a supervisor on their own team's workers, an admin on any; to workers and managers it does not
    # exist; another team's worker or someone who is not a worker: one neutral line, no alert.
    alerts_before = (await _snapshot(harness))[1]
    for who in ("worker_n", "worker_s", "manager"):
        assert (await text(who, f"/drill {code_s}")) == "I did not understand. Send /help to see what you can do."
    no_such = "No worker with this code that you can drill. Write it like /drill W-7KQ2."
    for target in (code_s, world["sup_s"].person.code, "W-ZZZZ"):
        assert (await text("sup_n", f"/drill {target}")) == no_such, target
    assert (await text("sup_s", f"/drill {world['sup_n'].person.code}")) == no_such
    assert (await _snapshot(harness))[1] == alerts_before
    for who, target in (("sup_s", code_s), ("admin", world["worker_n"].person.code)):
        shown = [s.text for s in await world[who].say(f"/drill {target}") if s.shows]
        assert shown[0].startswith(f"Drill started for {target}"), who
    async with harness.storage.db.read() as tx:
        drills = await harness.storage.alerts.active_in_org(tx, world["admin"].person.org_id)
    assert sorted(a.kind for a in drills if a.kind == "drill") == ["drill", "drill"]


async def test_supervisor_summary_counts_only_their_team(harness: Harness, world: dict) -> None:
    before = len(harness.api.sent)
    await world["sup_n"].say("/summary")
    text = [s for s in harness.api.sent[before:] if s.shows][-1].text
    assert "Incidents: 0." in text.splitlines()[0]
    before = len(harness.api.sent)
    await world["sup_s"].say("/summary")
    text = [s for s in harness.api.sent[before:] if s.shows][-1].text
    assert "Incidents: 1." in text.splitlines()[0]


async def test_revoked_person_loses_access_on_next_message(harness: Harness, world: dict) -> None:
    worker = world["worker_n"]
    assert (await worker.say("/status"))[-1].text == "You are not checked in. To start: /checkin."
    async with harness.storage.db.tx() as tx:
        await harness.storage.people.set_status(tx, worker.person.id, "revoked")
    assert [s.text for s in await worker.say("/status")] == ["This chat is by invitation only."]
    assert [s.text for s in await worker.tap_forged("alert:red") if s.shows] == ["This chat is by invitation only."]
    async with harness.storage.db.read() as tx:
        assert (await tx.one("SELECT count(*) FROM alerts WHERE person_id = ?", (worker.person.id,)))[0] == 0


async def test_cli_revoke_closes_open_checkin(harness: Harness, world: dict) -> None:
    import base64
    import os
    import subprocess
    import sys
    from pathlib import Path

    worker = world["worker_n"]
    await check_in(worker)
    root = Path(__file__).resolve().parent.parent
    env = {
        **os.environ,
        "OUTREACH_DATA_DIR": str(harness.settings.data_dir),
        "OUTREACH_CONFIG": str(root / "config" / "org.example.toml"),
        "OUTREACH_KEY": base64.b64encode(harness.app.bot_data.key).decode(),
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot", "revoke", worker.person.code],
        env=env,
        capture_output=True,
        text=True,
        cwd=root,
        timeout=60,
    )
    assert done.returncode == 0 and done.stdout.strip() == f"Revoked {worker.person.code}.", done.stderr
    assert [s.text for s in await worker.say("/checkout")] == ["This chat is by invitation only."]
    async with harness.storage.db.read() as tx:
        assert await harness.storage.checkins.open_for(tx, worker.person.id) is None


async def test_gate_fails_closed(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    stranger = harness.chatter()

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database is gone")

    monkeypatch.setattr(harness.storage.people, "with_conversation", broken)
    assert await stranger.say("/checkin") == []  # nothing reached the other handlers
    assert harness.errors == []


async def test_plans_by_role(harness: Harness, world: dict) -> None:
    """/plan: managers and admins all, a supervisor the plans of places their team checked in at, workers
    nothing (the unknown-command line); forged buttons and a supervisor's export change and show nothing."""
    from bot.services import plans

    manager = world["manager"]
    plan = plans.Plan(
        None, "Bar La Luna", None, "Robbery", ("Robbers",), ("Alone",), ("Bot",), ("Pairs",), (),
        manager.person.code, harness.clock.now().date() + timedelta(days=30),
    )  # fmt: skip
    saved = await plans.save(harness.storage, manager.person.org_id, plan, None, harness.clock.now())

    async def text(who: str, command: str) -> str:
        shown = [s.text for s in await world[who].say(command) if s.shows][-1]
        await world[who].say("/cancel")
        return shown

    for who in ("worker_n", "worker_s"):
        assert (await text(who, "/plan")) == OUT_OF_ORDER
        assert (await text(who, f"/plan {saved.id}")) == OUT_OF_ORDER
    for who in ("manager", "admin", "sup_s"):  # south checked in at the bar
        assert (await text(who, "/plan")).startswith(f"Plans: 1\n• {saved.id}"), who
    assert (await text("sup_n", "/plan")) == "Plans: 0"
    assert (await text("sup_n", f"/plan {saved.id}")) == f"There is no plan {saved.id}."
    assert (await text("sup_s", f"/plan export {saved.id}")).startswith("Write it like /plan")
    # /plan import: managers and admins are asked for the file; to a supervisor "import" is no plan's id.
    for who in ("worker_n", "worker_s"):
        assert (await text(who, "/plan import")) == OUT_OF_ORDER
    for who in ("sup_n", "sup_s"):
        assert (await text(who, "/plan import")) == "There is no plan import."
    for who in ("manager", "admin"):
        assert (await text(who, "/plan import")) == "Send the plan's file (YAML), as exported."
    before = await _snapshot(harness)
    for who in ("worker_n", "sup_n", "sup_s"):
        for data in ("pln:new", f"pln:show:{saved.id}", "pln:edit", "pln:file", "pln:pdf", "pln:place:0"):
            shown = [s.text for s in await world[who].tap_forged(data) if s.shows]
            assert shown == [STALE] or shown == [], (who, data, shown)
    assert await _snapshot(harness) == before
