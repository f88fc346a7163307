"""/report: what happened (required) -> who was affected -> when -> where -> who did it -> how serious
-> own words -> support needed -> told the authorities -> summary with send / change.

The half-written report lives in the database (sealed), not in memory, so it survives restarts;
the step to ask next is whatever the draft does not answer yet.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.context import BotContext
from bot.flows.common import reply, stale
from bot.handlers.start import fallback
from bot.i18n import N_, tr
from bot.jobs.ticker import request_flush
from bot.services import incidents as inc
from bot.support import directory_text

STEPS = ("category", "affected", "when", "where", "perpetrator", "severity", "account", "support", "authorities")
CHOICES: dict[str, dict[str, str]] = {
    "category": inc.CATEGORIES,
    "affected": inc.AFFECTED,
    "when": inc.WHEN,
    "perpetrator": inc.PERPETRATORS,
    "severity": inc.SEVERITIES,
    "support": inc.SUPPORT,
    "authorities": inc.AUTHORITIES,
}
QUESTIONS = {
    "category": N_("What happened?"),
    "affected": N_("Who was affected?"),
    "when": N_("When?"),
    "where": N_("Where?"),
    "perpetrator": N_("Who did it?"),
    "severity": N_("How serious is it?"),
    "account": N_("Tell what happened in your own words, or tap Skip. Only managers can read it."),
    "support": N_("Do you need support?"),
    "authorities": N_("Did you tell the police or authorities?"),
}
LABELS = {
    "category": N_("What"),
    "affected": N_("Who was affected"),
    "when": N_("When"),
    "where": N_("Where"),
    "perpetrator": N_("Who did it"),
    "severity": N_("How serious"),
    "account": N_("Your words"),
    "support": N_("Support"),
    "authorities": N_("Told authorities"),
}
DATE_EXAMPLE = N_("Write the date like 20/11 or 20/11/2026. It cannot be in the future.")
LONG_TEXT = 3500  # Telegram splits long texts: past this, more parts may follow


async def _load(context: BotContext) -> dict[str, Any] | None:
    assert context.person is not None
    async with context.storage.db.read() as tx:
        return await context.storage.incidents.draft(tx, context.person.id)


async def awaits_text(context: BotContext) -> bool:
    """Whether the person's report waits for something typed (a date, a place, their own words)."""
    draft = await _load(context) if context.person is not None else None
    return bool(draft and draft.get("awaiting"))


async def _save(context: BotContext, draft: dict[str, Any]) -> None:
    assert context.person is not None
    async with context.storage.db.tx() as tx:
        await context.storage.incidents.save_draft(tx, context.person.id, draft, context.clock.now())


def _answered(draft: dict[str, Any], step: str) -> bool:
    if step == "when":
        return "when" in draft
    if step == "where":
        return "place_kind" in draft
    return step in draft


def _next_step(draft: dict[str, Any]) -> str | None:
    if draft.get("returning"):
        return None
    return next((s for s in STEPS if not _answered(draft, s)), None)


async def start(update: Update, context: BotContext) -> None:
    """/report: start (or continue) a report."""
    draft = await _load(context) or {}
    draft.pop("awaiting", None)
    await _save(context, draft)
    await ask(update, context, draft)


async def start_prefilled(update: Update, context: BotContext, prefill: dict[str, Any]) -> None:
    """A report opened from a check-out or an alert, with place and time already known."""
    draft = {**prefill}
    await _save(context, draft)
    await ask(update, context, draft)


async def ask(update: Update, context: BotContext, draft: dict[str, Any]) -> None:
    """Ask the next unanswered step, or show the summary."""
    step = _next_step(draft)
    if step is None:
        await summary(update, context, draft)
        return
    loc = context.locale
    rows: list[list[InlineKeyboardButton]] = []
    if step == "where":
        rows = [
            [InlineKeyboardButton(h.label(loc), callback_data=f"rp:where:h{i}")]
            for i, h in enumerate(context.config.hotspots)
        ]
        rows += [
            [InlineKeyboardButton(tr(loc, label), callback_data=f"rp:where:{code}")]
            for code, label in inc.PLACE_KINDS.items()
        ]
    elif step == "account":
        draft["awaiting"] = "account"
        await _save(context, draft)
    else:
        rows = [
            [InlineKeyboardButton(tr(loc, label), callback_data=f"rp:{step}:{code}")]
            for code, label in CHOICES[step].items()
        ]
    if step != "category":
        rows.append([InlineKeyboardButton(tr(loc, "Skip"), callback_data=f"rp:skip:{step}")])
    rows.append([InlineKeyboardButton(tr(loc, "Cancel"), callback_data="rp:cancel")])
    await reply(update, tr(loc, QUESTIONS[step]), reply_markup=InlineKeyboardMarkup(rows))


