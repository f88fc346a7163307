"""/timeline, /incident (with follow-up), /summary and the weekly summary job, /export."""

from __future__ import annotations

import logging
from datetime import date, timedelta

from babel.dates import format_date
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.i18n import tr
from bot.services import incidents as inc
from bot.services.export import export
from bot.services.summary import this_week
from bot.services.summary_message import summary_message
from bot.telegram.context import BotContext
from bot.telegram.replies import reply, stale
from bot.textsplit import pieces
from bot.timefmt import when
from storage import Person
from storage.incidents import Filters

log = logging.getLogger("outreach.reports")
PAGE = 10
PERIODS = {"4w": 4, "12w": 12, "52w": 52, "all": 0}


def _scope(person: Person) -> Filters | None:
    """What a person may list: managers and admins everything, supervisors their team, workers their own."""
    if person.role in ("manager", "admin"):
        return Filters(org_id=person.org_id)
    if person.role == "supervisor":
        return Filters(org_id=person.org_id, team_id=person.team_id) if person.team_id else None
    return Filters(org_id=person.org_id, reporter_id=person.id)


def _filters(context: BotContext, period: str, category: str, place: str) -> Filters | None:
    assert context.person is not None
    base = _scope(context.person)
    if base is None:
        return None
    weeks = PERIODS.get(period, 12)
    today = context.clock.now().astimezone(context.config.tz).date()
    since = inc.week_of(today - timedelta(weeks=weeks)) if weeks else None
    place_key = None
    if place.isdecimal() and int(place) < len(context.config.hotspots):  # isdigit() takes "²", int() does not
        place_key = context.storage.incidents.place_key(context.config.hotspots[int(place)].name)
    return Filters(
        org_id=base.org_id,
        team_id=base.team_id,
        reporter_id=base.reporter_id,
        since_week=since,
        category=category if category in inc.CATEGORIES else None,
        place_key=place_key,
    )


async def timeline(update: Update, context: BotContext) -> None:
    """/timeline [4w|12w|52w|all] [category] [place name]: incidents, newest first, ten a page."""
    args = [a.lower() for a in (context.args or [])]
    period = next((a for a in args if a in PERIODS), "12w")
    category = next((a for a in args if a in inc.CATEGORIES), "-")
    words = " ".join(a for a in args if a not in PERIODS and a not in inc.CATEGORIES)
    place = "-"
    if words:
        found = [i for i, h in enumerate(context.config.hotspots) if h.name.casefold().startswith(words)]
        place = str(found[0]) if found else "-"
    await _page(update, context, 0, period, category, place)


async def timeline_page(update: Update, context: BotContext) -> None:
    """Next / previous page: tl:<offset>:<period>:<category>:<place>."""
    parts = ((update.callback_query.data if update.callback_query else None) or "").split(":")
    if len(parts) != 5 or not parts[1].isdecimal() or int(parts[1]) > 2**31:  # SQLite's OFFSET is 64-bit
        await stale(update, context)
        return
    await _page(update, context, int(parts[1]), parts[2], parts[3], parts[4])


async def _page(update: Update, context: BotContext, offset: int, period: str, category: str, place: str) -> None:
    filters = _filters(context, period, category, place)
    loc = context.locale
    if filters is None:
        await reply(update, tr(loc, "There is nothing you can see here."))
        return
    async with context.storage.db.read() as tx:
        items, total = await context.storage.incidents.page(tx, filters, offset, PAGE)
    if not items:
        await reply(update, tr(loc, "No incidents for this choice."))
        return
    lines = [tr(loc, "Incidents {start}–{end} of {total}:", start=offset + 1, end=offset + len(items), total=total)]
    for i in items:
        place_text = context.config.place_label(i.place, loc) or tr(loc, inc.PLACE_KINDS.get(i.place_kind or "", "–"))
        lines.append(
            " · ".join(
                [
                    format_date(i.occurred_on, "d MMM yy", locale=loc),
                    place_text,
                    tr(loc, inc.CATEGORIES[i.category]),
                    str(i.severity or "–"),
                    tr(loc, inc.FOLLOWUP.get(i.status, i.status)),
                    i.ref,
                ]
            )
        )
    buttons = []
    if offset > 0:
        buttons.append(
            InlineKeyboardButton(
                tr(loc, "◀ Previous"), callback_data=f"tl:{max(0, offset - PAGE)}:{period}:{category}:{place}"
            )
        )
    if offset + PAGE < total:
        buttons.append(
            InlineKeyboardButton(tr(loc, "Next ▶"), callback_data=f"tl:{offset + PAGE}:{period}:{category}:{place}")
        )
    await reply(update, "\n".join(lines), reply_markup=InlineKeyboardMarkup([buttons]) if buttons else None)


