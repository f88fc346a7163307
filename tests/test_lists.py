"""Places, code words and support contacts: sealed in the database, managed by admins from the CLI and
the chat, holding at once with no restart; imported once from a file, and warned about when a config
file still holds them."""

from __future__ import annotations

import asyncio
import base64
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from storage import Storage
from storage.alerts import KIND
from storage.sealing import load_or_create_key
from tests.auxil.harness import EXAMPLE, Chatter, Harness
from tests.test_checkin import check_in
from tests.test_reports import BUTTONS

ROOT = Path(__file__).resolve().parent.parent
ONLY_ADMINS = "This command is for admins."
STALE = "This button is no longer current."
BAD_CODE = (
    "That code word cannot be used: it needs 4 characters or more, not a command, not only digits,"
    " and not one already on the list."
)


def _cli(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], env=env, input=stdin, capture_output=True, text=True, cwd=ROOT, timeout=60
    )


def _install(tmp: Path, config_text: str | None = None) -> dict[str, str]:
    """An installation as README's steps make it: its config dir, data dir and a key file elsewhere."""
    config = tmp / "config" / "org.toml"
    config.parent.mkdir(parents=True)
    config.write_text(config_text or (ROOT / "config" / "org.example.toml").read_text(encoding="utf-8"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OUTREACH_", "TELEGRAM_"))}
    return env | {
        "OUTREACH_CONFIG": str(config),
        "OUTREACH_DATA_DIR": str(tmp / "data"),
        "OUTREACH_KEY_FILE": str(tmp / "keys" / "key"),
    }


async def _audit_actions(tmp: Path) -> list[str]:
    """The audit log's actions, as the key reads them."""
    storage = await Storage.open(
        tmp / "data" / "outreach.db", load_or_create_key(None, tmp / "keys" / "key", create=False)
    )
    try:
        async with storage.db.read() as tx:
            return [action for action, _, _ in await storage.audit.actions(tx)]
    finally:
        await storage.close()


def _stored(tmp: Path) -> bytes:
    """Every byte of the data dir and the config dir, as a raid copies them."""
    return b"".join(p.read_bytes() for d in ("data", "config") for p in sorted((tmp / d).rglob("*")) if p.is_file())


def _lists_file(tmp: Path, extra: str = "") -> Path:
    """The example lists with markers of our own, outside the config and data dirs."""
    path = tmp / "lists.toml"
    text = (ROOT / "config" / "lists.example.toml").read_text(encoding="utf-8") + extra
    path.write_text(text, encoding="utf-8")
    return path


MARKERS = {
    "place": "Cantina Zorzal Escondida",
    "place_es": "Cantina del Zorzal",
    "area": "Zona Quetzaltepeque",
    "code": "lemon pie tonight",
    "contact": "Abogada Rutilia Xocop",
    "number": "+502 5555 7391",
}
EXTRA = f"""
[[hotspots]]
name = "{MARKERS["place"]}"
name_es = "{MARKERS["place_es"]}"
kind = "bar"
risk = "high"
area = "{MARKERS["area"]}"

[[alert_codes]]
word = "{MARKERS["code"]}"
level = "red"

[[support]]
kind = "legal"
name = "{MARKERS["contact"]}"
contact = "{MARKERS["number"]}"
"""


def test_import_then_nothing_readable_in_data_or_config_dir(tmp_path: Path) -> None:
    env = _install(tmp_path)
    lists = _lists_file(tmp_path, EXTRA)
    done = _cli(env, "init", "--import-lists", str(lists))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1].startswith("Imported 3 places, 4 code words, 3 contacts")
    assert f"Now delete {lists}" in done.stdout
    lists.unlink()  # as the operator is told
    listed = (
        _cli(env, "places", "list").stdout + _cli(env, "codes", "list").stdout + _cli(env, "contacts", "list").stdout
    )
    for marker in (
        "Parque Central",
        "buy bread",
        "Legal aid line",
        MARKERS["place"],
        MARKERS["code"],
        MARKERS["number"],
    ):
        assert marker in listed, marker
    raw = _stored(tmp_path)
    assert raw, "the data dir holds the database"
    for marker in [*MARKERS.values(), "Parque Central", "Bar La Luna", "buy bread", "call aunt", "+502 0000 0000"]:
        for form in (marker, marker.casefold(), marker.upper()):
            assert form.encode("utf-8") not in raw, marker
            assert form.encode("utf-16-le") not in raw, marker


def test_cli_add_list_remove_round_trip_and_bad_input_changes_nothing(tmp_path: Path) -> None:
    env = _install(tmp_path)
    assert _cli(env, "init").returncode == 0
    assert _cli(env, "places", "list").stdout.strip() == "No places yet."
    added = _cli(env, "places", "add", "Mercado Sur", "--kind", "street", "--risk", "high", "--area", "Zona 3")
    assert added.returncode == 0 and added.stdout.strip().startswith("Place added."), added.stderr
    assert "Mercado Sur" not in added.stdout  # what is printed is harmless on a shared screen
    # A code word left out is typed at the prompt: it stays out of the shell's history.
    assert _cli(env, "codes", "add", "--level", "yellow", stdin="call my cousin\n").returncode == 0
    assert _cli(env, "contacts", "add", "Clinica Sol", "+502 1111 2222", "--kind", "medical").returncode == 0
    assert _cli(env, "places", "list").stdout.strip() == "Mercado Sur · street · risk high · area Zona 3"
    assert _cli(env, "codes", "list").stdout.strip() == "call my cousin · yellow"
    assert _cli(env, "contacts", "list").stdout.strip() == "Clinica Sol · medical · +502 1111 2222"
    assert _cli(env, "places", "set-risk", "mercado sur", "low").returncode == 0
    assert "risk low" in _cli(env, "places", "list").stdout

    before = [_cli(env, group, "list").stdout for group in ("places", "codes", "contacts")]
    for args, stdin, words in (
        (("codes", "add", "abc"), "", "too short"),
        (("codes", "add", "/help"), "", "looks like a command"),
        (("codes", "add", "checkin"), "", "also a command"),
        (("codes", "add", "1379 2468"), "", "taken for a PIN"),
        (("codes", "add", "Call  my cousin!"), "", "duplicate code word"),
        (("codes", "add"), "\n", "no code word given"),
        (("places", "add", "MERCADO SUR"), "", "duplicate hotspot"),
        (("places", "remove", "Nowhere"), "", "no such place"),
        (("places", "set-risk", "Mercado Sur"), "", "set-risk needs the new risk"),
        (("codes", "remove", "never set"), "", "no such code word"),
        (("contacts", "remove", "Nobody"), "", "no such contact"),
    ):
        done = _cli(env, *args, stdin=stdin)
        assert done.returncode == 2, (args, done.stdout)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and words in lines[0] and "Traceback" not in done.stderr, (args, done.stderr)
    assert [_cli(env, group, "list").stdout for group in ("places", "codes", "contacts")] == before

    for args in (
        ("places", "remove", "Mercado Sur"),
        ("codes", "remove", "CALL MY COUSIN"),
        ("contacts", "remove", "clinica sol"),
    ):
        assert _cli(env, *args).returncode == 0, args
    assert [_cli(env, group, "list").stdout.strip() for group in ("places", "codes", "contacts")] == [
        "No places yet.",
        "No code words yet.",
        "No contacts yet.",
    ]
    # Every change is in the audit log, and no value is (the actions are coded: read them with the key).
    actions = [a for a in asyncio.run(_audit_actions(tmp_path)) if a.startswith("lists.")]
    assert actions == [
        "lists.place.add",
        "lists.code.add",
        "lists.contact.add",
        "lists.place.set-risk",
        "lists.place.remove",
        "lists.code.remove",
        "lists.contact.remove",
    ]


def test_config_still_holding_lists_is_imported_once_and_warned_about(tmp_path: Path) -> None:
    old = (ROOT / "config" / "org.example.toml").read_text(encoding="utf-8") + EXTRA  # an older install's file
    env = _install(tmp_path, old)
    done = _cli(env, "init")
    assert done.returncode == 0, done.stderr
    warning = done.stderr.strip().splitlines()
    assert len(warning) == 1 and warning[0].startswith("outreach-bot: warning: "), done.stderr
    assert "[[hotspots]], [[alert_codes]], [[support]]" in warning[0] and "imported" in warning[0]
    assert "delete those sections" in warning[0]
    assert MARKERS["code"] in _cli(env, "codes", "list").stdout
    # Next start: the database's lists are used; the file's are ignored, and said to be.
    assert _cli(env, "codes", "remove", MARKERS["code"]).returncode == 0
    again = _cli(env, "init").stderr.strip().splitlines()
    assert len(again) == 1 and "ignored" in again[0] and "--import-lists" in again[0], again
    assert MARKERS["code"] not in _cli(env, "codes", "list").stdout


def test_a_bad_lists_file_imports_nothing(tmp_path: Path) -> None:
    env = _install(tmp_path)
    bad = _lists_file(tmp_path, '\n[[alert_codes]]\nword = "ok"\nlevel = "red"\n')
    done = _cli(env, "init", "--import-lists", str(bad))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"outreach-bot: {bad}: alert_codes[4].word: 'ok' is too short; use at least 4 characters; nothing imported"
    ]
    assert _cli(env, "codes", "list").stdout.strip() == "No code words yet."


