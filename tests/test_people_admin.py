"""People and invites for admins in the chat (the CLI: tests/test_people_cli.py, which shares the helpers
here): list them, cancel an invite, move a person to another team, change a role, revoke; every change
audit-logged and holding at once; bad input one line and no change; a revocation closes the person's open
alerts, telling those alerted why; a cancel cannot be undone without the key, even after rotate-key."""

from __future__ import annotations

import asyncio
import base64
import os
import subprocess
from datetime import timedelta
from pathlib import Path

from bot.jobs.retention import run_purge
from storage.timefmt import to_db
from tests.auxil.harness import Chatter, Harness
from tests.test_lists import _cli

ROOT = Path(__file__).resolve().parent.parent
ONLY_ADMINS = "This command is for admins."
STALE = "This button is no longer current."
NOT_VALID = "This code is not valid. Check it, or ask your supervisor for a new one."
REVOKED_TEXT = "is closed because an admin revoked their access to this bot"


def _shown(sent: list) -> list[str]:
    return [s.text for s in sent if s.shows]


def _env(harness: Harness) -> dict[str, str]:
    """The CLI on the running bot's database, with its key."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OUTREACH_", "TELEGRAM_"))}
    return env | {
        "OUTREACH_DATA_DIR": str(harness.settings.data_dir),
        "OUTREACH_CONFIG": str(ROOT / "config" / "org.example.toml"),
        "OUTREACH_KEY": base64.b64encode(harness.app.bot_data.key).decode(),
    }


async def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The real command, in a process of its own, while the bot's loop goes on."""
    return await asyncio.to_thread(_cli, env, *args)


async def _person(harness: Harness, chatter: Chatter) -> tuple[str | None, str]:
    """(team name, role) as stored now."""
    async with harness.storage.db.read() as tx:
        person = await harness.storage.people.get(tx, chatter.person.id)
        assert person is not None
        team = await harness.storage.orgs.team_name(tx, person.team_id) if person.team_id else None
    return team, person.role


async def _alert_rows(harness: Harness, chatter: Chatter) -> list[tuple[str, str | None]]:
    async with harness.storage.db.read() as tx:
        rows = await tx.all(
            "SELECT status, resolution FROM alerts WHERE person_id = ? ORDER BY raised_at", (chatter.person.id,)
        )
    return [(r["status"], r["resolution"]) for r in rows]


