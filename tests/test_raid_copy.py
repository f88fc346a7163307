"""The raid: the data dir and the config dir copied while the bot runs, then opened as another machine.

The copy must read nothing: no key in it, the CLI on a fresh HOME without a key opens nothing, a byte scan
finds none of 100+ markers (names, places, code words, contacts, accounts, Telegram ids, locations), and
no text column holds a clear value naming duress, the police or any incident category.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
import shutil
import sqlite3
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

from bot.services import incidents as inc
from tests.auxil.harness import EXAMPLE, Chatter, Harness
from tests.auxil.standin import UpdateFactory

ROOT = Path(__file__).resolve().parent.parent
SAFE_PIN, DURESS_PIN = "4821", "9377"
# Every value that would tell, as a word of a stored text (an audit action 'alert.raise:duress' splits
# into alert, raise, duress). Generic words that any column may hold for other reasons are left out.
GENERIC = {"other", "me", "none", "no", "yes", "unknown", "online", "office", "open", "closed", "date", "now"}
TELLING = (
    {"duress", "police", "red", "yellow", "missed", "afraid", "critical", "assault", "violence"}
    | (set(inc.CATEGORIES) | set(inc.PERPETRATORS) | set(inc.AFFECTED) | set(inc.SUPPORT)) - GENERIC
    | set(inc.AUTHORITIES) - GENERIC
    | set(inc.FOLLOWUP) - GENERIC
)


def _mark(kind: str) -> str:
    return f"Mk{kind}{secrets.token_hex(5)}"


def _encodings(marker: str | int | float) -> list[bytes]:
    if isinstance(marker, float):
        return [repr(marker).encode(), struct.pack("<d", marker), struct.pack(">d", marker)]
    if isinstance(marker, int):
        return [str(marker).encode(), struct.pack("<q", marker), struct.pack(">q", marker)]
    return [marker.encode(), marker.encode("utf-16-le"), marker.lower().encode(), marker.upper().encode()]


def _bytes_under(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


async def _person(harness: Harness, role: str, team: str | None, markers: list[Any]) -> Chatter:
    """Enrolled through an invite by someone whose Telegram profile is all markers."""
    user_id = 870_000_000_000 + secrets.randbelow(10**9)
    factory = UpdateFactory(user_id, first_name=_mark("first"), language_code="en")
    factory.user["last_name"] = _mark("last")
    factory.user["username"] = _mark("user")
    markers += [user_id, factory.user["first_name"], factory.user["last_name"], factory.user["username"]]
    chatter = Chatter(harness, factory)
    sent = await chatter.say(f"/start {await harness.invite(role, team)}")
    await chatter.tap(sent[-1], "lang:en")
    async with harness.storage.db.read() as tx:
        chatter.person = await harness.storage.people.by_telegram_user(tx, user_id)
    assert chatter.person is not None
    return chatter


async def _shift(harness: Harness, worker: Chatter, place: int, code_word: str, markers: list[Any]) -> None:
    """Check in sharing a location, type the red code word, report police abuse in the worker's words."""
    latitude = round(14.6 + secrets.randbelow(10**6) / 10**8, 8)
    longitude = round(-90.5 - secrets.randbelow(10**6) / 10**8, 8)
    account = _mark("account") + " they took my phone"
    markers += [latitude, longitude, account]
    sent = await worker.say("/checkin")
    for data in (f"ci:place:{place}", "ci:partner:alone", "ci:dur:60"):
        sent = await worker.tap(sent[-1], data)
    await worker.share_location(latitude, longitude)
    await worker.say(code_word)
    sent = await worker.say("/report")
    category = ("arrest", "police", "sexual", "blackmail")[place % 4]
    for data in (f"rp:category:{category}", "rp:affected:me", "rp:when:now", f"rp:where:h{place}"):
        sent = await worker.tap(sent[-1], data)
    for data in ("rp:perpetrator:police", "rp:severity:4"):
        sent = await worker.tap(sent[-1], data)
    sent = await worker.say(account)
    for data in ("rp:support:legal", "rp:authorities:afraid", "rp:send"):
        sent = await worker.tap(sent[-1], data)


