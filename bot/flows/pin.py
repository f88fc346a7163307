"""/pin: a safe PIN and a different duress PIN, typed at check-out when the organisation uses PINs.

The duress PIN is asked twice, so a slip of the finger cannot set a PIN the worker does not know.
Every PIN typed leaves the chat at once; the explanation goes with the clean-up.
"""

from __future__ import annotations

from datetime import timedelta

from bot.flows.common import is_worker
from bot.flows.model import TEXT, Ctx, Done, Flow, Input, Next, Result, Screen, Stay
from bot.i18n import N_
from bot.services.alerts import pin_text, set_pins, valid_pin

SAFE, SECOND, AGAIN = "safe", "second", "again"
PIN_EXAMPLE = N_("A PIN is 4 to 8 digits, like 4821.")
CHOOSING_TIMEOUT = timedelta(minutes=10)


def _ask(step: str, text: str) -> Next:
    return Next(step, Screen(text, takes=TEXT, secret=True))


async def start(c: Ctx, inp: Input) -> Result:
    """Ask for the normal PIN."""
    if not c.config.checkout_pin:
        return Done(c.t("Your organisation does not use check-out PINs."))
    if not is_worker(c):
        return Done(c.t("This is for outreach workers."))
    return _ask(SAFE, c.t("Choose your normal PIN: 4 to 8 digits. You type it at every check-out."))


async def safe_typed(c: Ctx, inp: Input) -> Result:
    """The normal PIN."""
    pin = pin_text(inp.value)
    if not valid_pin(pin):
        return Stay(c.t(PIN_EXAMPLE))
    c.answers["safe"] = pin
    return _ask(
        SECOND,
        c.t(
            "Now choose a second, different PIN for danger. If you type it at "
            "check-out, everything looks normal, but your supervisor is alerted."
        ),
    )


async def second_typed(c: Ctx, inp: Input) -> Result:
    """The second PIN: must differ from the first."""
    pin = pin_text(inp.value)
    if not valid_pin(pin):
        return Stay(c.t(PIN_EXAMPLE))
    if pin == c.answers.get("safe"):
        return Stay(c.t("The two PINs must be different. Choose another one."))
    c.answers["second"] = pin
    return _ask(AGAIN, c.t("Type the second PIN once more."))


async def again_typed(c: Ctx, inp: Input) -> Result:
    """The second PIN again: saved when both match."""
    assert c.person is not None
    pin = pin_text(inp.value)
    if pin != c.answers.get("second"):
        c.answers.pop("second", None)
        return _ask(SECOND, c.t("The two did not match. Choose the second PIN again."))
    await set_pins(c.storage, c.person, c.answers["safe"], pin, c.now())
    return Done(c.t("Your PINs are saved. Remember them; they are not shown again."), kept=c.t("Saved."))


FLOW = Flow(
    name="pin",
    start=start,
    steps={SAFE: safe_typed, SECOND: second_typed, AGAIN: again_typed},
    commands=("pin",),
    timeout=CHOOSING_TIMEOUT,
)
