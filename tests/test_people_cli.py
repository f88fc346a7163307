"""People and invites from the command line: `people list|move|role|revoke`, `invites list|cancel` and
`revoke CODE`, on their own and against a running bot, whose next update sees the change; bad input
one line (exit 2) and no change."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.auxil.harness import Harness
from tests.test_lists import _audit_actions, _cli, _install
from tests.test_people_admin import REVOKED_TEXT, _alert_rows, _env, _one_line_refusal, _person, _run, _shown


def test_cli_invites_list_cancel_and_bad_input(tmp_path: Path) -> None:
    env = _install(tmp_path)
    assert _cli(env, "init").returncode == 0
    codes = [
        _cli(env, "invite", "--role", role, "--team", "north").stdout.strip().splitlines()[-1]
        for role in ("worker", "supervisor")
    ]
    listed = _cli(env, "invites", "list").stdout.strip().splitlines()
    assert listed[-1] == "2 open invite(s)." and [line.split()[1:3] for line in listed[1:-1]] == [
        ["worker", "north"],
        ["supervisor", "north"],
    ]
    assert not any(code in "\n".join(listed) for code in codes)  # the codes themselves are never shown again
    first = listed[1].split()[0]
    before = _cli(env, "invites", "list").stdout
    for ref, why in (("nosuch", "no open invite"), (first[:4], "no open invite"), ("", "no open invite")):
        _one_line_refusal(_cli(env, "invites", "cancel", ref), why)
    _one_line_refusal(_cli(env, "people", "move", "W-ZZZZ", "--team", "north"), "no person with code")
    _one_line_refusal(_cli(env, "people", "role", "W-ZZZZ", "admin"), "no person with code")
    _one_line_refusal(_cli(env, "people", "revoke", "W-ZZZZ"), "no person with code")
    _one_line_refusal(_cli(env, "revoke", "W-ZZZZ"), "no person with code")
    assert _cli(env, "invites", "list").stdout == before
    done = _cli(env, "invites", "cancel", first)
    assert done.returncode == 0 and done.stdout.startswith(f"Cancelled invite {first} (worker)"), done.stderr
    _one_line_refusal(_cli(env, "invites", "cancel", first), "no open invite")  # once only
    listed = _cli(env, "invites", "list").stdout.strip().splitlines()
    assert listed[-1] == "1 open invite(s)." and listed[1].split()[1] == "supervisor"
    assert "invite.cancel" in asyncio.run(_audit_actions(tmp_path))
    assert _cli(env, "people", "list").stdout.strip().splitlines()[-1] == "0 active, 0 revoked."


async def test_cli_people_list_move_role_revoke_hold_at_once(harness: Harness) -> None:
    worker = await harness.enrol("worker", "north")
    sup_n = await harness.enrol("supervisor", "north")
    sup_s = await harness.enrol("supervisor", "south")
    manager = await harness.enrol("manager")
    env = _env(harness)
    listed = (await _run(env, "people", "list")).stdout.strip().splitlines()
    rows = {line.split()[0]: line.split() for line in listed[1:-1]}
    assert rows[worker.person.code][1:4] == ["worker", "north", "en"] and rows[worker.person.code][-1] == "active"
    assert rows[manager.person.code][1:3] == ["manager", "-"]
    assert "never" not in rows[worker.person.code]  # the enrolment was seen
    assert listed[-1] == "4 active, 0 revoked."

    # Bad input: one line each, nothing changed.
    _one_line_refusal(await _run(env, "people", "move", worker.person.code, "--team", "east"), "no team 'east'")
    _one_line_refusal(await _run(env, "people", "role", worker.person.code, "boss"), "no role 'boss'")
    assert await _person(harness, worker) == ("north", "worker")

    # A move holds at once: the next alert reaches the new team's supervisor only.
    done = await _run(env, "people", "move", worker.person.code.lower(), "--team", "South")
    assert done.returncode == 0 and done.stdout.startswith(f"Moved {worker.person.code} to team 'south'"), done.stderr
    assert await _person(harness, worker) == ("south", "worker")
    await worker.say("buy bread")
    assert any(s.text.startswith("URGENT") for s in sup_s.received())
    assert not any(s.text.startswith("URGENT") for s in sup_n.received())
    # A new team only when asked for.
    done = await _run(env, "people", "move", sup_n.person.code, "--team", "east", "--create-team")
    assert done.returncode == 0 and await _person(harness, sup_n) == ("east", "supervisor")

    # A role holds at once: a worker made supervisor sees /team.
    done = await _run(env, "people", "role", sup_s.person.code, "worker")
    assert done.returncode == 0, done.stderr
    assert _shown(await sup_s.say("/team")) == ["This command is for supervisors."]
    done = await _run(env, "people", "role", sup_s.person.code, "supervisor")
    assert "now has role supervisor in team 'south'" in done.stdout
    assert "This command is for supervisors." not in _shown(await sup_s.say("/team"))

    # Revoking closes their open alert; those alerted are told why; the worker gets nothing more.
    before = len(worker.received())
    done = await _run(env, "people", "revoke", worker.person.code)
    assert done.stdout.strip() == f"Revoked {worker.person.code}; 1 open alert(s) closed, those alerted were told why."
    harness.clock.set(datetime.now(UTC) + timedelta(seconds=1))  # the CLI's clock is the real one
    await harness.tick()
    assert await _alert_rows(harness, worker) == [("resolved", "revoked")]
    for told in (sup_s, manager):
        assert any(REVOKED_TEXT in (s.text or "") for s in told.received()), told.person.role
    assert len(worker.received()) == before
    assert _shown(await worker.say("/status")) == ["This chat is by invitation only."]
    done = await _run(env, "revoke", worker.person.code)  # the old command still works, and changes nothing now
    assert done.returncode == 0 and "already revoked" in done.stdout
    listed = (await _run(env, "people", "list")).stdout.strip().splitlines()
    assert listed[-1] == "3 active, 1 revoked."
    async with harness.storage.db.read() as tx:
        actions = [a for a, _, _ in await harness.storage.audit.actions(tx) if a.startswith("person.")]
    assert actions[-5:] == [
        "person.move",
        "person.move",
        "person.role:worker",
        "person.role:supervisor",
        "person.revoke",
    ]
