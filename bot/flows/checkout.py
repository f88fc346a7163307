"""/checkout: "Are you safe?" -> the PIN, where the organisation uses them -> closed.

The PIN question is a step like any other, so an answer typed after a restart still counts, with
the worker's choice and the wrong tries so far. What the worker sees after the PIN depends only on
what they chose, never on which PIN they typed: a duress PIN looks like a normal check-out.
"""

from __future__ import annotations

from datetime import timedelta

from bot.flows.common import NOT_IN, is_worker, not_a_worker
from bot.flows.model import TEXT, Ctx, Done, Flow, Input, Next, Result, Screen, Stay, rows
from bot.services.alerts import WRONG_PIN_LIMIT, check_pin, pin_text, raise_code_alert, valid_pin
from bot.services.checkins import Outcome, checkout
from storage.checkins import Checkin

SAFE, PIN = "safe", "pin"
CHECKED_OUT = "Checked out. Thank you, take care."
KEPT = "Thank you."


async def current_checkin(c: Ctx, wanted: str | None = None) -> Checkin | None:
    """The worker's open check-in (the one a button names, if it names one)."""
    assert c.person is not None
    async with c.storage.db.read() as tx:
        current = await c.storage.checkins.open_for(tx, c.person.id)
    if current is None or (wanted is not None and wanted != current.id):
        return None
    return current


async def start(c: Ctx, inp: Input) -> Result:
    """/checkout or the "Check out" button: are you safe?"""
    if not is_worker(c):
        return not_a_worker(c)
    wanted = inp.value.removeprefix("co:ask:") if inp.value.startswith("co:ask:") else None
    current = await current_checkin(c, wanted)
    if current is None:
        return Done(c.t("This button is no longer current." if wanted else NOT_IN))
    c.answers["checkin"] = current.id
    choices = rows(
        [(c.t("Yes, all fine"), f"co:fine:{current.id}")], [(c.t("Something happened"), f"co:issue:{current.id}")]
    )
    return Next(SAFE, Screen(c.t("Are you safe?"), choices))


async def answered(c: Ctx, inp: Input) -> Result:
    """The answer to "Are you safe?": close, or first ask for the PIN if the worker has them."""
    assert c.person is not None
    _, answer, checkin_id = (inp.value + "::").split(":", 2)
    checkin_id = checkin_id.rstrip(":")
    outcome = {"fine": "fine", "issue": "something_happened"}.get(answer)
    if outcome is None or checkin_id != c.answers.get("checkin"):
        return Stay(c.t("This button is no longer current."))
    c.answers["outcome"] = outcome
    if c.config.checkout_pin:
        async with c.storage.db.read() as tx:
            has_pins = await c.storage.people.pins(tx, c.person.id) is not None
        if has_pins:
            return Next(PIN, Screen(c.t("Type your PIN."), takes=TEXT, secret=True))
    return await close(c, duress=False)


async def pin_typed(c: Ctx, inp: Input) -> Result:
    """The PIN: the safe one closes; the duress one closes the same way and alerts; three wrong, too."""
    assert c.person is not None
    typed = pin_text(inp.value)
    verdict = await check_pin(c.storage, c.person, typed) if valid_pin(typed) else "wrong"
    if verdict == "wrong":
        c.answers["wrong"] = int(c.answers.get("wrong", 0)) + 1
        if c.answers["wrong"] < WRONG_PIN_LIMIT:
            return Stay(c.t("That PIN is not right. Try again."))
        verdict = "duress"  # three wrong PINs: someone may be guessing for the worker
    return await close(c, duress=verdict == "duress")


async def close(c: Ctx, *, duress: bool) -> Result:
    """Close the check-in; the screen shows what the worker chose, whichever PIN it was."""
    assert c.person is not None
    outcome = c.answers.get("outcome", "fine")
    result = await checkout(
        c.storage,
        c.person,
        c.answers.get("checkin"),
        outcome,
        c.now(),
        duress_esc=c.config.escalation if duress else None,
        update_id=c.update_id,
    )
    if result.outcome is not Outcome.OK or result.checkin is None:
        if duress:  # closed meanwhile (a supervisor's "is safe"): the duress PIN still alerts
            await raise_code_alert(
                c.storage, c.config.escalation, c.person, "red", c.now(), duress=True, update_id=c.update_id
            )
            return Done(c.t(CHECKED_OUT), kept=c.t(KEPT), replaces_kept=True)
        return Done(c.t("This button is no longer current."))
    if outcome == "fine":
        return Done(c.t(CHECKED_OUT), kept=c.t(KEPT), replaces_kept=True)
    place = result.checkin.place
    prefill = {"place_kind": "other" if result.checkin.place_custom else "hotspot", "place": place}
    prefill |= {"when": "today", "checkin_id": result.checkin.id}
    text = c.t("Checked out. It is noted that something happened. Your supervisor can help.")
    return Done(text, kept=c.t(KEPT), then=("report", prefill), replaces_kept=True)


async def cancel(c: Ctx, inp: Input) -> Result:
    """/cancel before the answer: the check-in stays open."""
    return Done(c.t("Cancelled. Nothing was saved."))


FLOW = Flow(
    name="checkout",
    start=start,
    steps={SAFE: answered, PIN: pin_typed},
    commands=("checkout",),
    codes=("co:ask:",),
    timeout=timedelta(minutes=15),
    cancel=cancel,
)