def _describe(context: BotContext, draft: dict[str, Any], step: str) -> str:
    loc = context.locale
    if step == "where":
        return draft.get("place") or tr(loc, inc.PLACE_KINDS.get(draft.get("place_kind") or "", "–"))
    if step == "when":
        return draft.get("date") or tr(loc, inc.WHEN.get(draft.get("when") or "", "–"))
    if step == "account":
        text = draft.get("account")
        return tr(loc, "{n} characters", n=len(text)) if text else "–"
    value = draft.get(step)
    return tr(loc, CHOICES[step][value]) if value in CHOICES[step] else "–"


async def summary(update: Update, context: BotContext, draft: dict[str, Any]) -> None:
    """Everything in one message, with send and change."""
    loc = context.locale
    lines = [tr(loc, "Your report:")] + [f"• {tr(loc, LABELS[s])}: {_describe(context, draft, s)}" for s in STEPS]
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(tr(loc, "Send"), callback_data="rp:send")],
            [
                InlineKeyboardButton(tr(loc, "Change"), callback_data="rp:change"),
                InlineKeyboardButton(tr(loc, "Cancel"), callback_data="rp:cancel"),
            ],
        ]
    )
    await reply(update, "\n".join(lines), reply_markup=keyboard)


async def tapped(update: Update, context: BotContext) -> None:
    """Every button of the report: rp:<step>:<code>, rp:skip:<step>, rp:send, rp:change, rp:edit:<step>."""
    query = update.callback_query
    assert query is not None and context.person is not None
    parts = (query.data or "").split(":", 2)
    if len(parts) == 3 and parts[1] == "alert":
        await _from_alert(update, context, parts[2])
        return
    draft = await _load(context)
    if draft is None:
        await stale(update, context)
        return
    action = parts[1] if len(parts) > 1 else ""
    value = parts[2] if len(parts) > 2 else ""
    if action == "cancel":
        async with context.storage.db.tx() as tx:
            await context.storage.incidents.drop_draft(tx, context.person.id)
        await reply(update, tr(context.locale, "Cancelled. Nothing was saved."))
        return
    if action == "send":
        await send(update, context, draft)
        return
    if action == "change":
        rows = [[InlineKeyboardButton(tr(context.locale, LABELS[s]), callback_data=f"rp:edit:{s}")] for s in STEPS]
        await reply(update, tr(context.locale, "What do you want to change?"), reply_markup=InlineKeyboardMarkup(rows))
        return
    if action == "edit" and value in STEPS:
        _forget(draft, value)
        draft["returning"] = False
        draft["editing"] = True
        await _save(context, draft)
        await ask(update, context, draft)
        return
    if action == "skip" and value in STEPS and value != "category":
        _set(draft, value, None)
    elif action == "where" and not _apply_where(context, draft, value):
        await stale(update, context)
        return
    elif action in CHOICES and value in CHOICES[action]:
        if action == "when" and value == "date":
            draft["awaiting"] = "date"
            await _save(context, draft)
            await reply(update, tr(context.locale, DATE_EXAMPLE))
            return
        _set(draft, action, value)
    elif action == "acc" and value == "done" and draft.get("awaiting") == "account_more":
        draft.pop("awaiting", None)
    elif action != "where":
        await stale(update, context)
        return
    await _advance(update, context, draft)


