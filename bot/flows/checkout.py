"""/checkout ("Are you safe?"), /extend (+30 min, +1 h, or typed) and /status."""

from __future__ import annotations

from datetime import timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ConversationHandler, MessageHandler, filters

from bot.context import BotContext
from bot.flows import report
from bot.flows.checkin import DURATION_EXAMPLE
from bot.flows.common import is_worker, location_text, reply, stale
from bot.flows.router import Flow
from bot.handlers.alerts import raise_from
from bot.i18n import tr
from bot.jobs.ticker import request_flush
from bot.keyboards import inline
from bot.services.checkins import Outcome, checkout, extend, set_location
from bot.services.ladder import MAX_CHECKIN, parse_worker_duration
from bot.support import area_of, directory_text
from bot.timefmt import when
from storage.checkins import Checkin

EXTEND_TYPED = "extend:duration"
DRAFT = "checkout"
END = ConversationHandler.END
PIN_QUESTION_KEPT = timedelta(minutes=15)  # "Type your PIN." older than this is forgotten, as a flow would be
NOT_IN = "You are not checked in. To start: /checkin."


async def _current(update: Update, context: BotContext, prefix: str) -> Checkin | None:
    """The worker's open check-in, checked against the button's id; else the right hint, and None."""
    if not is_worker(context):
        await reply(update, tr(context.locale, "Check-ins are for outreach workers."))
        return None
    assert context.person is not None
    async with context.storage.db.read() as tx:
        current = await context.storage.checkins.open_for(tx, context.person.id)
    wanted = (update.callback_query.data or "").removeprefix(prefix) if update.callback_query else None
    if current is not None and (wanted is None or wanted == current.id):
        return current
    if wanted is not None:
        await stale(update, context)
    else:
        await reply(update, tr(context.locale, NOT_IN))
    return None


async def ask_safe(update: Update, context: BotContext) -> None:
    """/checkout or the "Check out" button: are you safe?"""
    current = await _current(update, context, "co:ask:")
    if current is None:
        return
    keyboard = inline(
        [
            [(tr(context.locale, "Yes, all fine"), f"co:fine:{current.id}")],
            [(tr(context.locale, "Something happened"), f"co:issue:{current.id}")],
        ]
    )
    await reply(update, tr(context.locale, "Are you safe?"), reply_markup=keyboard)


async def answered_safe(update: Update, context: BotContext) -> str | int:
    """The answer to "Are you safe?": close the check-in, or first ask for the PIN if the organisation uses one."""
    query = update.callback_query
    assert query is not None and context.person is not None
    _, answer, checkin_id = (query.data or "::").split(":", 2)
    outcome = {"fine": "fine", "issue": "something_happened"}.get(answer)
    if outcome is None:
        await stale(update, context)
        return END
    if context.config.checkout_pin:
        async with context.storage.db.read() as tx:
            has_pins = await context.storage.people.pins(tx, context.person.id) is not None
            current = await context.storage.checkins.open_for(tx, context.person.id)
        if current is None or current.id != checkin_id:
            await stale(update, context)
            return END
        if has_pins:  # the answer is taken by bot/flows/checkout_pin.py, also after a restart
            now = context.clock.now()
            async with context.storage.db.tx() as tx:
                await context.storage.checkins.ask_pin(tx, checkin_id, outcome, now, now - PIN_QUESTION_KEPT)
            await reply(update, tr(context.locale, "Type your PIN."))
            return END
    await close_and_answer(update, context, checkin_id, outcome, duress=False)
    return END


async def close_and_answer(update: Update, context: BotContext, checkin_id: str, outcome: str, *, duress: bool) -> None:
    """Close and answer; the answer depends only on what the worker chose, never on the PIN."""
    assert context.person is not None
    now = context.clock.now()
    queued = context.storage.outbox.enqueued
    result = await checkout(
        context.storage,
        context.person,
        checkin_id,
        outcome,
        now,
        duress_esc=context.config.escalation if duress else None,
        update_id=update.update_id,
    )
    if (result.outcome is not Outcome.OK or result.checkin is None) and duress:
        # Closed meanwhile (a supervisor's "is safe", a revocation): the duress PIN still alerts, and
        # the screen shows what a check-out shows.
        await raise_from(update, context, "red", duress=True)
        await reply(update, tr(context.locale, "Checked out. Thank you, take care."))
        return
    if result.outcome is not Outcome.OK or result.checkin is None:
        await stale(update, context)
        return
    request_flush(context, since=queued)
    if outcome == "fine":
        await reply(update, tr(context.locale, "Checked out. Thank you, take care."))
    else:
        area = area_of(context.config, result.checkin.place)
        text = tr(context.locale, "Checked out. It is noted that something happened. Your supervisor can help.")
        assert update.effective_chat is not None  # not reply(): the report's first question answers the press,
        await update.effective_chat.send_message(  # and Telegram refuses a second answer to one button press
            text + "\n\n" + directory_text(context.config, context.locale, area)
        )
        prefill = report.place_prefill(context, result.checkin.place, result.checkin.place_custom)
        await report.start_prefilled(update, context, prefill | {"when": "today", "checkin_id": result.checkin.id})


