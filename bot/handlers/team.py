"""/team for supervisors (and managers): who is out now; and the alert buttons."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.i18n import tr
from bot.jobs.ticker import request_flush
from bot.services.checkins import Outcome, acknowledge, resolve_safe
from bot.telegram.context import BotContext
from bot.telegram.replies import reply, stale
from bot.textsplit import pieces
from bot.timefmt import minutes, when

MAX_BUTTONS = 50  # Telegram refuses a keyboard of more than 100 buttons; the alert message has them too


async def team(update: Update, context: BotContext) -> None:
    """Who is out now, where, with whom, due when; overdue first, with acknowledge buttons."""
    person = context.person
    assert person is not None
    if person.role == "worker" or (person.role == "supervisor" and not person.team_id):
        await reply(update, tr(context.locale, "This command is for supervisors."))
        return
    now, tz, loc = context.clock.now(), context.config.tz, context.locale
    async with context.storage.db.read() as tx:
        if person.role == "supervisor":
            assert person.team_id is not None
            checkins = await context.storage.checkins.open_in_team(tx, person.team_id)
        else:
            checkins = await context.storage.checkins.open_in_org(tx, person.org_id)
        rows = []
        for c in checkins:
            worker = await context.storage.people.get(tx, c.person_id)
            partner = await context.storage.people.get(tx, c.partner_id) if c.partner_id else None
            alert = await context.storage.alerts.active_for_checkin(tx, c.id)
            rows.append((c, worker, partner, alert))
    if not rows:
        await reply(update, tr(loc, "Nobody is checked in right now."))
        return
    rows.sort(key=lambda r: (r[0].deadline_at >= now, r[0].deadline_at))
    lines, buttons = [tr(loc, "Out now: {n}", n=len(rows))], []
    for c, worker, partner, alert in rows:
        who = worker.display if worker else "?"
        with_whom = partner.display if partner else tr(loc, "alone")
        due = when(c.deadline_at, loc, tz, now)
        if c.deadline_at < now:
            late = tr(loc, "LATE {n} min", n=minutes(now - c.deadline_at))
            lines.append(f"• {who} · {context.config.place_label(c.place, loc)} · {with_whom} · {due} · {late}")
        else:
            lines.append(f"• {who} · {context.config.place_label(c.place, loc)} · {with_whom} · {due}")
        if alert is not None and alert.status == "open":
            buttons.append(
                [InlineKeyboardButton(tr(loc, "I'm handling {worker}", worker=who), callback_data=f"ack:{alert.id}")]
            )
        elif alert is not None and alert.status == "acknowledged":
            buttons.append(
                [InlineKeyboardButton(tr(loc, "{worker} is safe", worker=who), callback_data=f"safe:{alert.id}")]
            )
    if len(buttons) > MAX_BUTTONS:
        lines += ["", tr(loc, "Buttons for the first {n} only. Handle them, then send /team again.", n=MAX_BUTTONS)]
    shown = pieces("\n".join(lines))  # a whole organisation at shift start is more than one message
    markup = InlineKeyboardMarkup(buttons[:MAX_BUTTONS]) if buttons else None  # the most overdue first
    for index, piece in enumerate(shown):
        await reply(update, piece, reply_markup=markup if index == len(shown) - 1 else None)


async def acknowledge_alert(update: Update, context: BotContext) -> None:
    """ "I'm handling it"."""
    query = update.callback_query
    assert query is not None and context.person is not None
    alert_id = (query.data or "").removeprefix("ack:")
    result = await acknowledge(context.storage, context.person, alert_id, context.clock.now())
    await _answer(
        update,
        context,
        result.outcome,
        result.alert,
        tr(context.locale, "Thank you. The others are told that you are handling it."),
    )


async def resolve_alert(update: Update, context: BotContext) -> None:
    """ "Reached them, they are safe"."""
    query = update.callback_query
    assert query is not None and context.person is not None
    alert_id = (query.data or "").removeprefix("safe:")
    result = await resolve_safe(context.storage, context.person, alert_id, context.clock.now())
    await _answer(
        update,
        context,
        result.outcome,
        result.alert,
        tr(context.locale, "Thank you. The alert is closed and the others are told."),
    )


async def _answer(update: Update, context: BotContext, outcome: Outcome, alert: object, done: str) -> None:
    if outcome is Outcome.OK:
        request_flush(context)
        await reply(update, done)
    elif outcome is Outcome.ALREADY_DONE:
        async with context.storage.db.read() as tx:
            by = await context.storage.people.get(tx, getattr(alert, "acknowledged_by", "") or "")
        await reply(update, tr(context.locale, "{by} is already handling it.", by=by.display if by else "?"))
    elif outcome is Outcome.STALE and alert is not None:
        await reply(update, tr(context.locale, "This alert is already closed."))
    else:
        await stale(update, context)
