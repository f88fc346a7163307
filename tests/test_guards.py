"""Guards that nothing else held (issue 13): each of these breakages once left every test green."""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta
from pathlib import Path

import pytest

from bot.logs import setup_logging
from storage.sealing import Sealer
from tests.auxil.harness import TOKEN, Harness
from tests.test_alert_codes import _config, _people
from tests.test_checkin import check_in


@pytest.fixture
async def h(tmp_path: Path):
    harness = Harness(tmp_path, _config())
    await harness.start()
    yield harness
    await harness.stop()
    assert not harness.errors


async def test_the_telegram_id_digest_needs_the_key(h: Harness) -> None:
    """Without the key, nobody can tell from the database whether a given Telegram account is enrolled."""
    worker = await h.enrol("worker", "north")
    async with h.storage.db.read() as tx:
        stored = (await tx.one("SELECT tg_user_hmac FROM people WHERE id = ?", (worker.person.id,)))[0]
    uid = worker.chat_id
    assert stored == Sealer(h.app.bot_data.key).lookup("tg_user", uid)
    assert stored != Sealer(b"\x01" * 32).lookup("tg_user", uid)  # another key, another digest
    for guess in (str(uid), f"tg_user\x1f{uid}", f"tg_user:{uid}"):  # what an unkeyed digest would be
        for algorithm in (hashlib.sha256, hashlib.sha1, hashlib.md5, hashlib.blake2b):
            assert stored != algorithm(guess.encode()).hexdigest()


def test_the_token_never_reaches_the_console(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        setup_logging(logging.DEBUG, secrets=[TOKEN, "a2V5IGluIGJhc2U2NA=="])
        logging.getLogger("outreach").error("POST https://api.telegram.org/bot%s/getMe failed", TOKEN)
        logging.getLogger("outreach.keys").warning(f"odd key a2V5IGluIGJhc2U2NA== in {TOKEN}")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    err = capsys.readouterr().err
    assert err.count("[redacted]") == 3 and TOKEN not in err and "a2V5IGluIGJhc2U2NA==" not in err


async def test_a_check_out_does_not_close_an_open_red_alert(h: Harness) -> None:
    """The worker may be checking out with someone beside them: only a supervisor closes a red code."""
    worker, supervisor, _ = await _people(h)
    await check_in(worker)
    await worker.say("Buy bread!")
    async with h.storage.db.read() as tx:
        checkin = await h.storage.checkins.open_for(tx, worker.person.id)
    assert checkin is not None
    sent = await worker.tap((await worker.say("/checkout"))[-1], f"co:fine:{checkin.id}")
    assert sent[-1].text.startswith("Checked out")
    async with h.storage.db.read() as tx:
        [(kind, status)] = await tx.all("SELECT kind, status FROM alerts")
    assert (h.storage.codes.value("alerts.kind", kind), status) == ("red", "open")
    h.clock.advance(timedelta(minutes=5))
    await h.tick()
    assert "Still no answer (reminder 1)" in supervisor.last().text
