"""/shred: an admin who hears of a raid destroys the key from the chat.

/shred asks for the shred phrase (set with `outreach-bot shred-phrase set`), then for a confirmation;
"Destroy now" destroys the key the bot was started from and the bot answers nobody after that. The
command is hidden: for anyone but an admin, or while no phrase is set, it is an unknown command.
A wrong phrase gets one line and changes nothing; five wrong ones in an hour wait an hour.

The phrase leaves the chat as soon as it is typed (a secret step). "Destroy now" is taken by a rule
(`destroy_now`), not a step: it must reach the chat's messages and remove them at once, since no
clean-up will ever run after the key is gone, and it must leave nothing to store.
"""

from __future__ import annotations

from datetime import timedelta

from bot.flows.model import (
    CANCELLED,
    CHOICE,
    TEXT,
    Aside,
    Conversation,
    Ctx,
    Done,
    Flow,
    Input,
    Next,
    Output,
    Result,
    Screen,
    rows,
)
from bot.i18n import N_
from bot.keys import COMMAND, ENV
from bot.services import shred
from bot.services.shred import Destroyed

NAME = "shred"
PHRASE, CONFIRM = "phrase", "confirm"
NOW, KEEP = "shred:now", "shred:keep"
WRONG = N_("Not accepted. Nothing was changed.")
TOO_MANY = N_("Too many tries. Try again in an hour.")
ALL_GONE = N_("The key is destroyed: nothing in the database can be read any more. The bot answers nobody from now on.")
FORGOTTEN = N_("The bot has forgotten the key and answers nobody from now on.")
FILES_GONE = N_("Destroyed: {files}.")
NOT_COMMAND = N_(
    "NOT destroyed: the key in the key command's store (OUTREACH_KEY_COMMAND). "
    "It still opens the data: remove it there."
)
NOT_ENV = N_("NOT destroyed: the key in the environment (OUTREACH_KEY). It still opens the data: remove it there.")
NOT_FILES = N_("NOT destroyed: {files} could not be overwritten. Remove it on the server.")
NOT_KNOWN = N_("NOT destroyed: the key file this bot was started from is not known to it. Destroy it on the server.")


def _admin(c: Ctx) -> bool:
    return c.person is not None and c.person.role == "admin"


async def admits(c: Ctx) -> bool:
    """Only an admin of a bot that can shred, and only once a phrase is set."""
    return c.shredder is not None and _admin(c) and await shred.phrase_is_set(c.storage)


async def start(c: Ctx, inp: Input) -> Result:
    """Ask for the phrase (unless this admin's tries are used up)."""
    assert c.person is not None
    if await shred.blocked(c.storage, c.person, c.now()):
        return Done(c.t(TOO_MANY))
    return Next(PHRASE, Screen(c.t("Type the shred phrase."), takes=TEXT, secret=True))


async def phrase_typed(c: Ctx, inp: Input) -> Result:
    """The phrase: a wrong one ends here (and counts), the right one asks for the confirmation."""
    assert c.person is not None
    if await shred.blocked(c.storage, c.person, c.now()):
        return Done(c.t(TOO_MANY))
    if not await shred.phrase_matches(c.storage, inp.value):
        await shred.count_wrong(c.storage, c.person, c.now())
        return Done(c.t(WRONG))
    question = c.t("Destroy the key now? Nothing in the database can be read again, by anyone.")
    choices = rows([(c.t("Destroy now"), NOW)], [(c.t("Cancel"), KEEP)])
    return Next(CONFIRM, Screen(question, choices))


async def confirm(c: Ctx, inp: Input) -> Result:
    """ "Cancel" (and anything "Destroy now" did not take): nothing happens."""
    return Done(c.t(CANCELLED))


async def destroy_now(c: Ctx, inp: Input, out: Output, conv: Conversation) -> Result | None:
    """ "Destroy now" on the current confirmation: the conversation's messages go at once, the key is
    destroyed, and the admin gets one line saying what was and was not destroyed."""
    if inp.kind != CHOICE or inp.value != NOW or conv.flow != NAME or conv.step != CONFIRM:
        return None
    if inp.on_screen not in (None, conv.screen) or c.shredder is None or c.person is None or not _admin(c):
        return None
    await out.toast()
    for message_id in [*conv.shown, *conv.got]:  # /shred, the question, the confirmation
        await out.forget(message_id)
    conv.shown, conv.got, conv.screen, conv.codes = [], [], None, []
    line = last_line(c, await c.shredder.destroy(c.storage, c.person.id))  # in the admin's language
    c.person = None  # nothing is stored after this: the key that would seal it is gone
    return Aside(line)


def last_line(c: Ctx, done: Destroyed) -> str:
    """What was destroyed, and what was NOT (never "destroyed" for a key that still opens the data)."""
    if not done.left:
        return c.t(ALL_GONE)
    lines = [c.t(FORGOTTEN)]
    if done.files:
        lines.append(c.t(FILES_GONE, files=", ".join(str(p) for p in done.files)))
    if done.failed:
        lines.append(c.t(NOT_FILES, files=", ".join(str(p) for p in done.failed)))
    if done.kind == COMMAND:
        lines.append(c.t(NOT_COMMAND))
    elif done.kind == ENV:
        lines.append(c.t(NOT_ENV))
    elif not done.files and not done.failed:
        lines.append(c.t(NOT_KNOWN))
    return " ".join(lines)


FLOW = Flow(
    name=NAME,
    start=start,
    steps={PHRASE: phrase_typed, CONFIRM: confirm},
    commands=("shred",),
    timeout=timedelta(minutes=5),
    admits=admits,
)
