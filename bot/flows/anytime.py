"""What a worker can type at any moment, in any flow, and have acted on at once: the organisation's
code words, and the duress PIN. The rules for that live here and nowhere else.

Each rule looks at an input before any flow does; it returns None to let the flows have it. Digits
that are no PIN of this worker (a duration, a date) go on to the flows, and so do PINs typed where
a step asks for one (choosing PINs, the check-out's PIN question): those steps decide.
"""

from __future__ import annotations

from bot.flows import checkout, pin
from bot.flows.common import is_worker
from bot.flows.model import OUT_OF_ORDER, TEXT, Aside, Conversation, Ctx, Done, Input, Output, Result
from bot.i18n import N_
from bot.services.alerts import check_pin, pin_text, raise_code_alert, valid_pin
from bot.services.checkins import Outcome
from bot.services.checkins import checkout as close_checkin

DEFAULT_REPLY = N_("OK, noted.")


def discreet_reply(c: Ctx) -> str:
    """What the worker's screen shows after a code: the organisation's words, or a plain "OK, noted."."""
    return c.config.alerts.reply or c.t(DEFAULT_REPLY)


async def code_word(c: Ctx, inp: Input, out: Output, conv: Conversation) -> Result | None:
    """A configured code word from a worker: alert, answer discreetly; the flow stays where it was."""
    if inp.kind != TEXT or not is_worker(c):
        return None
    level = c.config.code_level(inp.value)
    if level is None:
        return None
    assert c.person is not None
    await raise_code_alert(c.storage, c.config.escalation, c.person, level, c.now(), update_id=c.update_id)
    return Aside(discreet_reply(c))


def _pin_step(conv: Conversation) -> bool:
    """Whether the current step itself takes a PIN."""
    return conv.flow == pin.FLOW.name or (conv.flow == checkout.FLOW.name and conv.step == checkout.PIN)


async def pin_anywhere(c: Ctx, inp: Input, out: Output, conv: Conversation) -> Result | None:
    """The duress PIN typed outside the PIN question: alert, and show what a check-out (or any
    unexpected message) shows. The safe PIN typed there only leaves the chat."""
    if inp.kind != TEXT or not c.config.checkout_pin or not is_worker(c) or _pin_step(conv):
        return None
    typed = pin_text(inp.value)
    if not valid_pin(typed):
        return None
    assert c.person is not None
    verdict = await check_pin(c.storage, c.person, typed)
    if verdict not in ("safe", "duress"):
        return None  # ordinary digits: the flows take them
    if verdict == "safe":
        return Aside(c.t(OUT_OF_ORDER), forget_now=True)
    esc, now = c.config.escalation, c.now()
    async with c.storage.db.read() as tx:
        current = await c.storage.checkins.open_for(tx, c.person.id)
    if current is not None:
        result = await close_checkin(
            c.storage, c.person, current.id, "fine", now, duress_esc=esc, update_id=c.update_id
        )
        if result.outcome is Outcome.OK:
            if conv.flow is None:  # what a check-out leaves: its line in place of "Until 8:00."
                return await _as_a_check_out(c, inp, out, conv)
            return Aside(c.t(checkout.CHECKED_OUT), forget_now=True)
    await raise_code_alert(c.storage, esc, c.person, "red", now, duress=True, update_id=c.update_id)
    return Aside(c.t(OUT_OF_ORDER), forget_now=True)


async def _as_a_check_out(c: Ctx, inp: Input, out: Output, conv: Conversation) -> Done:
    """The end a check-out has, so that the phone shows the same afterwards; the PIN leaves at once."""
    if inp.message_id is not None and inp.message_id in conv.got:
        await out.forget(inp.message_id)
        conv.got.remove(inp.message_id)
    return Done(c.t(checkout.CHECKED_OUT), kept=c.t(checkout.KEPT), replaces_kept=True)


RULES = (code_word, pin_anywhere)