def checkout_handler() -> Flow:
    """The answer to "Are you safe?" (the PIN after it, when asked, is taken by checkout_pin.py)."""
    return Flow(
        entry_points=[CallbackQueryHandler(answered_safe, pattern=r"^co:(fine|issue):")],
        states={},
        fallbacks=[CallbackQueryHandler(answered_safe, pattern=r"^co:(fine|issue):")],
        name="checkout",
        timeout=timedelta(minutes=15),
    )


def _extend_keyboard(context: BotContext, checkin_id: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(tr(context.locale, "+30 min"), callback_data=f"ext:30:{checkin_id}"),
                InlineKeyboardButton(tr(context.locale, "+1 h"), callback_data=f"ext:60:{checkin_id}"),
            ]
        ]
    )


async def ask_extend(update: Update, context: BotContext) -> str | int:
    """/extend or the "Extend" button: offer +30 min, +1 h, or a typed time."""
    current = await _current(update, context, "ext:ask:")
    if current is None:
        return END
    await reply(
        update,
        tr(context.locale, "How much more time? Tap, or write it (like 45 or 1h30)."),
        reply_markup=_extend_keyboard(context, current.id),
    )
    return EXTEND_TYPED


async def _do_extend(update: Update, context: BotContext, checkin_id: str | None, delta: timedelta) -> int:
    assert context.person is not None
    now = context.clock.now()
    queued = context.storage.outbox.enqueued
    result = await extend(context.storage, context.config.escalation, context.person, checkin_id, delta, now)
    if result.outcome is Outcome.NOT_OPEN and checkin_id is None:
        await reply(update, tr(context.locale, NOT_IN))
        return END
    if result.outcome is not Outcome.OK or result.checkin is None:
        await stale(update, context)
        return END
    request_flush(context, since=queued)
    await reply(
        update,
        tr(
            context.locale,
            "Done. New time: {time}.",
            time=when(result.checkin.deadline_at, context.locale, context.config.tz, now),
        ),
    )
    return END


async def extend_tapped(update: Update, context: BotContext) -> int:
    """+30 min or +1 h, from this or any earlier extend message of the same check-in."""
    query = update.callback_query
    assert query is not None
    parts = (query.data or "").split(":")
    minutes = int(parts[1]) if len(parts) == 3 and parts[1].isdecimal() else 0
    if not 0 < minutes <= MAX_CHECKIN // timedelta(minutes=1):  # forged data: 0 or 10**20 minutes
        await stale(update, context)
        return END
    return await _do_extend(update, context, parts[2], timedelta(minutes=minutes))


async def extend_typed(update: Update, context: BotContext) -> str | int:
    """A typed extra time; anything else gets one line showing what works."""
    assert update.message is not None
    delta = parse_worker_duration(update.message.text or "")
    if delta is None:
        await reply(update, tr(context.locale, DURATION_EXAMPLE))
        return EXTEND_TYPED
    return await _do_extend(update, context, None, delta)


async def status(update: Update, context: BotContext) -> None:
    """/status: the worker's own open check-in."""
    if not is_worker(context):
        await reply(update, tr(context.locale, "Check-ins are for outreach workers. Supervisors: /team."))
        return
    assert context.person is not None
    async with context.storage.db.read() as tx:
        current = await context.storage.checkins.open_for(tx, context.person.id)
        partner = await context.storage.people.get(tx, current.partner_id) if current and current.partner_id else None
    if current is None:
        await reply(update, tr(context.locale, NOT_IN))
        return
    now, tz, loc = context.clock.now(), context.config.tz, context.locale
    lines = [
        tr(
            loc,
            "Checked in at {place} since {start}, until {end}.",
            place=context.config.place_label(current.place, loc),
            start=when(current.started_at, loc, tz, now),
            end=when(current.deadline_at, loc, tz, now),
        ),
        tr(loc, "With: {partner}", partner=partner.display if partner else tr(loc, "alone")),
    ]
    if current.deadline_at < now:
        lines.append(tr(loc, "Your time is over: check out or extend."))
    from bot.render import checkin_buttons

    await reply(update, "\n".join(lines), reply_markup=checkin_buttons(loc, current.id))


async def location_update(update: Update, context: BotContext) -> None:
    """A location sent outside the check-in flow updates the open check-in's last location."""
    if not is_worker(context) or update.message is None or update.message.location is None:
        return
    assert context.person is not None
    where = location_text(update.message.location.latitude, update.message.location.longitude)
    if where is None:
        await reply(update, tr(context.locale, "This location cannot be used."))
        return
    result = await set_location(context.storage, context.person, where, context.clock.now())
    if result.outcome is Outcome.OK:
        await reply(update, tr(context.locale, "Location saved."))
    else:
        await reply(update, tr(context.locale, NOT_IN))


def extend_handler() -> Flow:
    """The extend conversation: a typed time is only read right after the question."""
    return Flow(
        entry_points=[CommandHandler("extend", ask_extend), CallbackQueryHandler(ask_extend, pattern=r"^ext:ask:")],
        states={
            EXTEND_TYPED: [
                CallbackQueryHandler(extend_tapped, pattern=r"^ext:\d+:"),
                MessageHandler(filters.TEXT & ~filters.COMMAND, extend_typed),
            ]
        },
        fallbacks=[CommandHandler("extend", ask_extend), CallbackQueryHandler(ask_extend, pattern=r"^ext:ask:")],
        name="extend",
        timeout=timedelta(minutes=15),
    )
