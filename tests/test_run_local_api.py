"""The real `outreach-bot run`, as a subprocess, against the Bot API emulator over HTTP."""

from __future__ import annotations

import asyncio
import re
import signal
import struct
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.auxil.standin import FakeBotApi, UpdateFactory
from tests.auxil.standin.http import BotApiServer
from tests.auxil.subprocess_bot import ROOT, TOKEN, cli, shown, until, write_config
from tests.auxil.subprocess_bot import environment as installation_environment

NEUTRAL = "This chat is by invitation only."
USED = "This code was already used. Ask your supervisor for a new one."
# Above 2**32 so SQLite would store them in 6 bytes; distinctive names nobody else uses.
PEOPLE = {
    "worker": (7_391_045_286, "Zyxwvutsrq"),
    "supervisor": (8_264_913_075, "Qponmlkjih"),
    "stranger": (6_918_273_645, "Gfedcbayxw"),
    "reuser": (5_827_364_091, "Vutsrqponm"),
}


@pytest.fixture
async def emulator() -> AsyncIterator[tuple[FakeBotApi, BotApiServer]]:
    api = FakeBotApi()
    server = BotApiServer(api, TOKEN)
    await server.start()
    try:
        yield api, server
    finally:
        await server.stop()


def environment(tmp_path: Path, server: BotApiServer, token: str = TOKEN) -> dict[str, str]:
    """An installation with the example config, as an admin copies it."""
    return installation_environment(tmp_path, server, write_config(tmp_path / "org.toml"), token)


async def push(client: httpx.AsyncClient, server: BotApiServer, update: dict[str, Any]) -> None:
    """Through the control endpoint, as a person trying the emulator by hand would."""
    response = await client.post(f"http://{server.host}:{server.port}/_emulator/updates", json=update)
    assert response.status_code == 200 and response.json()["ok"]


async def test_run_enrols_two_people_over_http_and_stores_nothing_in_clear(
    tmp_path: Path, emulator: tuple[FakeBotApi, BotApiServer]
) -> None:
    api, server = emulator
    env = environment(tmp_path, server)
    rc, out, err = await cli(env, "init")
    assert rc == 0, err
    codes = []
    for role in ("worker", "supervisor"):
        rc, out, err = await cli(env, "invite", "--role", role, "--team", "north")
        assert rc == 0, err
        assert ("Note: team 'north' is new" in out) == (role == "worker")  # a typo would make a new team
        codes.append(out.strip().splitlines()[-1])
    assert len(set(codes)) == 2

    people = {key: UpdateFactory(uid, first_name=name, language_code="en") for key, (uid, name) in PEOPLE.items()}
    stderr_path = tmp_path / "run.stderr"
    with stderr_path.open("wb") as stderr:
        run = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=ROOT, env=env, stdout=stderr, stderr=stderr
        )
    try:
        async with httpx.AsyncClient() as client:
            await until(lambda: any(m == "setMyCommands" for m, _ in api.calls) or run.returncode is not None, "start")
            assert run.returncode is None, stderr_path.read_text()
            rc, _, err = await cli(env, "run")  # a second bot on the same data would answer everything twice
            assert rc == 2 and "already running" in err and "Traceback" not in err, err

            worker, supervisor = people["worker"], people["supervisor"]
            await push(client, server, worker.text(f"/start {codes[0]}"))
            await until(lambda: bool(shown(api, worker.user_id)), "the worker's consent notice")
            consent = shown(api, worker.user_id)[-1]
            assert consent.text is not None and re.search(r"\bW-[A-Z0-9]{4}\b", consent.text), consent.text
            assert ("Español", "lang:es") in consent.buttons

            message = {
                "message_id": consent.message_id,
                "date": int(time.time()),
                "chat": worker.chat,
                "from": api.bot_user,
                "text": consent.text,
                "reply_markup": consent.params["reply_markup"],
            }
            await push(client, server, worker.tap(message, "lang:es"))
            await until(lambda: bool(shown(api, worker.user_id, "editMessageText")), "the language confirmation")
            assert any(s.method == "answerCallbackQuery" for s in api.sent)  # it carries no chat_id

            typed_by_hand = supervisor.text(f"/start {codes[1]}")
            del typed_by_hand["message"]["entities"]  # as someone writes it for curl: the emulator adds it
            await push(client, server, typed_by_hand)
            await until(lambda: bool(shown(api, supervisor.user_id)), "the supervisor's consent notice")
            notice = shown(api, supervisor.user_id)[-1].text
            assert notice is not None and re.search(r"\bS-[A-Z0-9]{4}\b", notice), notice

            await push(client, server, people["stranger"].text("hola"))
            await push(client, server, people["reuser"].text(f"/start {codes[0]}"))
            # Updates are handled in order, so once the reused code is answered the stranger's reply is final.
            await until(lambda: bool(shown(api, people["reuser"].user_id)), "the reused-code refusal")
            assert [s.text for s in shown(api, people["reuser"].user_id)] == [USED]
            assert [s.text for s in api.to(people["stranger"].user_id)] == [NEUTRAL]

            listed = (await client.get(f"http://{server.host}:{server.port}/_emulator/sent")).json()["result"]
            assert [(e["method"], e["chat_id"], e["text"]) for e in listed] == [
                (s.method, s.chat_id, s.text) for s in api.sent
            ]

        run.send_signal(signal.SIGTERM)
        rc = await asyncio.wait_for(run.wait(), timeout=15)
    finally:
        if run.returncode is None:
            run.kill()
            await run.wait()
    log = stderr_path.read_text(encoding="utf-8", errors="replace")
    assert rc == 0, log
    assert "Traceback" not in log and TOKEN not in log and TOKEN.split(":")[1] not in log

    raw = b"".join(p.read_bytes() for p in sorted((tmp_path / "data").glob("outreach.db*")))
    # The people's codes are stored in clear on purpose: seeing them proves these bytes hold the enrolments.
    person_codes = set(re.findall(r"\b[WS]-[A-Z0-9]{4}\b", (consent.text or "") + notice))
    assert len(person_codes) == 2 and all(code.encode() in raw for code in person_codes)
    for user_id, name in PEOPLE.values():
        for needle in (
            str(user_id).encode(),
            struct.pack("<q", user_id),
            struct.pack(">q", user_id),
            user_id.to_bytes(6, "big"),  # SQLite's own record format for an integer of this size
            name.encode(),
            name.encode("utf-16-le"),
        ):
            assert needle not in raw, f"{needle!r} found in the database files"


async def test_run_with_a_refused_token_exits_2_with_one_line(
    tmp_path: Path, emulator: tuple[FakeBotApi, BotApiServer]
) -> None:
    _, server = emulator
    wrong = "7123456789:AAWrongTokenWrongTokenWrongToken123"
    rc, out, err = await cli(environment(tmp_path, server, token=wrong), "run")
    assert rc == 2, err
    assert "Traceback" not in err and wrong not in err and wrong not in out
    lines = [line for line in err.splitlines() if "TELEGRAM_BOT_TOKEN" in line]
    assert len(lines) == 1 and lines[0].startswith("outreach-bot: "), err
