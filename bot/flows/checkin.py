"""/checkin: place -> partner -> expected duration -> optional location -> one confirmation."""

from __future__ import annotations

from datetime import timedelta

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.ext import CallbackQueryHandler, CommandHandler, ConversationHandler, MessageHandler, filters

from bot.context import BotContext
from bot.flows.common import is_worker, location_text, reply, stale
from bot.flows.router import Flow
from bot.i18n import N_, tr
from bot.jobs.ticker import request_flush
from bot.keyboards import inline
from bot.render import checkin_buttons
from bot.services.checkins import NewCheckin, Outcome, open_checkin, set_location
from bot.services.ladder import MAX_CHECKIN, parse_worker_duration
from bot.timefmt import when
from config.org import Hotspot
from storage.checkins import Checkin

PLACE, PLACE_TEXT, PARTNER, ALONE, DURATION, LOCATION = (
    "checkin:place",
    "checkin:place_text",
    "checkin:partner",
    "checkin:alone",
    "checkin:duration",
    "checkin:location",
)
END = ConversationHandler.END
DRAFT = "checkin"
MAX_PARTNERS = 40  # Telegram refuses a keyboard of more than 100 buttons
DURATIONS = ((30, N_("30 min")), (60, N_("1 h")), (120, N_("2 h")), (180, N_("3 h")))
ADVICE = {
    "high": N_("High-risk place: stay with your partner, keep your phone charged, know your way out."),
    "medium": N_("Stay alert and keep your phone at hand."),
    "low": N_("Have a good shift."),
}
DURATION_EXAMPLE = N_("Write the time like 45, 45m or 1h30 (up to 12 hours).")


def _hotspot(context: BotContext, index: int) -> Hotspot | None:
    hotspots = context.config.hotspots
    return hotspots[index] if 0 <= index < len(hotspots) else None


async def start(update: Update, context: BotContext) -> str | int:
    """Entry: offer the places, the worker's recent ones first; or check-out/extend if already in."""
    if not is_worker(context):
        await reply(update, tr(context.locale, "Check-ins are for outreach workers."))
        return END
    assert context.person is not None
    async with context.storage.db.read() as tx:
        current = await context.storage.checkins.open_for(tx, context.person.id)
        recent = await context.storage.checkins.recent_places(tx, context.person.id)
    if current is not None:
        text = tr(
            context.locale,
            "You are already checked in at {place} until {time}.",
            place=context.config.place_label(current.place, context.locale),
            time=when(current.deadline_at, context.locale, context.config.tz, context.clock.now()),
        )
        await reply(update, text, reply_markup=checkin_buttons(context.locale, current.id))
        return END
    context.drafts[DRAFT] = {}
    order = sorted(
        range(len(context.config.hotspots)),
        key=lambda i: (
            recent.index(context.config.hotspots[i].name)
            if context.config.hotspots[i].name in recent
            else len(recent) + i
        ),
    )
    rows = [[(context.config.hotspots[i].label(context.locale), f"ci:place:{i}")] for i in order]
    rows.append([(tr(context.locale, "Other place"), "ci:place:other")])
    rows.append([(tr(context.locale, "Cancel"), "ci:cancel")])
    await reply(update, tr(context.locale, "Where are you going?"), reply_markup=inline(rows))
    return PLACE


async def place_chosen(update: Update, context: BotContext) -> str | int:
    """A place button: remember it, ask for a partner (or for the typed name of another place)."""
    query = update.callback_query
    assert query is not None
    choice = (query.data or "").removeprefix("ci:place:")
    if choice == "other":
        await reply(update, tr(context.locale, "Write the name of the place."))
        return PLACE_TEXT
    hotspot = _hotspot(context, int(choice)) if choice.isdecimal() else None  # isdigit() takes "²", int() does not
    if hotspot is None or DRAFT not in context.drafts:
        await stale(update, context)
        return END
    context.drafts[DRAFT].update(place=hotspot.name, custom=False, risk=hotspot.risk, pairs=hotspot.pairs_required)
    return await ask_partner(update, context)


async def place_typed(update: Update, context: BotContext) -> str | int:
    """A typed place: kept sealed and flagged for an admin to add to the list."""
    assert update.message is not None and update.message.text is not None
    name = " ".join(update.message.text.split())[:80]
    if len(name) < 2:
        await reply(update, tr(context.locale, "Write the name of the place."))
        return PLACE_TEXT
    context.drafts.setdefault(DRAFT, {}).update(place=name, custom=True, risk="medium", pairs=False)
    return await ask_partner(update, context)


async def ask_partner(update: Update, context: BotContext) -> str:
    """Colleagues of the same team, or alone."""
    assert context.person is not None
    colleagues = []
    if context.person.team_id:
        async with context.storage.db.read() as tx:
            team = await context.storage.people.in_team(tx, context.person.team_id, "worker")
            colleagues = [p for p in team if p.id != context.person.id]
            if len(colleagues) > MAX_PARTNERS:  # a big team: those out now first, they are the likely partners
                out = {c.person_id for c in await context.storage.checkins.open_in_team(tx, context.person.team_id)}
                colleagues = sorted(colleagues, key=lambda p: p.id not in out)[:MAX_PARTNERS]
    rows = [[(p.display, f"ci:partner:{p.id}")] for p in colleagues]
    rows.append([(tr(context.locale, "Alone"), "ci:partner:alone")])
    await reply(update, tr(context.locale, "Who is with you?"), reply_markup=inline(rows))
    return PARTNER


