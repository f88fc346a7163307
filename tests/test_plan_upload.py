"""/plan import on both adapters: a plan made and exported in the chat, edited as a person would on a
laptop and sent back as a file, is stored equal to the edit (audit-logged); a bad file (not YAML, a
missing field, a bad date, an action with no one responsible, a place not on the list, too big, not a
file at all) gets one line, changes nothing, and the question stays; workers and supervisors get what
they got before; the file sent leaves the chat at clean-up."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.flows.model import MAX_FILE
from bot.services import plans as service
from tests.auxil.harness import EXAMPLE, Harness
from tests.auxil.plain import PlainHarness
from tests.test_plans import _plans, make_in_chat

CONFIG = {**EXAMPLE, "privacy": {"clean_up_after": "3m"}}
ASK = "Send the plan's file (YAML), as exported."
NOT_A_PLAN = "That file is not a plan in the documented form (YAML, see the README)."
TOO_BIG = "That file is too big for a plan (64 KiB at most)."
UNKNOWN = "I did not understand. Send /help to see what you can do."
ADAPTERS = ("telegram", "plain")
Any_ = Any  # a Harness or a PlainHarness, a Chatter or a PlainChatter: the tests use their common shape


@asynccontextmanager
async def running(adapter: str, tmp_path: Path) -> AsyncIterator[Any_]:
    harness: Any_ = Harness(tmp_path, CONFIG) if adapter == "telegram" else PlainHarness(tmp_path, CONFIG)
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop()
    assert not getattr(harness, "errors", []), harness.errors


def shown(sent: list[Any_]) -> list[str]:
    return [s.text for s in sent if s.shows]


def fetched(harness: Any_) -> int:
    """How many files the bot fetched from the messenger so far."""
    return len(harness.api.downloads) if isinstance(harness, Harness) else len(harness.fetched)


async def export(harness: Any_, manager: Any_, plan_id: str) -> bytes:
    """`/plan export`: the YAML bytes as the bot sent them into the chat."""
    sent = await manager.say(f"/plan export {plan_id}")
    if isinstance(harness, Harness):
        [document] = [s for s in sent if s.method == "sendDocument"]
        assert document.params["document"]["file_name"] == f"plan_{plan_id}.yaml"
        assert document.text == "Edit it, then send it back after /plan import."
        return bytes(document.params["document"]["content"])
    [said] = [s for s in sent if s.file is not None]
    assert said.file is not None and said.file.filename == f"plan_{plan_id}.yaml"
    return said.file.content


def chat_texts(harness: Any_, chatter: Any_) -> list[str]:
    """What the chat holds now, as the phone shows it."""
    if isinstance(harness, Harness):
        return list(harness.api.chats.get(chatter.chat_id, {}).values())
    return [said.text for said in harness.wire.chat(chatter.chat_id)]


@pytest.mark.parametrize("adapter", ADAPTERS)
async def test_exported_edited_and_sent_back_equals_the_edit(adapter: str, tmp_path: Path) -> None:
    async with running(adapter, tmp_path) as harness:
        manager = await harness.enrol("manager")
        worker = await harness.enrol("worker", "north")
        plan = await make_in_chat(harness, manager, worker)
        doc = yaml.safe_load((await export(harness, manager, str(plan.id))).decode("utf-8"))
        doc["actions"][0]["status"] = "done"
        doc["review"] = "2027-03-15"
        edited = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False).encode("utf-8")
        assert shown(await manager.say("/plan import"))[-1].split("\n\n")[0] == ASK
        before = fetched(harness)
        assert shown(await manager.send_file("plan.yaml", edited)) == [
            f"Saved: plan {plan.id}. See it with /plan {plan.id}."
        ]
        assert fetched(harness) == before + 1
        [after] = await _plans(harness, manager.person.org_id)
        assert after.to_dict() == service.parse(doc, harness.config).to_dict()
        assert after.id == plan.id and after.actions[0].status == "done" and after.review.isoformat() == "2027-03-15"
        assert after.actions[1].status == plan.actions[1].status and after.risk == plan.risk
        async with harness.storage.db.read() as tx:
            audit = await harness.storage.audit.actions(tx, manager.person.org_id)
        assert audit[-1] == ("plan.save", manager.person.id, plan.id)
        # The file sent, the export and the answers leave the chat with the conversation.
        marker = "[document plan.yaml]" if adapter == "telegram" else "[file plan.yaml]"
        assert marker in chat_texts(harness, manager)
        harness.clock.advance(timedelta(minutes=4))
        await harness.tick()
        left = chat_texts(harness, manager)
        assert not [t for t in left if "plan.yaml" in t or "plan_P-" in t or "/plan import" in t], left
        assert not [t for t in left if t.startswith(("Saved: plan", ASK, "Edit it"))], left


def _bad_files(doc: dict[str, Any]) -> dict[str, tuple[str, bytes]]:
    """Each bad file (from the exported one) and the one line it gets."""

    def edited(change: Callable[[dict[str, Any]], Any]) -> bytes:
        copy = yaml.safe_load(yaml.safe_dump(doc))
        copy["risk"] = "CHANGED"  # were anything saved, this would show
        change(copy)
        return yaml.safe_dump(copy, allow_unicode=True).encode("utf-8")

    return {
        "not yaml": (NOT_A_PLAN, b"id: [unclosed\n  risk: {"),
        "not utf-8": (NOT_A_PLAN, b"\xff\xfe\x00r\x00i\x00s\x00k"),
        "a list": (NOT_A_PLAN, b"- one\n- two\n"),
        "missing field": ("The plan has no risk.", edited(lambda d: d.pop("risk"))),
        "bad date": ("review: not a date. Write it like 2027-01-31.", edited(lambda d: d.update(review="31/01/2027"))),
        "no responsible": ("Action 1 has no person responsible.", edited(lambda d: d["actions"][0].pop("responsible"))),
        "unknown place": (
            "There is no place called Nowhere Park on the list.",
            edited(lambda d: d.update(place="Nowhere Park")),
        ),
    }


@pytest.mark.parametrize("adapter", ADAPTERS)
async def test_bad_files_get_one_line_and_change_nothing(adapter: str, tmp_path: Path) -> None:
    async with running(adapter, tmp_path) as harness:
        manager = await harness.enrol("manager")
        worker = await harness.enrol("worker", "north")
        plan = await make_in_chat(harness, manager, worker)
        doc = yaml.safe_load((await export(harness, manager, str(plan.id))).decode("utf-8"))
        assert shown(await manager.say("/plan import"))[-1].split("\n\n")[0] == ASK
        for name, (line, content) in _bad_files(doc).items():
            assert shown(await manager.send_file(f"{name}.yaml", content)) == [line], name
        # Too big: refused on the size the messenger reports, never fetched.
        before = fetched(harness)
        big = b"# " + b"x" * (MAX_FILE + 10)
        assert shown(await manager.send_file("big.yaml", big)) == [TOO_BIG]
        assert fetched(harness) == before
        # Typed text where a file is asked for: one line.
        wrong = "Please tap one of the buttons above, or send /cancel."
        if adapter == "plain":
            wrong = "Please reply with one of the numbers above, or send /cancel."
        assert shown(await manager.say("risk: CHANGED")) == [wrong]
        assert await _plans(harness, manager.person.org_id) == [plan]
        # The question stayed all along: the good file is taken now.
        doc["review"] = "2027-04-01"
        sent = await manager.send_file("plan.yaml", yaml.safe_dump(doc).encode("utf-8"))
        assert shown(sent) == [f"Saved: plan {plan.id}. See it with /plan {plan.id}."]
        [after] = await _plans(harness, manager.person.org_id)
        assert after.review.isoformat() == "2027-04-01" and after.risk == plan.risk


@pytest.mark.parametrize("adapter", ADAPTERS)
async def test_workers_and_supervisors_import_nothing(adapter: str, tmp_path: Path) -> None:
    async with running(adapter, tmp_path) as harness:
        manager = await harness.enrol("manager")
        worker = await harness.enrol("worker", "north")
        supervisor = await harness.enrol("supervisor", "north")
        plan = await make_in_chat(harness, manager, worker)
        doc = yaml.safe_load((await export(harness, manager, str(plan.id))).decode("utf-8"))
        doc["risk"] = "CHANGED"
        changed = yaml.safe_dump(doc).encode("utf-8")
        before = fetched(harness)
        assert shown(await worker.say("/plan import")) == [UNKNOWN]  # as before: /plan is unknown to workers
        assert shown(await worker.send_file("plan.yaml", changed)) == [UNKNOWN]
        assert shown(await supervisor.say("/plan import")) == ["There is no plan import."]  # as before
        assert shown(await supervisor.send_file("plan.yaml", changed)) == [UNKNOWN]
        assert fetched(harness) == before  # nobody's file was even fetched
        assert await _plans(harness, manager.person.org_id) == [plan]


def test_the_shared_check_refuses_what_the_messenger_did_not_size(harness: Harness) -> None:
    """A file whose size the messenger did not say is refused after fetching, by the same check the
    CLI's import uses."""
    with pytest.raises(service.PlanError) as refused:
        service.from_file(b"# " + b"x" * MAX_FILE, harness.config)
    assert refused.value.text == service.TOO_BIG


