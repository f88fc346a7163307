"""Alerts raised by the worker: a code word, /alert, or a duress PIN at check-out."""

from __future__ import annotations

import asyncio
import hmac
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.services.alert_lifecycle import LEVEL_KINDS, close_alert, raise_in_tx
from config.org import Escalation
from storage import Person, Storage, Tx
from storage.alerts import Alert

WRONG_PIN_LIMIT = 3
SAME_UPDATE_WITHIN = timedelta(days=1)  # Telegram re-sends an unconfirmed update within minutes, not days


@dataclass(frozen=True)
class Raised:
    alert_id: str | None
    cleared: int = 0


async def raise_code_alert(
    storage: Storage,
    esc: Escalation,
    worker: Person,
    level: str,
    now: datetime,
    *,
    duress: bool = False,
    update_id: int | None = None,
) -> Raised:
    """red: supervisors and managers at once; yellow: supervisors, then managers if nobody answers;
    green: clears the worker's open yellow alerts and tells whoever was told. The same Telegram update
    (sent again after a crash) raises its alert once."""
    async with storage.db.tx() as tx:
        if level == "green":
            return Raised(None, await _clear_yellow(storage, tx, worker, now, update_id))
        if update_id is not None:
            kind = "duress" if duress else LEVEL_KINDS[level]
            earlier = await storage.alerts.raised_by_update(tx, worker.id, update_id, kind, now - SAME_UPDATE_WITHIN)
            if earlier is not None:
                return Raised(earlier)
        return Raised(await raise_in_tx(storage, tx, esc, worker, level, now, duress=duress, update_id=update_id))


async def _clear_yellow(storage: Storage, tx: Tx, worker: Person, now: datetime, update_id: int | None) -> int:
    """Close the worker's open yellow alerts, but only those raised before this green: when Telegram sends
    a green again after a crash, a yellow sent after it must stay open."""

    def before(alert: Alert) -> bool:
        if update_id is None or alert.update_id is None or alert.raised_at < now - SAME_UPDATE_WITHIN:
            return True
        return alert.update_id < update_id

    open_yellow = [a for a in await storage.alerts.active_for_person(tx, worker.id, "yellow") if before(a)]
    for alert in open_yellow:
        await close_alert(storage, tx, alert, None, "green", now)
    return len(open_yellow)


async def pin_digests(storage: Storage, person_id: str, pin: str) -> bytes:
    """The PIN's digest, computed off the event loop (scrypt is slow on purpose)."""
    return await asyncio.to_thread(storage.sealer.pin_digest, person_id, pin)


async def set_pins(storage: Storage, worker: Person, safe: str, duress: str, now: datetime) -> None:
    safe_digest = await pin_digests(storage, worker.id, safe)
    duress_digest = await pin_digests(storage, worker.id, duress)
    async with storage.db.tx() as tx:
        await storage.people.set_pins(tx, worker.id, safe_digest, duress_digest)
        await storage.audit.record(
            tx, now, "person.set_pins", org_id=worker.org_id, actor_id=worker.id, subject_id=worker.id
        )


async def check_pin(storage: Storage, worker: Person, pin: str) -> str:
    """ "safe", "duress" or "wrong": both digests are always compared, so both answers take the same time."""
    async with storage.db.read() as tx:
        stored = await storage.people.pins(tx, worker.id)
    typed = await pin_digests(storage, worker.id, pin)
    if stored is None:
        return "unset"
    is_safe = hmac.compare_digest(typed, stored[0])
    is_duress = hmac.compare_digest(typed, stored[1])
    return "duress" if is_duress else "safe" if is_safe else "wrong"


def pin_text(typed: str) -> str:
    """The typed text with digits of any script (Arabic-Indic ٤٨٢١...) as ASCII digits, trimmed."""
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in typed.strip())


def valid_pin(pin: str) -> bool:
    return pin.isascii() and pin.isdigit() and 4 <= len(pin) <= 8
