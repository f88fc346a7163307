"""Security plans: made in the chat, exported to YAML, edited on a laptop and imported back (equal to the
edit); bad files, actions with no one responsible and places not on the list are one line and change nothing."""

from __future__ import annotations

import os
import stat
from datetime import date
from pathlib import Path

import pypdf
import yaml

from bot.services import plans as service
from tests.auxil.harness import Chatter, Harness
from tests.auxil.plain import PlainChatter, PlainHarness
from tests.test_people_admin import _env, _one_line_refusal, _run

PLAN_YAML = """\
place: Parque Central
risk: Police raids at night
threats:
  - Patrols after 22:00
vulnerabilities:
  - Workers go alone
existing_capacity:
  - Check-ins with the bot
required_capacity:
  - Pairs after 22:00
actions:
  - measure: Go in pairs after 22:00
    responsible: {worker}
    cost: "0"
    deadline: 2027-01-10
    status: todo
  - measure: Legal aid card for everyone
    responsible: coordinator
    cost: 40 USD
    deadline: 2027-01-20
owner: {manager}
review: 2027-02-01
"""


async def _plans(harness: Harness | PlainHarness, org_id: str | None = None) -> list[service.Plan]:
    org_id = org_id or harness.app.bot_data.org.id  # type: ignore[union-attr]
    async with harness.storage.db.read() as tx:
        return [service.from_json(s) for s in await harness.storage.plans.all(tx, org_id)]


async def test_cli_import_export_round_trip_and_bad_files(harness: Harness, tmp_path: Path) -> None:
    manager = await harness.enrol("manager")
    worker = await harness.enrol("worker", "north")
    env = _env(harness)
    src = tmp_path / "plan.yaml"
    src.write_text(PLAN_YAML.format(worker=worker.person.code, manager=manager.person.code), encoding="utf-8")
    done = await _run(env, "plans", "import", str(src))
    assert done.returncode == 0, done.stderr
    [plan] = await _plans(harness)
    assert plan.place == "Parque Central" and plan.actions[0].responsible == worker.person.code
    assert plan.actions[1].status == "todo" and plan.review.isoformat() == "2027-02-01"
    out = tmp_path / "out.yaml"
    done = await _run(env, "plans", "export", str(plan.id), str(out))
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    doc = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert doc["id"] == plan.id and doc["risk"] == "Police raids at night"
    pdf = tmp_path / "plan.pdf"
    done = await _run(env, "plans", "pdf", str(plan.id), str(pdf), "--lang", "es")
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(os.stat(pdf).st_mode) == 0o600
    assert "Plan de seguridad" in pypdf.PdfReader(pdf).pages[0].extract_text()
    _one_line_refusal(await _run(env, "plans", "export", str(plan.id), str(out)), "exists")  # never overwritten
    # Bad files: one line each, nothing changed.
    bad = {
        "risk": ("The plan has no risk.", lambda d: d.pop("risk")),
        "date": ("review: not a date. Write it like 2027-01-31.", lambda d: d.update(review="31/01/2027")),
        "responsible": ("Action 1 has no person responsible.", lambda d: d["actions"][0].pop("responsible")),
        "place": ("There is no place called Nowhere Park on the list.", lambda d: d.update(place="Nowhere Park")),
        "code": ("owner: no one has the code M-ZZZZ.", lambda d: d.update(owner="M-ZZZZ")),
    }
    for name, (line, edit) in bad.items():
        changed = yaml.safe_load(out.read_text(encoding="utf-8"))
        changed["risk"] = "CHANGED"
        edit(changed)
        path = tmp_path / f"bad-{name}.yaml"
        path.write_text(yaml.safe_dump(changed), encoding="utf-8")
        _one_line_refusal(await _run(env, "plans", "import", str(path)), line)
    assert await _plans(harness) == [plan]


def _document(harness: Harness) -> bytes:
    document = [c for m, c in harness.api.calls if m == "sendDocument"][-1]
    return bytes(document["document"]["content"])


async def make_in_chat(
    harness: Harness | PlainHarness, manager: Chatter | PlainChatter, worker: Chatter | PlainChatter
) -> service.Plan:
    """A plan made step by step in the chat, with one bad answer on the way at each kind of step."""
    sent = await manager.say("/plan")
    assert sent[-1].text.startswith("Plans: 0")
    sent = await manager.tap(sent[-1], "pln:new")
    sent = await manager.tap(sent[-1], "pln:place:0")  # Parque Central
    assert "What risk" in sent[-1].text
    for answer in ("Police raids at night", "Patrols after 22:00; Robbers", "Workers go alone", "Check-ins", "Pairs"):
        sent = await manager.say(answer)
    assert "Type one action" in sent[-1].text
    # An action without a person responsible, a bad date, an unknown code: one line each, nothing added.
    assert [s.text for s in await manager.say("Go in pairs;  ; 0; 2027-01-10") if s.shows] == [
        "Action 1 has no person responsible."
    ]
    bad_date = await manager.say(f"Go in pairs; {worker.person.code}; 0; 10/01/2027")
    assert [s.text for s in bad_date if s.shows] == ["deadline: not a date. Write it like 2027-01-31."]
    unknown = await manager.say("Go in pairs; W-ZZZZ; 0; 2027-01-10")
    assert [s.text for s in unknown if s.shows] == ["responsible: no one has the code W-ZZZZ."]
    sent = await manager.say(f"Go in pairs; {worker.person.code.lower()}; 0; 2027-01-10")
    sent = await manager.say("Legal aid card for everyone; coordinator; 40 USD; 2027-01-20")
    assert "2. Legal aid card for everyone" in sent[-1].text
    sent = await manager.tap(sent[-1], "pln:done")
    sent = await manager.tap(sent[-1], "pln:me")
    assert [s.text for s in await manager.say("next month") if s.shows] == [
        "review: not a date. Write it like 2027-01-31."
    ]
    sent = await manager.say("2027-02-01")
    assert sent[-1].text.startswith("Saved: plan P-")
    [plan] = await _plans(harness, manager.person.org_id)
    return plan