async def test_the_terminal_sandbox_sends_a_file_with_file_colon(tmp_path: Path) -> None:
    """`file:PATH` in the sandbox is the plain adapter's file: a plan sent after /plan import is saved."""
    import io

    from bot.sandbox import Sandbox
    from tests.test_sandbox import output, person, settings_for

    box = Sandbox(settings_for(tmp_path / "data"), out=io.StringIO(), reason="no-token")
    await box.start()
    try:
        manager = await person(box, "manager")
        plan = service.Plan(
            None, None, "Night outreach", "Raids", ("Police",), ("Alone",), ("Bot",), ("Pairs",), (),
            manager.code, box.bot.clock.now().date() + timedelta(days=30),
        )  # fmt: skip
        saved = await service.save(box.storage, manager.org_id, plan, manager.id, box.bot.clock.now())
        doc = yaml.safe_load(service.to_yaml(saved))
        doc["risk"] = "Raids and robberies"
        edited = tmp_path / "plan.yaml"
        edited.write_text(yaml.safe_dump(doc), encoding="utf-8")
        await box.handle_line(":m")
        await box.handle_line("/plan import")
        await box.handle_line(f"file:{tmp_path / 'missing.yaml'}")
        assert "(cannot read" in output(box) and "nothing sent)" in output(box)
        await box.handle_line(f"file:{edited}")
        assert f"Saved: plan {saved.id}" in output(box)
        found = await service.get(box.storage, manager.org_id, str(saved.id))
        assert found is not None and found.risk == "Raids and robberies"
    finally:
        await box.stop()


