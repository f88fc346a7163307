"""A copy of the data directory without the key, and the logs, reveal no names, ids or texts."""

from __future__ import annotations

import logging
import secrets
import struct
from pathlib import Path

import pytest

from tests.auxil.harness import TOKEN, Chatter, Harness
from tests.auxil.standin import UpdateFactory


def _encodings(marker: str | int) -> list[bytes]:
    if isinstance(marker, int):
        return [str(marker).encode(), struct.pack("<q", marker), struct.pack(">q", marker)]
    return [marker.encode(), marker.encode("utf-16-le")]


async def test_hundred_markers_never_reach_database_files_or_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    config = {
        "organization": {"name": "Mkorg" + secrets.token_hex(6), "timezone": "Africa/Dakar", "language": "fr"},
        "hotspots": [{"name": "Mkspot" + secrets.token_hex(6), "kind": "bar", "risk": "low"}],
    }
    markers: list[str | int] = [config["organization"]["name"]]
    harness = Harness(tmp_path, config)
    await harness.start()
    try:
        for i in range(24):
            user_id = 880_000_000_000 + secrets.randbelow(10**9)
            first = "Mkfirst" + secrets.token_hex(6)
            team = "Mkteam" + secrets.token_hex(6)
            said = "Mksaid" + secrets.token_hex(6)
            markers += [user_id, first, team, said]
            factory = UpdateFactory(user_id, first_name=first, language_code="fr")
            factory.user["last_name"] = "Mklast" + secrets.token_hex(6)
            factory.user["username"] = "Mkuser" + secrets.token_hex(6)
            chatter = Chatter(harness, factory)
            code = await harness.invite("worker" if i % 3 else "supervisor", team)
            sent = await chatter.say(f"/start {code}")
            await chatter.tap(sent[-1], "lang:fr")
            await chatter.say(said)
            alias = "Mkalias" + secrets.token_hex(6)
            async with harness.storage.db.tx() as tx:
                person = await harness.storage.people.by_telegram_user(tx, user_id)
                assert person is not None
                await harness.storage.people.set_alias(tx, person.id, alias)
            markers.append(alias)
        stranger_text = "Mkstranger" + secrets.token_hex(6)
        await harness.chatter().say(stranger_text)
        markers.append(stranger_text)
        raw = b"".join(p.read_bytes() for p in sorted((tmp_path / "data").glob("outreach.db*")))
        assert (tmp_path / "data" / "outreach.db-wal").exists()  # the WAL is scanned too, before any checkpoint
    finally:
        await harness.stop()
    raw += b"".join(p.read_bytes() for p in sorted((tmp_path / "data").glob("outreach.db*")))
    logs = caplog.text.encode() + b"".join(str(r.__dict__).encode() for r in caplog.records)
    assert len(markers) >= 100
    for marker in markers:
        for encoded in _encodings(marker):
            assert encoded not in raw, f"marker {marker!r} found in the database files"
            assert encoded not in logs, f"marker {marker!r} found in the logs"
    assert TOKEN.encode() not in logs and TOKEN.split(":")[1].encode() not in raw


async def test_error_handler_logs_no_content_and_answers_neutrally(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """A handler that fails with user content in its message: the log shows only the type and place."""
    from dataclasses import replace

    secret = "Mkboom" + secrets.token_hex(6)

    async def explode(c: object, inp: object) -> None:
        raise ValueError(f"failed on {secret}")

    engine = harness.app.bot_data.engine
    engine.fallback = replace(engine.fallback, start=explode)  # typed text outside a conversation
    worker = await harness.enrol("worker")
    caplog.set_level(logging.DEBUG)
    sent = await worker.say(f"explode {secret}")
    assert [s.text for s in sent] == ["Sorry, something went wrong. Please try again."]
    assert secret not in caplog.text
    assert "ValueError at" in caplog.text
    assert len(harness.errors) == 1
    harness.errors.clear()  # this error was the point of the test