async def _add_code_in_chat(admin: Chatter, word: str, level: str) -> list:
    sent = await admin.say("/codes")
    assert sent[-1].text.startswith("Code words:\n• buy bread · Red")
    sent = await admin.tap(sent[-1], "lst:add")
    assert sent[-1].text == "Type the new code word: an ordinary phrase."
    sent = await admin.say(word)
    assert sent[-1].text == "Which level?"
    return await admin.tap(sent[-1], f"lst:l:{level}")


async def _alerts(harness: Harness, worker: Chatter) -> list[str]:
    async with harness.storage.db.read() as tx:
        rows = await tx.all("SELECT kind FROM alerts WHERE person_id = ? ORDER BY raised_at", (worker.person.id,))
    return [harness.storage.codes.value(KIND, r["kind"]) or "" for r in rows]  # the kind is coded


async def test_code_word_added_in_chat_alerts_at_once(harness: Harness) -> None:
    admin = await harness.enrol("admin")
    worker = await harness.enrol("worker", "north")
    await harness.enrol("supervisor", "north")
    assert (await worker.say("see you at nine"))[-1].text != "OK, noted."  # not a code word yet
    sent = await _add_code_in_chat(admin, "See you at nine", "red")
    assert sent[-1].text == "Saved. It holds from now on."
    sent = await worker.say("see you at nine!")
    assert [s.text for s in sent if s.chat_id == worker.chat_id and s.shows] == ["OK, noted."]
    assert await _alerts(harness, worker) == ["red"]
    async with harness.storage.db.read() as tx:
        actions = await harness.storage.audit.actions(tx)
    assert ("lists.code.add", admin.person.id, None) in actions
    # A restart reads it back from the database, sealed.
    await harness.restart()
    await worker.say("See you at nine")
    assert await _alerts(harness, worker) == ["red", "red"]