async def test_a_file_the_bot_api_does_not_give_is_one_line(harness: Harness) -> None:
    """A document whose bytes getFile does not give (gone, unknown): one line, and the question stays."""
    manager = await harness.enrol("manager")
    assert shown(await manager.say("/plan import"))[-1] == ASK
    gone = {"file_id": "BQACgone", "file_unique_id": "AgADgone", "file_name": "plan.yaml", "file_size": 900}
    sent = await harness.feed(manager.factory.document(gone))
    assert shown(sent) == ["Could not get that file. Please send it again."]
    assert ("getFile", {"file_id": "BQACgone"}) in harness.api.calls
    assert await _plans(harness, manager.person.org_id) == []


async def test_the_http_stand_in_serves_files_where_the_bot_looks(tmp_path: Path) -> None:
    """Over real HTTP: getFile, then the bytes at the file URL bot/telegram/app.py derives from
    TELEGRAM_API_BASE_URL (…/bot -> …/file/bot), as Telegram and a local Bot API server serve them."""
    from telegram import Bot

    from bot.telegram.app import file_url
    from tests.auxil.harness import TOKEN
    from tests.auxil.standin import FakeBotApi
    from tests.auxil.standin.http import BotApiServer

    api = FakeBotApi()
    server = BotApiServer(api, TOKEN)
    await server.start()
    try:
        document = api.person_sent("plan.yaml", b"risk: Raids\n")
        bot = Bot(TOKEN, base_url=server.base_url, base_file_url=file_url(server.base_url))
        async with bot:
            file = await bot.get_file(document["file_id"])
            assert bytes(await file.download_as_bytearray()) == b"risk: Raids\n"
    finally:
        await server.stop()
    assert api.downloads == ["documents/file_1.yaml"]