async def partner_chosen(update: Update, context: BotContext) -> str | int:
    """A colleague or "alone"; alone at a place that needs two asks once more."""
    query = update.callback_query
    assert query is not None and context.person is not None
    draft = context.drafts.get(DRAFT)
    if not draft or "place" not in draft:
        await stale(update, context)
        return END
    choice = (query.data or "").removeprefix("ci:partner:")
    if choice == "alone":
        draft["partner"] = None
        if draft.get("pairs"):
            keyboard = InlineKeyboardMarkup(
                [
                    [InlineKeyboardButton(tr(context.locale, "Yes, I go alone"), callback_data="ci:alone:yes")],
                    [InlineKeyboardButton(tr(context.locale, "Choose a partner"), callback_data="ci:alone:back")],
                ]
            )
            await reply(
                update,
                tr(context.locale, "This place needs two people. Go alone anyway? Your supervisor will be told."),
                reply_markup=keyboard,
            )
            return ALONE
        return await ask_duration(update, context)
    async with context.storage.db.read() as tx:
        partner = await context.storage.people.get(tx, choice)
    if (
        partner is None
        or partner.team_id != context.person.team_id
        or partner.status != "active"
        or partner.id == context.person.id
    ):
        await stale(update, context)
        return END
    draft["partner"] = partner.id
    return await ask_duration(update, context)


async def alone_confirmed(update: Update, context: BotContext) -> str | int:
    """Second tap for going alone where two are needed, or back to the partner list."""
    query = update.callback_query
    assert query is not None
    if query.data == "ci:alone:back":
        return await ask_partner(update, context)
    context.drafts.get(DRAFT, {})["alone_at_pairs"] = True
    return await ask_duration(update, context)


async def ask_duration(update: Update, context: BotContext) -> str:
    """Buttons for the usual times; any other time may be typed."""
    row = [(tr(context.locale, label), f"ci:dur:{m}") for m, label in DURATIONS]
    await reply(
        update,
        tr(context.locale, "How long will you stay? Tap, or write it (like 45 or 1h30)."),
        reply_markup=inline([row[:2], row[2:]]),
    )
    return DURATION


async def duration_tapped(update: Update, context: BotContext) -> str | int:
    """A duration button."""
    query = update.callback_query
    assert query is not None
    value = (query.data or "").removeprefix("ci:dur:")
    minutes = int(value) if value.isdecimal() else 0
    if not 0 < minutes <= MAX_CHECKIN // timedelta(minutes=1) or DRAFT not in context.drafts:  # forged: 0, 10**20...
        await stale(update, context)
        return END
    context.drafts[DRAFT]["minutes"] = minutes
    return await commit(update, context)


async def duration_typed(update: Update, context: BotContext) -> str | int:
    """A typed duration; anything else gets one line showing what works."""
    assert update.message is not None
    duration = parse_worker_duration(update.message.text or "")
    if duration is None:
        await reply(update, tr(context.locale, DURATION_EXAMPLE))
        return DURATION
    context.drafts.setdefault(DRAFT, {})["minutes"] = duration.total_seconds() / 60
    return await commit(update, context)


async def commit(update: Update, context: BotContext) -> str | int:
    """Store the check-in as soon as its time is known: from here the worker is covered, even if they
    put the phone away at the optional location question, or go on to something else."""
    assert context.person is not None
    draft = context.drafts.get(DRAFT)
    if not draft or "place" not in draft or "minutes" not in draft:
        await stale(update, context)
        return END
    new = NewCheckin(
        place=draft["place"],
        place_custom=draft["custom"],
        partner_id=draft.get("partner"),
        alone_at_pairs=bool(draft.get("alone_at_pairs")),
        duration=timedelta(minutes=draft["minutes"]),
        location=None,
    )
    now = context.clock.now()
    queued = context.storage.outbox.enqueued
    result = await open_checkin(context.storage, context.config.escalation, context.person, new, now)
    if result.outcome is Outcome.ALREADY_OPEN:
        context.drafts.pop(DRAFT, None)
        await reply(update, tr(context.locale, "You are already checked in."), reply_markup=ReplyKeyboardRemove())
        return END
    assert result.checkin is not None
    request_flush(context, since=queued)
    draft["deadline"] = result.checkin.deadline_at  # marks the check-in as stored
    return await ask_location(update, context)


