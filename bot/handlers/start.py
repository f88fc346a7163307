"""/start CODE (enrolment with consent notice and language choice), /language, /help."""

from __future__ import annotations

from dataclasses import replace

from bot.flows.model import CHOICE, OUT_OF_ORDER, STALE, Ctx, Done, Flow, Input, Next, Result, Rows, Screen, rows
from bot.i18n import LANGUAGES, N_, tr
from bot.services.enrolment import Redeem, redeem, stranger_may_get_reply

NEUTRAL = N_("This chat is by invitation only.")  # for anyone not enrolled (the Telegram gate's too)
CHOOSE = "choose"
CONSENT = N_(
    "Welcome. You are enrolled as {code}.\n\n"
    "What this bot keeps: your role, your team, your check-ins, alerts and reports. "
    "Names, places and your chat account are stored locked with a key. "
    "Others see you only as {code}.\n\n"
    "The bot's server reads what you write here (chats with bots are not end-to-end encrypted). "
    "Write only what is needed. "
    'To clear this chat: open the menu of this chat and choose "Clear history" (or "Delete").\n\n'
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
    "supervisor": [
        ("team", N_("who is out now")),
        ("alerts", N_("open alerts")),
        *_REPORTS,
        ("plan", N_("plans for places and activities")),
        ("drill", N_("practise the alert chain")),
        ("risk", N_("places: register and map")),
        *_ALWAYS,
    ],
    "manager": [
        ("team", N_("who is out now")),
        ("alerts", N_("open alerts")),
        *_REPORTS,
        ("export", N_("a CSV file of a period")),
        ("plan", N_("plans for places and activities")),
        ("risk", N_("places: register and map")),
        *_ALWAYS,
    ],
}
HELP["admin"] = [*HELP["manager"][: -len(_ALWAYS)], ("drill", N_("practise the alert chain")), *_ALWAYS]


def help_text(role: str, locale: str, pins: bool) -> str:
    """/help's list for this role; /pin only where the organisation uses PINs."""
    return "\n".join(f"/{command} – {tr(locale, what)}" for command, what in HELP[role] if pins or command != "pin")


def language_choices() -> Rows:
    """Each language named in itself, so anyone can find theirs."""
    choices = [(name, f"lang:{code}") for code, name in LANGUAGES.items()]
    return rows(choices[:3], choices[3:])


async def start(c: Ctx, inp: Input) -> Result:
    """/start CODE enrols a newcomer; /start from an enrolled person says hello."""
    if c.person is not None:
        return Done(c.t("You are enrolled as {code}. Send /help to see what you can do.", code=c.person.code))
    stranger = c.stranger
    assert stranger is not None, "the adapter says who is writing"
    locale = stranger.language
    code = inp.args[0] if inp.args else ""
    if not code:
        if await stranger_may_get_reply(c.storage, c.clock, stranger.user_id):
            return Done(tr(locale, NEUTRAL))
        return Done()
    result = await redeem(
        c.storage, c.clock, code, telegram_user_id=stranger.user_id, chat_id=stranger.chat_id, locale=locale
    )
    if result.outcome is Redeem.BLOCKED:
        return Done()  # too many wrong codes: no answer at all for a while
    if result.outcome is Redeem.ENROLLED and result.person is not None:
        # From now on the conversation is stored: the code typed leaves the chat at clean-up, and the
        # notice stays as one neutral line once a language is chosen.
        c.person = result.person
        return Next(CHOOSE, Screen(tr(locale, CONSENT, code=result.person.code), language_choices()))
    if result.outcome is Redeem.ALREADY_ENROLLED:
        return Done(tr(locale, "You are already enrolled. Send /help to see what you can do."))
    return Done(tr(locale, REFUSED[result.outcome]))


async def language(c: Ctx, inp: Input) -> Result:
    """/language: offer every language, each named in itself; a language button on an older message
    is taken as well."""
    if inp.kind == CHOICE:
        return await set_language(c, inp)
    return Next(CHOOSE, Screen(c.t("Choose your language:"), language_choices()))


async def set_language(c: Ctx, inp: Input) -> Result:
    """A tap on a language button: store it on the person and confirm in that language."""
    assert c.person is not None
    code = inp.value.removeprefix("lang:")
    if code not in LANGUAGES:
        return Done(c.t(STALE))
    async with c.storage.db.tx() as tx:
        await c.storage.people.set_locale(tx, c.person.id, code)
    c.person = replace(c.person, locale=code)
    text = (
        tr(code, "Language saved: {language}.", language=LANGUAGES[code])
        + "\n\n"
        + help_text(c.person.role, code, c.config.checkout_pin)
    )
    if c.config.checkout_pin and c.person.role == "worker":
        text += "\n\n" + tr(code, "Your organisation uses check-out PINs: set yours now with /pin.")
    kept = tr(code, "Language saved: {language}. Send /help to see what you can do.", language=LANGUAGES[code])
    return Done(text, kept=kept)


async def help_command(c: Ctx, inp: Input) -> Result:
    """/help: what this person can do, for their role."""
    assert c.person is not None
    return Done(help_text(c.person.role, c.locale, c.config.checkout_pin))


async def not_understood(c: Ctx, inp: Input) -> Result:
    """Typed text outside a conversation, or a command no flow has: a neutral hint, nothing stored
    (the command and the hint go with the clean-up; a conversation half-way waits)."""
    return Done(c.t(OUT_OF_ORDER))


START = Flow(name="start", start=start, steps={CHOOSE: set_language}, commands=("start",), strangers=True)
LANGUAGE = Flow(name="language", start=language, steps={CHOOSE: set_language}, commands=("language",), codes=("lang:",))
HELP_FLOW = Flow(name="help", start=help_command, commands=("help",))
FALLBACK = Flow(name="fallback", start=not_understood)