async def test_removed_place_leaves_the_next_checkin(harness: Harness) -> None:
    admin = await harness.enrol("admin")
    worker = await harness.enrol("worker", "north")
    labels = [label for label, _ in (await worker.say("/checkin"))[-1].buttons]
    assert "Bar La Luna" in labels
    await worker.say("/cancel")
    sent = await admin.say("/places")
    sent = await admin.tap(sent[-1], "lst:rm")
    assert sent[-1].text == "Which one?"
    choice = next(code for label, code in sent[-1].buttons if label.startswith("Bar La Luna"))
    assert (await admin.tap(sent[-1], choice))[-1].text == "Removed."
    labels = [label for label, _ in (await worker.say("/checkin"))[-1].buttons]
    assert "Bar La Luna" not in labels and "Parque Central" in labels


async def test_a_place_removed_while_its_button_shows_is_not_taken_for_another(harness: Harness) -> None:
    admin = await harness.enrol("admin")
    worker = await harness.enrol("worker", "north")
    places = (await worker.say("/checkin"))[-1]
    assert places.buttons[:2] == [("Parque Central", "ci:place:0"), ("Bar La Luna", "ci:place:1")]
    sent = await admin.tap((await admin.say("/places"))[-1], "lst:rm")
    await admin.tap(sent[-1], "lst:pick:0")  # Parque Central goes: Bar La Luna is now the first
    assert [s.text for s in await worker.tap(places, "ci:place:0") if s.shows] == [STALE]
    assert (await worker.tap(places, "ci:place:1"))[-1].text == "Who is with you?"
    await worker.say("/cancel")