async def _duress_check_out(harness: Harness, worker: Chatter) -> None:
    """PINs set, then the check-out answered with the duress PIN."""
    await worker.say("/pin")
    for pin in (SAFE_PIN, DURESS_PIN, DURESS_PIN):
        await worker.say(pin)
    async with harness.storage.db.read() as tx:
        current = await harness.storage.checkins.open_for(tx, worker.person.id)
    assert current is not None
    sent = await worker.say("/checkout")
    await worker.tap(sent[-1], f"co:fine:{current.id}")
    await worker.say(DURESS_PIN)


def _open_as_another_machine(copy: Path, home: Path, key: str | None) -> subprocess.CompletedProcess[str]:
    """`outreach-bot export` on the copy, from a fresh HOME, with no key or with a key of its own."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OUTREACH_", "TELEGRAM_")) and k not in ("CREDENTIALS_DIRECTORY", "HOME")
    }
    env.update(HOME=str(home), OUTREACH_DATA_DIR=str(copy / "data"), OUTREACH_CONFIG=str(copy / "config" / "org.toml"))
    if key is not None:
        env["OUTREACH_KEY"] = key
    return subprocess.run(
        [sys.executable, "-m", "bot", "export", "--from", "2020-01-01", "--to", "2030-12-31", str(home / "out.csv")],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )


def _clear_values(db: Path) -> list[tuple[str, str, str]]:
    """Every (table, column, word) where a stored text holds a telling value as one of its words."""
    found = []
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
            for row in conn.execute(f"SELECT * FROM {table}"):
                for column, value in zip(columns, row, strict=True):
                    if isinstance(value, str):
                        words = set(re.split(r"[^a-z]+", value.lower()))
                        found += [(table, column, word) for word in words & TELLING]
    return found


async def test_a_copy_taken_while_the_bot_runs_reads_nothing(tmp_path: Path) -> None:
    places = [{"name": _mark("place"), "kind": kind, "risk": "medium"} for kind in ("bar", "park", "street", "sauna")]
    codes = [{"word": _mark("code").lower(), "level": "red"}, {"word": _mark("call").lower(), "level": "yellow"}]
    support = [{"kind": "legal", "name": _mark("lawyer"), "contact": f"+502 {secrets.randbelow(10**8):08d}"}]
    org_name = _mark("org")
    teams = [_mark("team"), _mark("team")]
    markers: list[Any] = [org_name, *teams, *(p["name"] for p in places), *(c["word"] for c in codes)]
    markers += [support[0]["name"], support[0]["contact"]]
    config = {
        **EXAMPLE,
        "organization": {**EXAMPLE["organization"], "name": org_name},
        "hotspots": places,
        "alert_codes": codes,
        "support": support,
        "checkout": {"pin": True},
    }
    config_dir = tmp_path / "config"  # the operator's config dir: the shipped example, nothing more
    config_dir.mkdir()
    shutil.copy(ROOT / "config" / "org.example.toml", config_dir / "org.toml")
    harness = Harness(tmp_path, config)
    await harness.start()
    copy = tmp_path / "raid"
    try:
        for team in teams:
            await _person(harness, "supervisor", team, markers)
        await _person(harness, "manager", None, markers)
        workers = [await _person(harness, "worker", teams[i % 2], markers) for i in range(12)]
        for i, worker in enumerate(workers):
            await _shift(harness, worker, i % len(places), codes[0]["word"], markers)
        await _duress_check_out(harness, workers[0])
        assert len(markers) >= 100
        # The raid: both dirs copied as they are, the WAL with them, while the bot runs.
        assert (tmp_path / "data" / "outreach.db-wal").exists()
        shutil.copytree(tmp_path / "data", copy / "data")
        shutil.copytree(config_dir, copy / "config")
    finally:
        await harness.stop()

    raw = _bytes_under(copy)
    key = (tmp_path / "keys" / "key").read_bytes()
    assert key not in raw and key.strip() not in raw
    assert base64.b64decode(key.strip()) not in raw  # no key in any form in the copy
    for marker in markers:
        for encoded in _encodings(marker):
            assert encoded not in raw, f"marker {marker!r} found in the copy"
    assert _clear_values(copy / "data" / "outreach.db") == []

    home = tmp_path / "another-machine"
    home.mkdir()
    for key_given in (None, base64.b64encode(secrets.token_bytes(32)).decode()):
        opened = _open_as_another_machine(copy, home, key_given)
        assert opened.returncode != 0, opened.stdout
        assert "Traceback" not in opened.stderr and len(opened.stderr.strip().splitlines()) == 1, opened.stderr
        assert not (home / "out.csv").exists()