async def incident(update: Update, context: BotContext) -> None:
    """/incident R-XXXXX: one report in full, with its check-in and alert history; audit-logged. The
    worker's own words only for managers and admins."""
    assert context.person is not None
    loc, tz, now = context.locale, context.config.tz, context.clock.now()
    ref = (context.args or [""])[0].upper()
    async with context.storage.db.read() as tx:
        found = await context.storage.incidents.by_ref(tx, context.person.org_id, ref) if ref else None
    if found is None or not inc.may_see(context.person, found):
        await reply(update, tr(loc, "No report with this reference. Write it like /incident R-4K2P7."))
        return
    async with context.storage.db.tx() as tx:
        await context.storage.audit.record(
            tx, now, "incident.view", org_id=found.org_id, actor_id=context.person.id, subject_id=found.id
        )
        reporter = await context.storage.people.get(tx, found.reporter_id)
        checkin = await context.storage.checkins.get(tx, found.checkin_id) if found.checkin_id else None
        history = await context.storage.alerts.history(tx, found.alert_id) if found.alert_id else []
        followups = await context.storage.incidents.followups(tx, found.id)
    where = context.config.place_label(found.place, loc) or tr(loc, inc.PLACE_KINDS.get(found.place_kind or "", "–"))
    lines = [
        f"{found.ref} · {tr(loc, inc.CATEGORIES[found.category])}",
        f"{tr(loc, 'Reported by')}: {reporter.display if reporter else '?'}",
        f"{tr(loc, 'When')}: {found.occurred_on.isoformat()}",
        f"{tr(loc, 'Where')}: {where}",
        f"{tr(loc, 'Who was affected')}: {tr(loc, inc.AFFECTED.get(found.affected or '', '–'))}",
        f"{tr(loc, 'Who did it')}: {tr(loc, inc.PERPETRATORS.get(found.perpetrator or '', '–'))}",
        f"{tr(loc, 'How serious')}: {found.severity or '–'}",
        f"{tr(loc, 'Support')}: {tr(loc, inc.SUPPORT.get(found.support or '', '–'))}",
        f"{tr(loc, 'Told authorities')}: {tr(loc, inc.AUTHORITIES.get(found.authorities or '', '–'))}",
        f"{tr(loc, 'Status')}: {tr(loc, inc.FOLLOWUP.get(found.status, found.status))}",
    ]
    if found.account and not inc.may_read_account(context.person, found):  # that there is one, not its words
        lines.append(tr(loc, inc.ACCOUNT_KEPT))
    if checkin is not None:
        lines.append(
            tr(
                loc,
                "Check-in: {place}, {start} to {end}",
                place=context.config.place_label(checkin.place, loc),
                start=when(checkin.started_at, loc, tz, now),
                end=when(checkin.deadline_at, loc, tz, now),
            )
        )
    for event in history:
        lines.append(f"  {when(event.at, loc, tz, now)} {event.event}")
    for f in followups:
        note = f" – {f.note}" if f.note else ""
        lines.append(f"  {when(f.at, loc, tz, now)} {tr(loc, inc.FOLLOWUP.get(f.status, f.status))}{note}")
    if found.account and inc.may_read_account(context.person, found):
        lines += ["", tr(loc, "In their words:"), found.account]
    markup = None
    if inc.may_follow_up(context.person, found):
        markup = InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(tr(loc, label), callback_data=f"fu:{found.ref}:{code}")]
                for code, label in inc.FOLLOWUP.items()
                if code != "open"
            ]
        )
    shown = pieces("\n".join(lines))
    for index, piece in enumerate(shown):
        await reply(update, piece, reply_markup=markup if index == len(shown) - 1 else None)


async def send_summary(context: BotContext, person: Person, week: date) -> None:
    """One summary, text and chart, to one person in their language."""
    text, png = await summary_message(context.storage, context.config, person, week)
    await context.bot.send_message(chat_id=person.chat_id, text=text)
    await context.bot.send_photo(chat_id=person.chat_id, photo=png, filename="incidents.png")


async def summary_command(update: Update, context: BotContext) -> None:
    """/summary [week]: this week so far, or the week of a date (2026-11-16) or ISO week (2026-W47)."""
    assert context.person is not None
    if context.person.role == "worker" or (context.person.role == "supervisor" and not context.person.team_id):
        await reply(update, tr(context.locale, "This command is for managers and supervisors."))
        return
    week = this_week(context.clock.now(), context.config.tz)
    if context.args:
        parsed = _week_arg(context.args[0])
        if parsed is None:
            await reply(update, tr(context.locale, "Write the week like 2026-W47 or a date like 2026-11-16."))
            return
        week = parsed
    await send_summary(context, context.person, week)


def _week_arg(text: str) -> date | None:
    try:
        if "-W" in text.upper():
            year, number = text.upper().split("-W")
            week = date.fromisocalendar(int(year), int(number), 1)
        else:
            day = date.fromisoformat(text)
            week = day - timedelta(days=day.weekday())
    except ValueError:
        return None
    # The summary reaches weeks back and a week ahead: 0001-01-01 or 9999-12-31 would overflow the calendar.
    return week if date(1970, 1, 1) <= week <= date(9998, 12, 31) else None


async def export_command(update: Update, context: BotContext) -> None:
    """/export [from] [to] [accounts]: a CSV document for a period; audit-logged."""
    assert context.person is not None and update.effective_chat is not None
    if context.person.role not in ("manager", "admin"):
        await reply(update, tr(context.locale, "This command is for managers."))
        return
    args = context.args or []
    with_accounts = any(a.lower() in ("accounts", "--accounts") for a in args)
    days = [d for d in (_date(a) for a in args) if d is not None]
    today = context.clock.now().astimezone(context.config.tz).date()
    start = days[0] if days else today - timedelta(weeks=12)
    end = days[1] if len(days) > 1 else today
    if len([a for a in args if a.lower() not in ("accounts", "--accounts")]) != len(days) or start > end:
        await reply(update, tr(context.locale, "Write it like /export 2026-09-01 2026-11-30 (add: accounts)."))
        return
    data, count = await export(context.storage, context.person.org_id, start, end, with_accounts=with_accounts)
    async with context.storage.db.tx() as tx:
        await context.storage.audit.record(
            tx,
            context.clock.now(),
            "incident.export" + (":accounts" if with_accounts else ""),
            org_id=context.person.org_id,
            actor_id=context.person.id,
            subject_id=None,
        )
    await update.effective_chat.send_document(
        document=data, filename=f"incidents_{start}_{end}.csv", caption=tr(context.locale, "Incidents: {n}.", n=count)
    )


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None
