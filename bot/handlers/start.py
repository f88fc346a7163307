"""/start CODE (enrolment with consent notice and language choice), /language, /help."""

from __future__ import annotations

from telegram import Update

from bot.context import BotContext
from bot.handlers.gate import NEUTRAL
from bot.i18n import LANGUAGES, N_, guess_locale, tr
from bot.keyboards import language_keyboard
from bot.services.enrolment import Redeem, redeem, stranger_may_get_reply

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
HELP = {
    "worker": N_(
        "/checkin – start work at a place\n/checkout – finish\n/extend – more time\n/status – my check-in\n"
        "/alert – quick message to your supervisor\n/support – contacts\n/pin – check-out PINs\n"
        "/language – change language\n/help – this list"
    ),
    "supervisor": N_("/team – who is out now\n/support – contacts\n/language – change language\n/help – this list"),
    "manager": N_("/team – who is out now\n/support – contacts\n/language – change language\n/help – this list"),
    "admin": N_("/team – who is out now\n/support – contacts\n/language – change language\n/help – this list"),
}


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
        return
    if result.outcome is Redeem.ALREADY_ENROLLED:
        await chat.send_message(tr(locale, "You are already enrolled. Send /help to see what you can do."))
        return
    await chat.send_message(tr(locale, REFUSED[result.outcome]))


async def choose_language(update: Update, context: BotContext) -> None:
    """/language: offer every language, each named in itself."""
    assert update.effective_chat is not None
    await update.effective_chat.send_message(
        tr(context.locale, "Choose your language:"), reply_markup=language_keyboard()
    )


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
        tr(code, "Language saved: {language}.", language=LANGUAGES[code]) + "\n\n" + tr(code, HELP[context.person.role])
    )
    if context.config.checkout_pin and context.person.role == "worker":
        text += "\n\n" + tr(code, "Your organisation uses check-out PINs: set yours now with /pin.")
    await query.edit_message_text(text)


async def help_command(update: Update, context: BotContext) -> None:
    """/help: what this person can do, for their role."""
    assert update.effective_chat is not None and context.person is not None
    await update.effective_chat.send_message(tr(context.locale, HELP[context.person.role]))


async def fallback(update: Update, context: BotContext) -> None:
    """Anything no other handler took: a neutral hint, nothing stored."""
    if update.callback_query is not None:
        await update.callback_query.answer(tr(context.locale, "This button is no longer current."))
        return
    if update.effective_chat is not None and update.message is not None:
        await update.effective_chat.send_message(
            tr(context.locale, "I did not understand. Send /help to see what you can do.")
        )