async def test_a_report_records_the_place_its_button_showed(harness: Harness) -> None:
    admin = await harness.enrol("admin")
    worker = await harness.enrol("worker", "north")
    sent = await worker.say("/report")
    for data in ("rp:category:arrest", "rp:affected:me", "rp:when:now"):
        sent = await worker.tap(sent[-1], data)
    where = sent[-1]
    assert where.buttons[:2] == [("Parque Central", "rp:where:h0"), ("Bar La Luna", "rp:where:h1")]
    sent = await admin.tap((await admin.say("/places"))[-1], "lst:rm")
    await admin.tap(sent[-1], "lst:pick:0")  # Parque Central goes: "h0" would now be Bar La Luna
    sent = await worker.tap(where, "rp:where:h0")
    for data in BUTTONS[4:]:
        sent = await worker.tap(sent[-1], data)
    assert "• Where: Parque Central" in sent[-1].text


async def test_place_and_contact_added_in_chat_and_risk_changed(harness: Harness) -> None:
    admin = await harness.enrol("admin")
    worker = await harness.enrol("worker", "north")
    sent = await admin.tap((await admin.say("/places"))[-1], "lst:add")
    sent = await admin.say("Plaza Norte")
    sent = await admin.tap(sent[-1], "lst:k:street")
    assert (await admin.tap(sent[-1], "lst:r:low"))[-1].text == "Saved. It holds from now on."
    sent = await admin.tap((await admin.say("/places"))[-1], "lst:risk")
    choice = next(code for label, code in sent[-1].buttons if label.startswith("Plaza Norte"))
    sent = await admin.tap(sent[-1], choice)
    await admin.tap(sent[-1], "lst:r:high")
    assert [(h.name, h.kind, h.risk) for h in harness.config.hotspots][-1] == ("Plaza Norte", "street", "high")
    assert "Plaza Norte" in [label for label, _ in (await worker.say("/checkin"))[-1].buttons]
    await worker.say("/cancel")
    sent = await admin.tap((await admin.say("/contacts"))[-1], "lst:add")
    sent = await admin.tap(sent[-1], "lst:k:medical")
    await admin.say("Clinica Norte")
    assert (await admin.say("+502 3333 4444"))[-1].text == "Saved. It holds from now on."
    assert "Clinica Norte" in (await worker.say("/support"))[-1].text


async def test_bad_input_in_chat_changes_nothing(harness: Harness) -> None:
    admin = await harness.enrol("admin")
    async with harness.storage.db.read() as tx:
        before = await harness.storage.lists.get(tx, admin.person.org_id)
    await admin.tap((await admin.say("/codes"))[-1], "lst:add")
    # Each refused with one line; the question stays.
    for typed in ("abc", "x" * 101, "status", "checkin!", "1379", "BUY BREAD.", "two\nlines"):
        assert [s.text for s in await admin.say(typed) if s.shows] == [BAD_CODE], typed
    await admin.say("/cancel")
    await admin.tap((await admin.say("/places"))[-1], "lst:add")
    assert [s.text for s in await admin.say("parque central") if s.shows][-1].startswith("That place cannot")
    await admin.say("/cancel")
    assert [s.text for s in await admin.tap_forged("lst:pick:99") if s.shows] in ([], [STALE])
    async with harness.storage.db.read() as tx:
        assert await harness.storage.lists.get(tx, admin.person.org_id) == before
    assert [c.word for c in harness.config.alert_codes] == ["buy bread"]


async def test_only_admins_use_the_list_commands(harness: Harness) -> None:
    people = [
        await harness.enrol(role, "north" if role in ("worker", "supervisor") else None)
        for role in ("worker", "supervisor", "manager")
    ]
    for person in people:
        for command in ("/places", "/codes", "/contacts"):
            shown = [s.text for s in await person.say(command) if s.shows]
            assert shown == [ONLY_ADMINS], (person.person.role, command, shown)
            assert "buy bread" not in "".join(shown) and "Parque" not in "".join(shown)
        for data in ("lst:add", "lst:rm", "lst:pick:0", "lst:l:red"):
            assert [s.text for s in await person.tap_forged(data) if s.shows] in (
                [],
                ["This button is no longer current."],
            )
    async with harness.storage.db.read() as tx:
        assert await harness.storage.lists.revision(tx, people[0].person.org_id) == 1  # the harness's seed only


