"""Security plans: made in the chat, exported to YAML, edited on a laptop and imported back (equal to the
edit); bad files, actions with no one responsible and places not on the list are one line and change nothing."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import yaml

from bot.services import plans as service
from tests.auxil.harness import Harness
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


async def _plans(harness: Harness) -> list[service.Plan]:
    async with harness.storage.db.read() as tx:
        return [service.from_json(s) for s in await harness.storage.plans.all(tx, harness.app.bot_data.org.id)]


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