async def test_plan_made_in_chat_exported_edited_imported(harness: Harness, tmp_path: Path) -> None:
    manager = await harness.enrol("manager")
    worker = await harness.enrol("worker", "north")
    plan = await make_in_chat(harness, manager, worker)
    assert plan.place == "Parque Central" and plan.threats == ("Patrols after 22:00", "Robbers")
    assert [a.responsible for a in plan.actions] == [worker.person.code, "coordinator"]
    assert plan.owner == manager.person.code
    # The file from the chat, edited as a person would on a laptop, and brought back.
    await manager.say(f"/plan export {plan.id}")
    doc = yaml.safe_load(_document(harness).decode("utf-8"))
    doc["risk"] = "Raids and robberies at night"
    doc["actions"][0]["status"] = "done"
    doc["actions"].append({"measure": "Safe house list", "responsible": "nurse", "cost": "", "deadline": "2027-03-01"})
    doc["review"] = "2027-03-15"
    edited = tmp_path / "edited.yaml"
    edited.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    done = await _run(_env(harness), "plans", "import", str(edited))
    assert done.returncode == 0, done.stderr
    [after] = await _plans(harness)
    assert after.to_dict() == service.parse(doc, harness.config).to_dict()
    assert after.id == plan.id and after.risk == "Raids and robberies at night" and len(after.actions) == 3
    # Workers learn nothing of plans; the manager sees it listed and shown.
    assert [s.text for s in await worker.say("/plan") if s.shows] == [
        "I did not understand. Send /help to see what you can do."
    ]
    sent = await manager.say(f"/plan {plan.id}")
    assert "Raids and robberies at night" in sent[-1].text and "Safe house list" in sent[-1].text


async def test_update_in_chat_keeps_what_is_not_retyped(harness: Harness) -> None:
    manager = await harness.enrol("manager")
    worker = await harness.enrol("worker", "north")
    plan = await make_in_chat(harness, manager, worker)
    sent = await manager.say(f"/plan {plan.id}")
    sent = await manager.tap(sent[-1], "pln:edit")
    for answer in ("-", "Raids", "-", "-", "-", "-"):
        sent = await manager.say(answer)
    sent = await manager.say("1 done")
    assert "1. Go in pairs" in sent[-1].text and "done" in sent[-1].text
    sent = await manager.tap(sent[-1], "pln:done")
    sent = await manager.say("-")
    sent = await manager.say("-")
    [after] = await _plans(harness)
    assert after.risk == "Raids" and after.actions[0].status == "done" and after.threats == plan.threats
    assert after.review == plan.review and after.id == plan.id


async def test_plan_made_on_the_plain_adapter(tmp_path: Path) -> None:
    harness = PlainHarness(tmp_path)
    await harness.start()
    try:
        manager = await harness.enrol("manager")
        worker = await harness.enrol("worker", "north")
        plan = await make_in_chat(harness, manager, worker)
        assert plan.threats == ("Patrols after 22:00", "Robbers") and plan.owner == manager.person.code
        said = await manager.say(f"/plan pdf {plan.id}")
        assert any(s.file is not None and s.file.filename == f"plan_{plan.id}.pdf" for s in said)
    finally:
        await harness.stop()


def test_readme_example_is_a_valid_plan(harness: Harness) -> None:
    """The file form the README documents is the one the import takes."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    example = readme.split("### Security plans", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    plan = service.from_yaml(example, harness.config)
    assert plan.id == "P-7KQ2M" and plan.actions[1].status == "todo" and plan.place == "Parque Central"


async def test_plan_flow_continues_after_a_restart(harness: Harness) -> None:
    """Half-way through (an action already typed), the bot restarts: the plan goes on where it was."""
    manager = await harness.enrol("manager")
    worker = await harness.enrol("worker", "north")
    sent = await manager.tap((await manager.say("/plan"))[-1], "pln:new")
    sent = await manager.say("Night outreach")  # an activity, typed
    for answer in ("Robbery", "Robbers", "Alone", "Phones", "Pairs"):
        sent = await manager.say(answer)
    sent = await manager.say(f"Go in pairs; {worker.person.code}; 0; 2027-01-10; doing")
    await harness.restart()
    sent = await manager.tap(harness.api.sent[-1], "pln:done")
    sent = await manager.say(manager.person.code)
    sent = await manager.say("2027-02-01")
    assert sent[-1].text.startswith("Saved: plan P-")
    [plan] = await _plans(harness)
    assert plan.activity == "Night outreach" and plan.place is None
    assert plan.actions == (service.Action("Go in pairs", worker.person.code, "0", date(2027, 1, 10), "doing"),)
