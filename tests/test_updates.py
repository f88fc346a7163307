"""Per-chat ordering with concurrency across chats."""

from __future__ import annotations

import asyncio

from telegram import Update

from bot.telegram.updates import PerChatUpdateProcessor
from tests.auxil.standin import UpdateFactory


async def test_one_chat_in_order_other_chats_alongside() -> None:
    processor = PerChatUpdateProcessor(16)
    log: list[str] = []
    slow = asyncio.Event()

    async def work(name: str, wait: asyncio.Event | None = None) -> None:
        log.append(f"start {name}")
        if wait is not None:
            await wait.wait()
        log.append(f"end {name}")

    a, b = UpdateFactory(1), UpdateFactory(2)
    first = Update.de_json(a.text("one"), None)
    second = Update.de_json(a.text("two"), None)
    other = Update.de_json(b.text("three"), None)
    tasks = [
        asyncio.create_task(processor.process_update(first, work("a1", slow))),
        asyncio.create_task(processor.process_update(second, work("a2"))),
        asyncio.create_task(processor.process_update(other, work("b1"))),
    ]
    await asyncio.sleep(0)
    for _ in range(5):
        await asyncio.sleep(0)
    assert "end b1" in log and "start a2" not in log  # b runs while a's first update waits; a2 waits its turn
    slow.set()
    await asyncio.gather(*tasks)
    assert log.index("end a1") < log.index("start a2")
    assert processor._locks == {}  # idle chats are forgotten


async def test_lean_bot_sends_keyboards_and_reads_presses_without_the_echoed_keyboard() -> None:
    """What LeanBot leaves out (Telegram's echo of a keyboard) is nothing the bot needs."""
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup

    from bot.telegram.lean_bot import LeanBot
    from tests.auxil.standin import FakeBotApi, StandinRequest

    api = FakeBotApi()
    request = StandinRequest(api)
    bot = LeanBot("123:TOKEN", base_url="http://standin/bot", request=request, get_updates_request=request)
    await bot.initialize()
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="co:fine:7")]])
    message_id = await bot.send_text(42, "Are you safe?", keyboard)
    [sent] = api.to(42)
    assert sent.message_id == message_id and sent.params["reply_markup"] == keyboard.to_dict()
    chat = UpdateFactory(42)
    api.push_update(chat.tap({"message_id": message_id, "date": 0, "chat": chat.chat, "text": "Are you safe?",
                              "reply_markup": keyboard.to_dict()}, "co:fine:7"))  # fmt: skip
    [update] = await bot.get_updates(timeout=0)
    assert update.callback_query is not None and update.callback_query.data == "co:fine:7"
    assert update.callback_query.message is not None and update.callback_query.message.message_id == message_id
    assert update.callback_query.message.reply_markup is None
    await bot.answer_button(update.callback_query.id, "noted")
    assert (api.sent[-1].method, api.sent[-1].params["callback_query_id"], api.sent[-1].text) == (
        "answerCallbackQuery",
        update.callback_query.id,
        "noted",
    )
    await bot.shutdown()


async def test_telegram_forgets_an_update_only_once_its_handling_has_ended(tmp_path, monkeypatch) -> None:
    """A kill while a code word is being handled must not lose it: until the handling ends, the
    update stays unconfirmed at Telegram (which sends it again after a restart); it is handled once;
    and one stuck update holds the others back only for HOLD_SECONDS."""
    from bot.telegram import updates
    from tests.auxil.harness import Harness

    harness = Harness(tmp_path)
    await harness.start()
    worker, other = await harness.enrol("worker", "north"), await harness.enrol("worker", "north")
    api = harness.api
    release, reached = asyncio.Event(), asyncio.Event()
    answer = api.handle

    async def slow_reply_to_worker(method: str, params: dict) -> tuple[int, dict]:
        if method == "sendMessage" and params.get("chat_id") == worker.chat_id:
            reached.set()
            await release.wait()
        return await answer(method, params)

    async def until(condition) -> None:  # a bounded wait: a broken bot fails the test, not hangs it
        async def poll() -> None:
            while not condition():
                await asyncio.sleep(0)

        await asyncio.wait_for(poll(), 10)

    def noted(chatter) -> int:
        return sum(1 for s in api.to(chatter.chat_id) if s.text == "OK, noted.")

    api.handle = slow_reply_to_worker  # type: ignore[method-assign]
    assert harness.app.updater is not None
    await harness.app.updater.start_polling(poll_interval=0, timeout=1)
    try:
        update = worker.factory.text("buy bread")
        api.push_update(update)
        await asyncio.wait_for(reached.wait(), 5)
        for _ in range(100):
            await asyncio.sleep(0)
        assert update in api._pending  # not confirmed: Telegram would send it again after a crash
        release.set()
        await until(lambda: update not in api._pending)  # confirmed with the next poll, once handled
        assert noted(worker) == 1
        async with harness.storage.db.read() as tx:
            red = harness.storage.codes.token("alerts.kind", "red")  # kinds are coded (storage/codes.py)
            assert (await tx.one("SELECT count(*) FROM alerts WHERE kind = ?", (red,)))[0] == 1

        # A stuck update: the others are fetched and handled after the hold, not after it.
        monkeypatch.setattr(updates, "HOLD_SECONDS", 0.05)
        release.clear()
        reached.clear()
        api.push_update(worker.factory.text("buy bread"))
        await asyncio.wait_for(reached.wait(), 5)
        api.push_update(other.factory.text("buy bread"))
        await until(lambda: noted(other) == 1)
        assert noted(worker) == 1  # still stuck
    finally:
        release.set()
        await harness.app.updater.stop()
        await harness.stop()
