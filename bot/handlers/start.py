"""/start CODE (enrolment with consent notice and language choice), /language, /help."""

from __future__ import annotations

from dataclasses import replace

from telegram import Update

from bot.handlers.gate import NEUTRAL
from bot.i18n import LANGUAGES, N_, guess_locale, tr
from bot.keyboards import language_keyboard
from bot.services.enrolment import Redeem, redeem, stranger_may_get_reply
from bot.telegram.context import BotContext
from bot.telegram.replies import answer_and_clean, clean_up_later

CONSENT = N_(
    "Welcome. You are enrolled as {code}.\n\n"
    "What this bot keeps: your role, your team, your check-ins, alerts and reports. "
    "Names, places and your Telegram account are stored locked with a key. "
    "Others see you only as {code}.\n\n"
    "Telegram chats with bots are not end-to-end encrypted. Write only what is needed. "
    'To clear this chat: open the menu of this chat and choose "Clear history".\n\n'
    "Choose your language:"
)
REFUSED = {
    Redeem.UNKNOWN: N_("This code is not valid. Check it, or ask your supervisor for a new one."),
    Redeem.USED: N_("This code was already used. Ask your supervisor for a new one."),
    Redeem.EXPIRED: N_("This code has expired. Ask your supervisor for a new one."),
}
_ALWAYS = [("support", N_("contacts")), ("language", N_("change language")), ("help", N_("this list"))]
_REPORTS = [
    ("report", N_("write a note")),
    ("timeline", N_("history, newest first")),
    ("incident", N_("one entry in full, like /incident R-7KQ2X")),
    ("summary", N_("this week's summary")),
]
HELP = {  # what each role can do, in the order they need it
    "worker": [
        ("checkin", N_("start work at a place")),
        ("checkout", N_("finish")),
        ("extend", N_("more time")),
        ("status", N_("my check-in")),
        ("report", N_("write a note")),
        ("timeline", N_("my notes")),
        ("alert", N_("quick message")),
        ("pin", N_("check-out codes")),
        *_ALWAYS,
    ],
    "supervisor": [("team", N_("who is out now")), *_REPORTS, *_ALWAYS],
    "manager": [("team", N_("who is out now")), *_REPORTS, ("export", N_("a CSV file of a period")), *_ALWAYS],
}
HELP["admin"] = HELP["manager"]


def help_text(role: str, locale: str, pins: bool) -> str:
    """/help's list for this role; /pin only where the organisation uses PINs."""
    return "\n".join(f"/{command} – {tr(locale, what)}" for command, what in HELP[role] if pins or command != "pin")


async def start(update: Update, context: BotContext) -> None:
    """/start CODE enrols a newcomer; /start from an enrolled person says hello."""
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    if context.person is not None:
        await chat.send_message(
            tr(
                context.locale,
                "You are enrolled as {code}. Send /help to see what you can do.",
                code=context.person.code,
            )
        )
        return
    locale = guess_locale(user.language_code, context.config.language)
    code = context.args[0] if context.args else ""
    if not code:
        if await stranger_may_get_reply(context.storage, context.clock, user.id):
            await chat.send_message(tr(locale, NEUTRAL))
        return
    result = await redeem(
        context.storage, context.clock, code, telegram_user_id=user.id, chat_id=chat.id, locale=locale
    )
    if result.outcome is Redeem.BLOCKED:
        return  # too many wrong codes: no answer at all for a while
    if result.outcome is Redeem.ENROLLED and result.person is not None:
        await chat.send_message(tr(locale, CONSENT, code=result.person.code), reply_markup=language_keyboard())
        context.person = result.person  # the code typed leaves the chat; the notice is kept as one line
        if update.message is not None:
            await clean_up_later(context, [update.message.message_id])
        return
    if result.outcome is Redeem.ALREADY_ENROLLED:
        await chat.send_message(tr(locale, "You are already enrolled. Send /help to see what you can do."))
        return
    await chat.send_message(tr(locale, REFUSED[result.outcome]))


async def choose_language(update: Update, context: BotContext) -> None:
    """/language: offer every language, each named in itself."""
    assert update.effective_chat is not None
    await answer_and_clean(update, context, tr(context.locale, "Choose your language:"), language_keyboard())


async def set_language(update: Update, context: BotContext) -> None:
    """A tap on a language button: store it on the person and confirm in that language."""
    query = update.callback_query
    assert query is not None and context.person is not None
    code = (query.data or "").removeprefix("lang:")
    if code not in LANGUAGES:
        await query.answer(tr(context.locale, "This button is no longer current."))
        return
    async with context.storage.db.tx() as tx:
        await context.storage.people.set_locale(tx, context.person.id, code)
    await query.answer()
    text = (
        tr(code, "Language saved: {language}.", language=LANGUAGES[code])
        + "\n\n"
        + help_text(context.person.role, code, context.config.checkout_pin)
    )
    if context.config.checkout_pin and context.person.role == "worker":
        text += "\n\n" + tr(code, "Your organisation uses check-out PINs: set yours now with /pin.")
    await query.edit_message_text(text)
    if query.message is not None:
        kept = tr(code, "Language saved: {language}. Send /help to see what you can do.", language=LANGUAGES[code])
        context.person = replace(context.person, locale=code)
        await clean_up_later(context, [], keep=query.message.message_id, kept=kept)


async def help_command(update: Update, context: BotContext) -> None:
    """/help: what this person can do, for their role."""
    assert update.effective_chat is not None and context.person is not None
    text = help_text(context.person.role, context.locale, context.config.checkout_pin)
    await answer_and_clean(update, context, text)


async def fallback(update: Update, context: BotContext) -> None:
    """Anything no other handler took: a neutral hint, nothing stored."""
    if update.callback_query is not None:
        await update.callback_query.answer(tr(context.locale, "This button is no longer current."))
        return
    if update.effective_chat is not None and update.message is not None:
        await answer_and_clean(
            update, context, tr(context.locale, "I did not understand. Send /help to see what you can do.")
        )