def _one_line_refusal(done: subprocess.CompletedProcess[str], words: str) -> None:
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and words in lines[0], (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr


async def test_admin_changes_people_in_the_chat(harness: Harness) -> None:
    admin = await harness.enrol("admin")
    worker = await harness.enrol("worker", "north")
    sup = await harness.enrol("supervisor", "south")
    sent = await admin.say("/people")
    text = sent[-1].text
    assert text.startswith("People: 3") and f"• {worker.person.code} · worker · north · en · seen " in text
    # Move: the code typed, the team from buttons (no team is made by a typo).
    sent = await admin.tap(sent[-1], "ppl:team")
    assert _shown(await admin.say("W-ZZZZ")) == ["No one has that code. Check it on the list, or send /cancel."]
    sent = await admin.say(worker.person.code.lower())
    assert [label for label, _ in sent[-1].buttons] == ["north", "south"]
    sent = await admin.tap(sent[-1], "ppl:t:1")
    assert sent[-1].text == "Saved. It holds from their next message."
    assert await _person(harness, worker) == ("south", "worker")
    # Role.
    sent = await admin.tap((await admin.say("/people"))[-1], "ppl:role")
    sent = await admin.tap((await admin.say(worker.person.code))[-1], "ppl:r:supervisor")
    assert sent[-1].text == "Saved. It holds from their next message."
    assert await _person(harness, worker) == ("south", "supervisor")
    assert "This command is for supervisors." not in _shown(await worker.say("/team"))
    # Not their own access.
    await admin.tap((await admin.say("/people"))[-1], "ppl:role")
    assert _shown(await admin.say(admin.person.code)) == [
        "You cannot change your own access here: another admin or the command line can."
    ]
    assert await _person(harness, admin) == (None, "admin")
    # Revoke, confirmed; an open alert closes with the reason.
    red = await harness.enrol("worker", "south")
    await red.say("buy bread")
    sent = await admin.tap((await admin.say("/people"))[-1], "ppl:revoke")
    sent = await admin.say(red.person.code)
    assert sent[-1].text.startswith(f"Revoke {red.person.code}?")
    assert sent[-1].text.endswith(f"Open alerts about {red.person.code} now: 1.")
    sent = [s for s in await admin.tap(sent[-1], "ppl:yes") if s.chat_id == admin.chat_id]
    assert sent[-1].text == f"{red.person.code} is revoked. Open alerts closed: 1."
    await harness.tick()
    assert await _alert_rows(harness, red) == [("resolved", "revoked")]
    assert any(REVOKED_TEXT in (s.text or "") for s in sup.received())
    assert _shown(await red.say("/help")) == ["This chat is by invitation only."]
    async with harness.storage.db.read() as tx:
        logged = [
            (a, subject) for a, actor, subject in await harness.storage.audit.actions(tx) if actor == admin.person.id
        ]
    assert logged[-3:] == [
        ("person.move", worker.person.id),
        ("person.role:supervisor", worker.person.id),
        ("person.revoke", red.person.id),
    ]


async def test_admin_cancels_an_invite_in_the_chat_and_its_code_stops_working(harness: Harness) -> None:
    admin = await harness.enrol("admin")
    code = await harness.invite("worker", "north")
    await harness.invite("supervisor", "north")
    sent = await admin.say("/invites")
    assert sent[-1].text.startswith("Open invites: 2\n• ") and code not in sent[-1].text
    sent = await admin.tap(sent[-1], "ppl:inv")
    assert [label.split(" · ")[1:] for label, _ in sent[-1].buttons][:2] == [
        ["worker", "north"],
        ["supervisor", "north"],
    ]
    sent = await admin.tap(sent[-1], "ppl:i:0")
    assert sent[-1].text == "Cancelled. That invite's code is no longer valid."
    assert (await admin.say("/invites"))[-1].text.startswith("Open invites: 1\n")
    stranger = harness.chatter()
    assert _shown(await stranger.say(f"/start {code}")) == [NOT_VALID]
    async with harness.storage.db.read() as tx:
        assert ("invite.cancel", admin.person.id) in [(a, b) for a, b, _ in await harness.storage.audit.actions(tx)]


async def test_a_cancel_cannot_be_undone_without_the_key(harness: Harness) -> None:
    code = await harness.invite("worker", "north")
    admin = await harness.enrol("admin")
    await admin.tap((await admin.tap((await admin.say("/invites"))[-1], "ppl:inv"))[-1], "ppl:i:0")
    async with harness.storage.db.tx() as tx:  # someone with the file but not the key clears the cancel
        await tx.execute("UPDATE invites SET cancelled_at = NULL")
    assert _shown(await harness.chatter().say(f"/start {code}")) == [NOT_VALID]
    async with harness.storage.db.read() as tx:
        assert await harness.storage.invites.open_in(tx, admin.person.org_id, harness.clock.now()) == []


async def test_cancelled_invites_are_purged(harness: Harness) -> None:
    admin = await harness.enrol("admin")
    await harness.invite("worker", "north", ttl=timedelta(days=30))
    await admin.tap((await admin.tap((await admin.say("/invites"))[-1], "ppl:inv"))[-1], "ppl:i:0")
    harness.clock.advance(timedelta(days=31))
    purged = await run_purge(harness.storage, harness.config.retention, harness.clock.now())
    assert purged.invites == 2  # the admin's own (used long ago) and the cancelled one, not yet expired
    async with harness.storage.db.read() as tx:
        assert (await tx.one("SELECT count(*) FROM invites"))[0] == 0


async def test_bad_input_and_other_roles_in_the_chat_change_nothing(harness: Harness) -> None:
    admin = await harness.enrol("admin")
    others = [await harness.enrol(role, "north") for role in ("worker", "supervisor")] + [
        await harness.enrol("manager")
    ]
    code = await harness.invite("worker", "north")
    for person in others:
        for command in ("/people", "/invites"):
            assert _shown(await person.say(command)) == [ONLY_ADMINS], (person.person.role, command)
        for data in ("ppl:team", "ppl:revoke", "ppl:yes", "ppl:i:0", "ppl:r:admin", "ppl:t:0"):
            assert _shown(await person.tap_forged(data)) in ([], [STALE])
    # A role that does not exist, forged onto the role question: refused, the question stays.
    await admin.tap((await admin.say("/people"))[-1], "ppl:role")
    await admin.say(others[0].person.code)
    assert _shown(await admin.tap_forged("ppl:r:boss")) in ([STALE], [])
    await admin.say("/cancel")
    async with harness.storage.db.read() as tx:
        roles = sorted(
            (p.role, p.status) for p in await harness.storage.people.with_role(tx, admin.person.org_id, "worker")
        )
        invites = await harness.storage.invites.open_in(tx, admin.person.org_id, harness.clock.now())
    assert roles == [("worker", "active")] and len(invites) == 1
    assert await _person(harness, others[0]) == ("north", "worker")
    assert _shown(await harness.chatter().say(f"/start {code}"))[0] != NOT_VALID


async def test_people_in_the_chat_on_the_plain_adapter(tmp_path: Path) -> None:
    from tests.auxil.plain import PlainHarness

    harness = PlainHarness(tmp_path)
    await harness.start()
    try:
        admin = await harness.enrol("admin")
        worker = await harness.enrol("worker", "north")
        await harness.enrol("supervisor", "south")
        said = await admin.say("/people")
        assert f"{worker.person.code} · worker · north" in said[-1].text
        said = await admin.tap(said[-1], "ppl:team")
        said = await admin.say(worker.person.code)
        said = await admin.tap(said[-1], "ppl:t:1")
        assert said[-1].text == "Saved. It holds from their next message."
        async with harness.storage.db.read() as tx:
            person = await harness.storage.people.get(tx, worker.person.id)
            assert person is not None and await harness.storage.orgs.team_name(tx, person.team_id or "") == "south"
        code = await harness.invite("worker", "north")
        said = await admin.say("/invites")
        said = await admin.tap(said[-1], "ppl:inv")
        said = await admin.tap(said[-1], "ppl:i:0")
        assert said[-1].text == "Cancelled. That invite's code is no longer valid."
        async with harness.storage.db.read() as tx:
            assert await harness.storage.invites.find(tx, code) is not None  # found, and cancelled
            assert (await harness.storage.invites.find(tx, code)).cancelled
    finally:
        await harness.stop()


async def test_last_seen_is_written_at_most_once_an_hour(harness: Harness) -> None:
    worker = await harness.enrol("worker", "north")
    statements: list[str] = []
    harness.storage.db._writer.set_trace_callback(statements.append)
    for _ in range(3):
        await worker.say("/status")
    assert not [s for s in statements if "last_seen_at" in s]  # seen this hour already (the enrolment)
    harness.clock.advance(timedelta(hours=1))
    await worker.say("/status")
    assert len([s for s in statements if "last_seen_at" in s]) == 1
    harness.storage.db._writer.set_trace_callback(None)
    async with harness.storage.db.read() as tx:
        row = await tx.one("SELECT last_seen_at FROM people WHERE id = ?", (worker.person.id,))
    assert row["last_seen_at"] == to_db(harness.clock.now().replace(minute=0, second=0, microsecond=0))


async def test_rotation_keeps_a_cancel_and_a_move_authentic(tmp_path: Path) -> None:
    from bot.services import people as service
    from storage import Storage
    from storage.rotation import rotate
    from storage.sealing import Sealer

    harness = Harness(tmp_path)
    await harness.start()
    admin = await harness.enrol("admin")
    worker = await harness.enrol("worker", "north")
    await harness.enrol("supervisor", "south")
    cancelled, kept = await harness.invite("worker", "north"), await harness.invite("worker", "north")
    await admin.tap((await admin.tap((await admin.say("/invites"))[-1], "ppl:inv"))[-1], "ppl:i:0")
    moved = await service.move(harness.storage, admin.person.org_id, worker.person.code, "south", harness.clock.now())
    assert moved.outcome is service.Change.OK
    old_key = harness.app.bot_data.key
    await harness.stop()

    new_key = bytes(range(32))
    storage = await Storage.open(harness.settings.data_dir / "outreach.db", old_key)
    try:
        assert (await rotate(storage.db, Sealer(new_key, old_masters=(old_key,))))[1] == 0
        async with storage.db.read() as tx:
            macs = [
                bytes(r[0][:4])
                for r in await tx.all("SELECT access_mac FROM people UNION ALL SELECT access_mac FROM invites")
            ]
        assert set(macs) == {Sealer.key_id_of(new_key)}  # every row, the cancelled invite and the moved person too
    finally:
        await storage.close()

    harness2 = Harness(tmp_path, key=new_key)
    await harness2.start()
    try:
        worker.harness = harness2
        assert _shown(await worker.say("/status"))[-1] == "You are not checked in. To start: /checkin."
        assert await _person(harness2, worker) == ("south", "worker")
        assert _shown(await harness2.chatter().say(f"/start {cancelled}")) == [NOT_VALID]
        async with harness2.storage.db.tx() as tx:  # cleared without the key, after the rotation too
            await tx.execute("UPDATE invites SET cancelled_at = NULL")
        assert _shown(await harness2.chatter().say(f"/start {cancelled}")) == [NOT_VALID]
        assert _shown(await harness2.chatter().say(f"/start {kept}"))[0].startswith("Welcome.")
    finally:
        await harness2.stop()


async def test_the_people_conversation_and_alerts_list_leave_the_chat(tmp_path: Path) -> None:
    from tests.auxil.harness import EXAMPLE

    harness = Harness(tmp_path, {**EXAMPLE, "privacy": {"clean_up_after": "1m"}})
    await harness.start()
    try:
        admin = await harness.enrol("admin")
        supervisor = await harness.enrol("supervisor", "north")
        worker = await harness.enrol("worker", "north")
        await worker.say("buy bread")
        await admin.tap((await admin.say("/people"))[-1], "ppl:team")
        await admin.tap((await admin.say(worker.person.code))[-1], "ppl:t:0")
        await admin.say("/invites")
        await supervisor.say("/alerts")
        harness.clock.advance(timedelta(minutes=2))
        await harness.tick()
        for person in (admin, supervisor):
            chat = "\n".join(harness.api.chats.get(person.chat_id, {}).values())
            for shown in (worker.person.code + " · ", "People:", "Open alerts", "Open invites", "north"):
                assert shown not in chat, (person.person.role, shown, chat)
    finally:
        await harness.stop()


async def test_with_no_team_yet_the_chat_says_how_to_make_one(harness: Harness) -> None:
    admin = await harness.enrol("admin")
    manager = await harness.enrol("manager")
    await admin.tap((await admin.say("/people"))[-1], "ppl:team")
    shown = _shown(await admin.say(manager.person.code))
    assert shown == [
        "There are no teams yet. An invite for a team makes one, or on the server:"
        " outreach-bot people move CODE --team NAME --create-team"
    ]
    assert await _person(harness, manager) == (None, "manager")
    # A forged "cancel an invite" on the people list shows nothing to pick.
    await admin.say("/people")
    assert _shown(await admin.tap_forged("ppl:inv")) in ([STALE], [])


async def test_a_row_edited_without_the_key_is_listed_as_unknown(harness: Harness) -> None:
    admin = await harness.enrol("admin")
    worker = await harness.enrol("worker", "north")
    async with harness.storage.db.tx() as tx:  # what someone with the file and no key can do
        await tx.execute("UPDATE people SET role = 'manager' WHERE id = ?", (worker.person.id,))
    text = (await admin.say("/people"))[-1].text
    assert text.startswith("People: 1\n")
    assert f"• {worker.person.code} · changed without the key: unknown to the bot" in text.splitlines()
    await admin.tap(admin.last(), "ppl:role")
    assert _shown(await admin.say(worker.person.code)) == [
        "No one has that code. Check it on the list, or send /cancel."
    ]
    env = _env(harness)
    listed = (await _run(env, "people", "list")).stdout.strip().splitlines()
    assert listed[-1] == f"Changed without the key, so unknown to the bot (see its log): {worker.person.code}."
    assert listed[-2] == "1 active, 0 revoked."
