"""The plans' cycle keeps moving: a worker responsible for an action is reminded 3 days before its
deadline and once it is overdue, the owner as the review date nears: once each, at their dates on the
injected clock, across a restart; a worker's reminder names nothing and leaves the chat at clean-up. A
critical incident at a plan's place flags it for an early review and tells its owner once."""

from __future__ import annotations

from datetime import date, timedelta

from bot.services import plans as service
from bot.services.incidents import file_report
from bot.telegram.context import BotContext
from bot.telegram.jobs import sweep
from tests.auxil.harness import Chatter, Harness
from tests.test_seized_phone import ALARMING, chat_texts

SOON = "Reminder: a task you agreed to do is due on 2026-12-10."
LATE = "A task you agreed to do was due on 2026-12-10. Please tell your coordinator how it went."


def plan_for(worker: Chatter, owner: Chatter) -> service.Plan:
    return service.Plan(
        id=None,
        place="Parque Central",
        activity=None,
        risk="Raids at night",
        threats=("Patrols",),
        vulnerabilities=("Alone",),
        existing_capacity=("Check-ins",),
        required_capacity=("Pairs",),
        actions=(
            service.Action("Go in pairs", worker.person.code, "0", date(2026, 12, 10)),
            service.Action("Legal cards", "coordinator", "40", date(2026, 12, 1)),  # a role: nobody to remind
        ),
        owner=owner.person.code,
        review=date(2026, 12, 20),
    )


async def _day(harness: Harness) -> list[tuple[int | None, str]]:
    """One more day, swept every few hours; what was sent that day."""
    got = []
    for _ in range(4):
        harness.clock.advance(timedelta(hours=6))
        before = len(harness.api.sent)
        await sweep(BotContext(harness.app))
        got += [(s.chat_id, s.text or "") for s in harness.api.sent[before:] if s.method == "sendMessage"]
    return got


async def test_reminders_at_their_dates_once_each_across_a_restart(harness: Harness) -> None:
    manager = await harness.enrol("manager")
    worker = await harness.enrol("worker", "north")
    org_id = harness.app.bot_data.org.id
    plan = await service.save(harness.storage, org_id, plan_for(worker, manager), None, harness.clock.now())
    seen: dict[str, list[tuple[int | None, str]]] = {}
    while (local := harness.clock.now().astimezone(harness.config.tz).date()) < date(2026, 12, 24):
        if local == date(2026, 12, 8):
            await harness.restart()  # after the first reminder: nothing of it again
        got = [(chat, text) for chat, text in await _day(harness) if "task" in text or "Plan" in text]
        if got:
            seen[harness.clock.now().astimezone(harness.config.tz).date().isoformat()] = got
    review = f"Plan {plan.id} is due for review on 2026-12-20: /plan {plan.id}"
    assert seen == {
        "2026-12-07": [(worker.chat_id, SOON)],
        "2026-12-11": [(worker.chat_id, LATE)],
        "2026-12-13": [(manager.chat_id, review)],
    }, seen
    # The worker's phone: the reminders named nothing that tells, and are gone after the clean-up delay.
    assert not any(word in SOON.lower() + LATE.lower() for word in ALARMING["en"])
    assert plan.id not in SOON + LATE
    harness.clock.advance(harness.config.clean_up_after + timedelta(minutes=1))
    await harness.tick()
    assert not [t for t in chat_texts(harness, worker.chat_id) if "task" in t]


async def test_done_action_is_not_reminded(harness: Harness) -> None:
    manager = await harness.enrol("manager")
    worker = await harness.enrol("worker", "north")
    base = plan_for(worker, manager)
    done = service.Action("Go in pairs", worker.person.code, "0", date(2026, 12, 10), "done")
    plan = service.Plan(**{**base.__dict__, "actions": (done,)})
    await service.save(harness.storage, harness.app.bot_data.org.id, plan, None, harness.clock.now())
    harness.clock.advance(timedelta(days=16))
    got = await _day(harness)
    assert not [text for chat, text in got if chat == worker.chat_id]


async def test_critical_incident_flags_the_place_plan_once(harness: Harness) -> None:
    manager = await harness.enrol("manager")
    worker = await harness.enrol("worker", "north")
    org_id = harness.app.bot_data.org.id
    plan = await service.save(harness.storage, org_id, plan_for(worker, manager), None, harness.clock.now())
    other = await service.save(
        harness.storage,
        org_id,
        service.Plan(**{**plan_for(worker, manager).__dict__, "place": "Bar La Luna"}),
        None,
        harness.clock.now(),
    )
    before = len(harness.api.sent)
    for severity in ("2", "4"):  # a high one flags nothing; a critical one does
        draft = {"category": "threat", "severity": severity, "place": "parque central"}
        await file_report(harness.storage, worker.person, draft, harness.clock.now(), harness.config.tz)
    await harness.tick()
    flagged = f"Plan {plan.id} should be reviewed early: a critical incident was reported at its place. /plan {plan.id}"
    assert [s.text for s in harness.api.sent[before:] if s.chat_id == manager.chat_id and "Plan" in (s.text or "")] == [
        flagged
    ]
    got = {
        p.id: p.early_review for p in [await service.get(harness.storage, org_id, i) for i in (plan.id, other.id)] if p
    }
    assert got == {plan.id: True, other.id: False}
    sent = await manager.say(f"/plan {plan.id}")
    assert "To be reviewed early" in sent[-1].text


async def test_weekly_summary_lists_overdue_actions_and_reviews_for_managers_only(harness: Harness) -> None:
    manager = await harness.enrol("manager")
    supervisor = await harness.enrol("supervisor", "north")
    worker = await harness.enrol("worker", "north")
    plan = await service.save(
        harness.storage, harness.app.bot_data.org.id, plan_for(worker, manager), None, harness.clock.now()
    )
    harness.clock.advance(timedelta(days=20))  # 2026-12-13: both actions overdue, the review a week away
    text = (await manager.say("/summary"))[0].text or ""
    assert f"Overdue plan actions: 2 ({plan.id} Parque Central: 2)" in text
    assert f"Plans due for review: 1 ({plan.id} Parque Central 2026-12-20)" in text
    assert "plan" not in ((await supervisor.say("/summary"))[0].text or "").lower()


async def test_a_rise_of_the_place_risk_flags_its_plan_once(harness: Harness) -> None:
    """Risk analysed again after incidents (issue 15): the place's computed level rises, its plan is due."""
    from tests.test_risk import _incidents, _sweep

    manager = await harness.enrol("manager")
    worker = await harness.enrol("worker", "north")
    org_id = harness.app.bot_data.org.id
    plan = await service.save(
        harness.storage,
        org_id,
        service.Plan(**{**plan_for(worker, manager).__dict__, "place": "Bar La Luna"}),
        None,
        harness.clock.now(),
    )
    await _incidents(harness, worker, "Bar La Luna", [4, 2, 2])  # "high" from 10 points
    harness.clock.advance(timedelta(minutes=5))
    before = len(harness.api.sent)
    await _sweep(harness)
    await harness.tick()
    rose = f"Plan {plan.id} should be reviewed early: the risk at its place rose. /plan {plan.id}"
    assert [s.text for s in harness.api.sent[before:] if s.chat_id == manager.chat_id and rose == s.text] == [rose]
    stored = await service.get(harness.storage, org_id, plan.id)
    assert stored is not None and stored.early_review
    harness.clock.advance(timedelta(hours=2))
    before = len(harness.api.sent)
    await _sweep(harness)
    await harness.tick()
    assert [s for s in harness.api.sent[before:] if s.text == rose] == []  # once per rise
