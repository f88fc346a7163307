"""The local stand-in says how to push a message, a button press and a location (issue 14, Build item 7),
and what it prints works: each printed curl line, run as printed, reaches the real bot, which answers."""

from __future__ import annotations

import asyncio
import json
import shlex
import shutil
import urllib.request
from typing import Any

from tests.auxil.harness import Harness
from tests.auxil.standin import updates
from tests.auxil.standin.http import BotApiServer
from tests.auxil.standin.push import instructions


def curl_lines(printed: list[str]) -> dict[str, list[str]]:
    """The curl command of each printed line, by what it pushes (say, tap, location, sent, updates)."""
    found = {}
    for line in printed:
        if "curl " in line:
            words = shlex.split(line[line.index("curl ") :].split("   (")[0])
            url = next(w for w in words if w.startswith("http://"))
            found[url.rsplit("/", 1)[1]] = words
    return found


async def run_curl(words: list[str]) -> dict[str, Any]:
    """The printed command as a person runs it (with urllib when curl is missing: the same request)."""
    if shutil.which("curl"):
        proc = await asyncio.create_subprocess_exec(*words, "-s", stdout=asyncio.subprocess.PIPE)
        out, _ = await proc.communicate()
        return json.loads(out)
    url = next(w for w in words if w.startswith("http://"))
    body = words[words.index("-d") + 1].encode() if "-d" in words else None

    def fetch() -> bytes:
        try:
            with urllib.request.urlopen(urllib.request.Request(url, data=body), timeout=10) as answer:
                return answer.read()
        except urllib.error.HTTPError as refused:
            return refused.read()

    return json.loads(await asyncio.to_thread(fetch))


class Trial:
    """A person pushing by hand into the stand-in, the bot taking each queued update as it would poll."""

    def __init__(self, harness: Harness, commands: dict[str, list[str]]) -> None:
        self.harness, self.commands, self.offset = harness, commands, 0

    async def push(self, kind: str, **change: Any) -> tuple[dict[str, Any], str]:
        words = list(self.commands[kind])
        if change:
            at = words.index("-d") + 1
            words[at] = json.dumps(json.loads(words[at]) | change)
        answer = await run_curl(words)
        assert answer["ok"], answer
        _, polled = await self.harness.api.handle("getUpdates", {"offset": self.offset})
        [update] = polled["result"]  # queued, once, as Telegram would hand it over
        self.offset = update["update_id"] + 1
        # The harness enrolled the person with updates of its own numbering; the engine skips an update
        # number it has seen, so this one numbers on from those (a real bot polls only the stand-in's).
        sent = await self.harness.feed(update | {"update_id": next(updates._ids)})
        return update, "\n".join(s.text or "" for s in sent if s.shows)


async def test_printed_pushes_reach_the_bot(harness: Harness) -> None:
    worker = await harness.enrol("worker", "north")
    server = BotApiServer(harness.api, "123:abc")
    await server.start()
    try:
        printed = instructions(server.base_url, server.control, chat=worker.chat_id)
        assert printed[0] == f"Bot API emulator: TELEGRAM_API_BASE_URL={server.base_url}"
        commands = curl_lines(printed)
        assert {"say", "tap", "location", "sent", "updates"} <= set(commands)
        trial = Trial(harness, commands)

        update, answer = await trial.push("say")  # as printed: /help
        assert update["message"]["text"] == "/help" and update["message"]["entities"][0]["type"] == "bot_command"
        assert "/checkin" in answer
        _, answer = await trial.push("say", text="/checkin")
        assert "Where are you going?" in answer
        update, answer = await trial.push("tap")  # as printed: the first button
        assert update["callback_query"]["data"].startswith("ci:")
        while "How long will you stay?" not in answer:
            _, answer = await trial.push("tap")  # alone; at a place for two, yes, alone
        update, answer = await trial.push("tap", button="30 min")  # a button by its label
        assert "Share your location?" in answer
        update, answer = await trial.push("location")  # as printed
        assert update["message"]["location"] == {"latitude": 14.6349, "longitude": -90.5069}
        assert "Checked in at" in answer

        sent = await run_curl(commands["sent"])
        assert any(s["chat_id"] == worker.chat_id and s["buttons"] for s in sent["result"])
        refused = await run_curl(
            [
                *commands["tap"][:2],
                json.dumps({"chat": worker.chat_id, "button": 99}),
                *[w for w in commands["tap"] if w.startswith("http://")],
            ]
        )
        assert not refused["ok"] and refused["description"].startswith('Bad Request: "button" must be one of')
    finally:
        await server.stop()