async def _from_alert(update: Update, context: BotContext, alert_id: str) -> None:
    """ "Report what happened" after an alert was resolved: place and alert filled in."""
    assert context.person is not None
    async with context.storage.db.read() as tx:
        alert = await context.storage.alerts.get(tx, alert_id)
        checkin = await context.storage.checkins.get(tx, alert.checkin_id) if alert and alert.checkin_id else None
    if alert is None or alert.person_id != context.person.id:
        await stale(update, context)
        return
    prefill: dict[str, Any] = {"alert_id": alert.id, "when": "today"}
    if checkin is not None:
        prefill |= place_prefill(context, checkin.place, checkin.place_custom) | {"checkin_id": checkin.id}
    await start_prefilled(update, context, prefill)


def place_prefill(context: BotContext, place: str, custom: bool) -> dict[str, Any]:
    """The report's place from a check-in's place."""
    return {"place_kind": "other" if custom else "hotspot", "place": place}


def _forget(draft: dict[str, Any], step: str) -> None:
    keys = {"when": ("when", "date"), "where": ("place_kind", "place")}.get(step, (step,))
    for key in keys:
        draft.pop(key, None)


def _set(draft: dict[str, Any], step: str, value: Any) -> None:
    if step == "where":
        draft["place_kind"], draft["place"] = value, None
    elif step == "when":
        draft["when"] = value
    else:
        draft[step] = value
    if draft.get("awaiting") != "account_more":
        draft.pop("awaiting", None)


def _apply_where(context: BotContext, draft: dict[str, Any], value: str) -> bool:
    if value.startswith("h") and value[1:].isdecimal() and int(value[1:]) < len(context.config.hotspots):
        draft["place_kind"], draft["place"] = "hotspot", context.config.hotspots[int(value[1:])].name
        return True
    if value == "other":
        draft["awaiting"] = "place"
        draft["place_kind"] = "other"
        return True
    if value in inc.PLACE_KINDS:
        draft["place_kind"], draft["place"] = value, None
        return True
    return False


async def _advance(update: Update, context: BotContext, draft: dict[str, Any]) -> None:
    if draft.get("awaiting") == "place":
        await _save(context, draft)
        await reply(update, tr(context.locale, "Write the name of the place."))
        return
    if draft.pop("editing", False):
        draft["returning"] = True
    await _save(context, draft)
    await ask(update, context, draft)


async def typed(update: Update, context: BotContext) -> None:
    """Text while a report waits for a date, a place name or the account; otherwise the usual hint."""
    draft = await _load(context) if context.person is not None else None
    awaiting = draft.get("awaiting") if draft else None
    message = update.message
    if draft is None or awaiting is None or message is None or not message.text:
        await fallback(update, context)
        return
    text = message.text
    if awaiting == "date":
        day = inc.parse_date(text, context.clock.now().astimezone(context.config.tz).date())
        if day is None:
            await reply(update, tr(context.locale, DATE_EXAMPLE))
            return
        draft["when"], draft["date"] = "date", day.isoformat()
    elif awaiting == "place":
        draft["place"] = " ".join(text.split())[:120]
    elif awaiting in ("account", "account_more"):
        draft["account"] = (draft["account"] + "\n" + text) if awaiting == "account_more" else text
        if len(text) >= LONG_TEXT:
            draft["awaiting"] = "account_more"
            await _save(context, draft)
            more = InlineKeyboardMarkup(
                [[InlineKeyboardButton(tr(context.locale, "Continue"), callback_data="rp:acc:done")]]
            )
            await reply(
                update,
                tr(
                    context.locale,
                    "Saved: {n} characters. Send the rest if there is more, or tap Continue.",
                    n=len(draft["account"]),
                ),
                reply_markup=more,
            )
            return
    draft.pop("awaiting", None)
    await _advance(update, context, draft)


async def send(update: Update, context: BotContext, draft: dict[str, Any]) -> None:
    """File the report; the reporter gets a reference and, if asked for, matching support contacts."""
    assert context.person is not None
    if not draft.get("category"):
        await ask(update, context, draft)
        return
    incident = await inc.file_report(context.storage, context.person, draft, context.clock.now(), context.config.tz)
    request_flush(context)
    text = tr(context.locale, "Sent. Your reference: {ref}. Thank you.", ref=incident.ref)
    need = inc.SUPPORT_KIND.get(draft.get("support") or "")
    if need:
        entries = [e for e in context.config.support if e.kind == need]
        if entries:
            text += "\n\n" + directory_text(replace(context.config, support=tuple(entries)), context.locale)
    await reply(update, text)
