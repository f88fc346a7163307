"""The PIN typed at check-out, and the duress PIN typed at any moment.

The question "Type your PIN." is kept with the check-in in the database, not in memory: an answer
typed after a restart still counts, with the worker's choice and the wrong tries so far. The duress
PIN is acted on wherever a worker types it, like a code word, since that is when it matters most.
These handlers run before every flow, so no flow can take a PIN as an answer of its own.
"""

from __future__ import annotations

from datetime import timedelta

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bot.context import BotContext
from bot.flows.checkout import close_and_answer
from bot.flows.common import OUT_OF_ORDER, is_worker, reply
from bot.flows.pin import forget_message
from bot.flows.router import SLOT
from bot.i18n import tr
from bot.jobs.ticker import request_flush
from bot.services.alerts import WRONG_PIN_LIMIT, check_pin, raise_code_alert, valid_pin

PIN_PATTERN = r"^\s*\d{4,8}\s*$"
ASKED_WITHIN = timedelta(minutes=15)  # an older question is forgotten, as a flow left alone would be


async def pin_typed(update: Update, context: BotContext) -> None:
    """4 to 8 digits from a worker who has PINs: the answer to "Type your PIN.", or the duress PIN."""
    message = update.message
    typed = (message.text or "").strip() if message is not None else ""
    if not (context.config.checkout_pin and is_worker(context) and valid_pin(typed)):
        return
    if (context.user_data or {}).get(SLOT, {}).get("flow") == "pin":
        return  # choosing new PINs: the /pin flow takes them
    assert context.person is not None
    verdict = await check_pin(context.storage, context.person, typed)
    if verdict == "unset":
        return
    async with context.storage.db.read() as tx:
        current = await context.storage.checkins.open_for(tx, context.person.id)
    now = context.clock.now()
    asked = current is not None and current.pin_asked_at is not None and now - current.pin_asked_at <= ASKED_WITHIN
    if verdict == "wrong" and not asked:
        return  # ordinary digits (a duration, a date...): the flows after this take them
    await forget_message(update)
    if verdict == "wrong":
        assert current is not None
        async with context.storage.db.tx() as tx:
            wrong = await context.storage.checkins.wrong_pin(tx, current.id)
        if wrong < WRONG_PIN_LIMIT:
            await reply(update, tr(context.locale, "That PIN is not right. Try again."))
            raise ApplicationHandlerStop
        verdict = "duress"  # three wrong PINs: someone may be guessing for the worker
    if current is not None and (asked or verdict == "duress"):
        outcome = (current.pin_outcome or "fine") if asked else "fine"
        await close_and_answer(update, context, current.id, outcome, duress=verdict == "duress")
    elif verdict == "duress":  # not checked in: alert all the same; the screen shows an ordinary hint
        await raise_code_alert(
            context.storage,
            context.config.escalation,
            context.person,
            "red",
            now,
            duress=True,
            update_id=update.update_id,
        )
        request_flush(context)
        await reply(update, tr(context.locale, OUT_OF_ORDER))
    else:  # the safe PIN, not asked for: it only leaves the screen
        await reply(update, tr(context.locale, OUT_OF_ORDER))
    raise ApplicationHandlerStop