async def test_the_list_conversation_leaves_the_admins_chat(tmp_path: Path) -> None:
    harness = Harness(tmp_path, {**EXAMPLE, "privacy": {"clean_up_after": "1m"}})
    await harness.start()
    try:
        admin = await harness.enrol("admin")
        await _add_code_in_chat(admin, "Lunch at two", "yellow")
        harness.clock.advance(timedelta(minutes=2))
        await harness.tick()
        chat = "\n".join(harness.api.chats.get(admin.chat_id, {}).values())
        for secret in ("buy bread", "Lunch at two", "Code words", "Parque Central"):
            assert secret not in chat, (secret, chat)
    finally:
        await harness.stop()


async def test_change_from_the_cli_reaches_the_running_bot_within_a_tick(harness: Harness) -> None:
    worker = await harness.enrol("worker", "north")
    await check_in(worker)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OUTREACH_", "TELEGRAM_"))}
    env |= {
        "OUTREACH_DATA_DIR": str(harness.settings.data_dir),
        "OUTREACH_CONFIG": str(ROOT / "config" / "org.example.toml"),
        "OUTREACH_KEY": base64.b64encode(harness.app.bot_data.key).decode(),
    }
    assert _cli(env, "codes", "add", "--level", "yellow", stdin="water the plants\n").returncode == 0
    assert _cli(env, "places", "remove", "Parque Central").returncode == 0
    await harness.tick()
    await worker.say("Water the plants")
    assert await _alerts(harness, worker) == ["yellow"]
    assert [h.name for h in harness.config.hotspots] == ["Bar La Luna"]


async def test_code_word_from_the_chat_on_the_plain_adapter(tmp_path: Path) -> None:
    from tests.auxil.plain import PlainHarness

    harness = PlainHarness(tmp_path)
    await harness.start()
    try:
        admin = await harness.enrol("admin")
        worker = await harness.enrol("worker", "north")
        said = await admin.say("/codes")
        said = await admin.tap(said[-1], "lst:add")
        said = await admin.say("Paint the fence")
        said = await admin.tap(said[-1], "lst:l:yellow")
        assert said[-1].text == "Saved. It holds from now on."
        said = await worker.say("paint the fence")
        assert [s.text for s in said if s.chat_id == worker.chat_id and s.by_bot] == ["OK, noted."]
        async with harness.storage.db.read() as tx:
            rows = await tx.all("SELECT kind FROM alerts WHERE person_id = ?", (worker.person.id,))
        kinds = [harness.storage.codes.value(KIND, r["kind"]) for r in rows]
        assert kinds == ["yellow"]
    finally:
        await harness.stop()


def test_rotate_key_reseals_the_lists(tmp_path: Path) -> None:
    env = _install(tmp_path)
    assert _cli(env, "init", "--import-lists", str(_lists_file(tmp_path))).returncode == 0
    old = (tmp_path / "keys" / "key").read_bytes()
    done = _cli(env, "rotate-key")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "keys" / "key").read_bytes() != old
    assert _cli(env, "codes", "list").stdout.splitlines()[0] == "buy bread · red"
    import sqlite3

    from storage.sealing import Sealer

    with sqlite3.connect(tmp_path / "data" / "outreach.db") as db:
        (sealed,) = db.execute("SELECT lists_sealed FROM org_lists").fetchone()
    new_id = Sealer.key_id_of(base64.b64decode((tmp_path / "keys" / "key").read_text().strip()))
    assert sealed[1:5] == new_id


def test_importing_the_shipped_example_says_to_replace_it_not_to_delete_it(tmp_path: Path) -> None:
    """The example comes with the code: the operator is told its code words are known to all."""
    env = _install(tmp_path)
    done = _cli(env, "init", "--import-lists", str(ROOT / "config" / "lists.example.toml"))
    assert done.returncode == 0, done.stderr
    last = done.stdout.strip().splitlines()[-1]
    assert "shipped example" in last and "Replace them" in last and "delete" not in last
    assert (ROOT / "config" / "lists.example.toml").exists()
