"""Plans are sealed like the rest: no word of a plan in the database's bytes (WAL included), rotate-key
re-seals them and recomputes their place digest, an archived plan is purged after its retention period
(an active one never), and the access rules hold: workers see none, supervisors their team's places."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.jobs.retention import run_purge
from bot.services import plans as service
from storage import Storage
from storage.rotation import rotate
from storage.sealing import Sealer
from tests.auxil.harness import Harness
from tests.test_checkin import check_in
from tests.test_plan_cycle import plan_for

MARKER = "Zorzal weakness nobody may read"


async def test_plan_sealed_rotated_and_purged(tmp_path: Path) -> None:
    harness = Harness(tmp_path)
    await harness.start()
    manager = await harness.enrol("manager")
    worker = await harness.enrol("worker", "north")
    org_id = harness.app.bot_data.org.id
    base = plan_for(worker, manager)
    plan = await service.save(
        harness.storage, org_id, service.Plan(**{**base.__dict__, "vulnerabilities": (MARKER,)}), None,
        harness.clock.now(),
    )  # fmt: skip
    stored = b"".join(p.read_bytes() for p in sorted(harness.settings.data_dir.glob("outreach.db*")))
    assert MARKER.encode() not in stored and b"Parque Central" not in stored and plan.id.encode() in stored
    old_key = harness.app.bot_data.key
    await harness.stop()

    new_key = bytes(range(32))
    storage = await Storage.open(harness.settings.data_dir / "outreach.db", old_key)
    try:
        assert (await rotate(storage.db, Sealer(new_key, old_masters=(old_key,))))[1] == 0
    finally:
        await storage.close()
    storage = await Storage.open(harness.settings.data_dir / "outreach.db", new_key)
    try:
        async with storage.db.read() as tx:
            [at_place] = await storage.plans.at_place(tx, org_id, "parque central")  # the digest under the new key
        assert service.from_json(at_place) == plan
        archived = await service.save(storage, org_id, service.Plan(**{**base.__dict__}), None, harness.clock.now())
        assert archived.id is not None
        await service.archive(storage, org_id, archived.id, None, harness.clock.now())
        await run_purge(storage, harness.config.retention, harness.clock.now() + timedelta(days=364))
        assert await service.get(storage, org_id, archived.id) is not None  # kept for its period
        await run_purge(storage, harness.config.retention, harness.clock.now() + timedelta(days=366))
        assert await service.get(storage, org_id, archived.id) is None
        assert await service.get(storage, org_id, plan.id) == plan  # an active plan is never purged
    finally:
        await storage.close()


async def test_who_sees_which_plans(harness: Harness) -> None:
    manager = await harness.enrol("manager")
    north_sup = await harness.enrol("supervisor", "north")
    south_sup = await harness.enrol("supervisor", "south")
    worker = await harness.enrol("worker", "north")
    org_id = harness.app.bot_data.org.id
    bar = service.Plan(**{**plan_for(worker, manager).__dict__, "place": "Bar La Luna"})
    park = await service.save(harness.storage, org_id, bar, None, harness.clock.now())
    activity = service.Plan(**{**plan_for(worker, manager).__dict__, "place": None, "activity": "Night outreach"})
    await service.save(harness.storage, org_id, activity, None, harness.clock.now())
    await check_in(worker, "ci:place:1")  # the north team works at the bar (Bar La Luna)
    assert (await manager.say("/plan"))[-1].text.startswith("Plans: 2")
    assert (await north_sup.say("/plan"))[-1].text.startswith(f"Plans: 1\n• {park.id} · Bar La Luna")
    assert (await south_sup.say("/plan"))[-1].text.startswith("Plans: 0")
    assert [s.text for s in await south_sup.say(f"/plan pdf {park.id}") if s.method == "sendMessage"] == [
        f"There is no plan {park.id}."
    ]
    sent = await north_sup.say(f"/plan pdf {park.id}")
    assert [s.method for s in sent if s.method == "sendDocument"] == ["sendDocument"]
    # A supervisor may not export or change a plan: the export is refused like a wrong form.
    assert "export" not in str((await north_sup.say(f"/plan {park.id}"))[-1].buttons)