async def ask_location(update: Update, context: BotContext) -> str:
    """Location is optional: a button on the phone's keyboard shares it, "Skip" goes on without."""
    keyboard = ReplyKeyboardMarkup(
        [[KeyboardButton(tr(context.locale, "Share my location"), request_location=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )
    await reply(
        update, tr(context.locale, "Share your location? It helps if something goes wrong."), reply_markup=keyboard
    )
    skip = inline([[(tr(context.locale, "Skip"), "ci:loc:skip")]])
    assert update.effective_chat is not None
    await context.bot.send_text(update.effective_chat.id, tr(context.locale, "Or continue without it:"), skip)
    return LOCATION


async def location_shared(update: Update, context: BotContext) -> str | int:
    """A location message: kept sealed."""
    assert update.message is not None and update.message.location is not None
    where = location_text(update.message.location.latitude, update.message.location.longitude)
    if where is None:
        await reply(update, tr(context.locale, "This location cannot be used. Tap Skip to continue without it."))
        return LOCATION
    context.drafts.setdefault(DRAFT, {})["location"] = where
    return await finish(update, context)


async def location_skipped(update: Update, context: BotContext) -> str | int:
    """ "Skip": no location."""
    return await finish(update, context)


async def finish(update: Update, context: BotContext) -> int:
    """The check-in is stored: add the location if one was shared, then confirm with the deadline and
    the place's advice."""
    assert context.person is not None
    draft = context.drafts.pop(DRAFT, None)
    if not draft or "deadline" not in draft:
        await stale(update, context)
        return END
    now = context.clock.now()
    async with context.storage.db.read() as tx:  # a supervisor may have closed it meanwhile, or it was extended
        current = await context.storage.checkins.open_for(tx, context.person.id)
    if current is None:
        await reply(update, tr(context.locale, "You are not checked in. To start: /checkin."), ReplyKeyboardRemove())
        return END
    if draft.get("location"):
        await set_location(context.storage, context.person, draft["location"], now)
    await _confirm(update, context, current, draft.get("risk", "medium"))
    return END


async def skip_after_restart(update: Update, context: BotContext) -> None:
    """ "Skip" once the flow was lost (a restart): the check-in was stored at its time; say so."""
    assert context.person is not None
    async with context.storage.db.read() as tx:
        current = await context.storage.checkins.open_for(tx, context.person.id) if is_worker(context) else None
    if current is None:
        await stale(update, context)
        return
    risk = next((h.risk for h in context.config.hotspots if h.name == current.place), "medium")
    await _confirm(update, context, current, risk)


async def _confirm(update: Update, context: BotContext, current: Checkin, risk: str) -> None:
    """The confirmation: where, until when, the place's advice, and what to do next."""
    now = context.clock.now()
    lines = [
        tr(
            context.locale,
            "Checked in at {place} until {time}.",
            place=context.config.place_label(current.place, context.locale),
            time=when(current.deadline_at, context.locale, context.config.tz, now),
        ),
        tr(context.locale, ADVICE[risk]),
        tr(context.locale, "When you leave: /checkout. Need more time: /extend."),
    ]
    await reply(update, "\n".join(lines), reply_markup=ReplyKeyboardRemove())


async def cancel(update: Update, context: BotContext) -> int:
    """ "Cancel" or /cancel: nothing is stored; at the location question the check-in already is, so
    the worker is told they are checked in."""
    if "deadline" in context.drafts.get(DRAFT, {}):
        return await finish(update, context)
    context.drafts.pop(DRAFT, None)
    await reply(update, tr(context.locale, "Cancelled. Nothing was saved."), reply_markup=ReplyKeyboardRemove())
    return END


async def out_of_order(update: Update, context: BotContext) -> str | None:
    """Something the current step does not expect: a hint, and the step stays the same."""
    if update.callback_query is not None:
        await stale(update, context)
        return None
    await reply(update, tr(context.locale, "Please answer the question above, or send /cancel."))
    return None


def handler() -> Flow:
    """The check-in conversation, wired in one place."""
    text = filters.TEXT & ~filters.COMMAND
    return Flow(
        entry_points=[CommandHandler("checkin", start)],
        states={
            PLACE: [CallbackQueryHandler(place_chosen, pattern=r"^ci:place:")],
            PLACE_TEXT: [MessageHandler(text, place_typed)],
            PARTNER: [CallbackQueryHandler(partner_chosen, pattern=r"^ci:partner:")],
            ALONE: [CallbackQueryHandler(alone_confirmed, pattern=r"^ci:alone:")],
            DURATION: [
                CallbackQueryHandler(duration_tapped, pattern=r"^ci:dur:"),
                MessageHandler(text, duration_typed),
            ],
            LOCATION: [
                MessageHandler(filters.LOCATION, location_shared),
                CallbackQueryHandler(location_skipped, pattern=r"^ci:loc:skip$"),
            ],
        },
        fallbacks=[
            CommandHandler("cancel", cancel),
            CallbackQueryHandler(cancel, pattern=r"^ci:cancel$"),
            CommandHandler("checkin", start),
            MessageHandler(filters.ALL & ~filters.COMMAND, out_of_order),
            CallbackQueryHandler(out_of_order, pattern=r"^ci:"),
        ],
        name="checkin",
        timeout=timedelta(minutes=30),
    )
