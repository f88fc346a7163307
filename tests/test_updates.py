"""Per-chat ordering with concurrency across chats."""

from __future__ import annotations

import asyncio

from telegram import Update

from bot.standin import UpdateFactory
from bot.updates import PerChatUpdateProcessor


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
