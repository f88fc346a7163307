"""The PIN typed at check-out, and the duress PIN typed at any moment.

The question "Type your PIN." is kept with the check-in in the database, not in memory: an answer
typed after a restart still counts, with the worker's choice and the wrong tries so far. The duress
PIN is acted on wherever a worker types it, like a code word, since that is when it matters most.
This handler runs before every flow, so no flow can take a PIN as an answer of its own.
"""

from __future__ import annotations

from datetime import timedelta

from telegram import Update

from bot.context import BotContext
from bot.flows import report
from bot.flows.checkout import PIN_QUESTION_KEPT, close_and_answer
from bot.flows.common import OUT_OF_ORDER, is_worker, reply, stop_after
from bot.flows.pin import CHOOSING_TIMEOUT, forget_message
from bot.flows.router import SLOT
from bot.handlers.alerts import raise_from
from bot.i18n import tr
from bot.services.alerts import WRONG_PIN_LIMIT, check_pin, pin_text, valid_pin

PIN_PATTERN = r"^\s*\d{4,8}\s*$"  # digits of any script; pin_text() makes them ASCII


async def pin_typed(update: Update, context: BotContext) -> None:
    """4 to 8 digits from a worker who has PINs: the answer to "Type your PIN.", or the duress PIN."""
    message = update.message
    typed = pin_text(message.text or "") if message is not None else ""
    if not (context.config.checkout_pin and is_worker(context) and valid_pin(typed)):
        return
    if _in_flow(context, "pin", CHOOSING_TIMEOUT):
        return  # choosing new PINs: the /pin flow takes them
    assert context.person is not None
    verdict = await check_pin(context.storage, context.person, typed)
    if verdict == "unset":
        return
    async with context.storage.db.read() as tx:
        current = await context.storage.checkins.open_for(tx, context.person.id)
    asked = (
        current is not None
        and current.pin_asked_at is not None
        and context.clock.now() - current.pin_asked_at <= PIN_QUESTION_KEPT
    )
    if verdict == "wrong" and (
        not asked or _in_flow(context, None, PIN_QUESTION_KEPT) or await report.awaits_text(context)
    ):
        return  # ordinary digits (a duration, a date, a phone number in a report...): the flows take them
    await stop_after(update, context, _answer(update, context, verdict, asked))


def _in_flow(context: BotContext, name: str | None, within: timedelta) -> bool:
    """Whether the person is in the middle of flow `name` (any flow for None), last active within `within`."""
    slot = (context.user_data or {}).get(SLOT)
    if not slot or (name is not None and slot.get("flow") != name):
        return False
    return bool(context.clock.now() - slot["at"] <= within)


async def _answer(update: Update, context: BotContext, verdict: str, asked: bool) -> None:
    """Act on a PIN: it leaves the screen first, then the check-in closes or the worker is told."""
    assert context.person is not None
    await forget_message(update)
    async with context.storage.db.read() as tx:
        current = await context.storage.checkins.open_for(tx, context.person.id)
    if verdict == "wrong":
        if current is None:  # closed meanwhile: nothing left to answer
            await reply(update, tr(context.locale, OUT_OF_ORDER))
            return
        async with context.storage.db.tx() as tx:
            wrong = await context.storage.checkins.wrong_pin(tx, current.id, update.update_id)
        if wrong < WRONG_PIN_LIMIT:
            await reply(update, tr(context.locale, "That PIN is not right. Try again."))
            return
        verdict = "duress"  # three wrong PINs: someone may be guessing for the worker
    if current is not None and (asked or verdict == "duress"):
        # The worker's last choice counts for the duress PIN too, even once the question is old: the
        # screen must then look like the check-out they asked for.
        outcome = current.pin_outcome or "fine"
        await close_and_answer(update, context, current.id, outcome, duress=verdict == "duress")
    elif verdict == "duress":  # not checked in: alert all the same; the screen shows an ordinary hint
        await raise_from(update, context, "red", duress=True)
        await reply(update, tr(context.locale, OUT_OF_ORDER))
    else:  # the safe PIN, not asked for: it only leaves the screen
        await reply(update, tr(context.locale, OUT_OF_ORDER))
