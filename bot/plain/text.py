"""Screens as plain text, and plain replies as the engine's inputs: for messengers without buttons.

A screen's choices become a numbered list ("1. Alone") and a last line saying how to answer
("Reply 1, 2 or 3."); a reply that is one of those numbers takes that choice. A command starts
with a slash, as on Telegram. A shared location arrives as text on such messengers (a `geo:` URI,
or a maps link with the coordinates in it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from babel.lists import format_list

from bot.flows.model import COMMAND, LOCATION, TEXT, Input, Rows, Screen
from bot.i18n import N_, tr

REPLY_FEW = N_("Reply {numbers}.")
REPLY_MANY = N_("Reply with a number from 1 to {last}.")
OR_TYPE = N_("Or write your answer.")
OR_LOCATION = N_("Or send your location.")
FEW = 4  # up to this many choices are named one by one ("1, 2, 3 or 4")
# geo:14.6349,-90.5069 (RFC 5870), or a maps link: ...?q=14.6349,-90.5069 / ...@14.6349,-90.5069,15z
_COORDINATES = re.compile(r"(?:geo:|[?&]q=|@)(-?\d{1,2}(?:\.\d+)?)\s*(?:,|%2C)\s*(-?\d{1,3}(?:\.\d+)?)", re.I)


@dataclass(frozen=True)
class Menu:
    """The numbered choices of one message: number N is codes[N - 1]."""

    message_id: int | None
    codes: tuple[str, ...]
    secret: bool = False  # a PIN question: digits are the PIN, never a choice


def numbered(text: str, choices: Rows, locale: str | None, *, takes: str | None = None) -> tuple[str, tuple[str, ...]]:
    """`text` with its choices as a numbered list and how to answer (in `locale`; None: the list alone,
    for a message whose reader's language the sender does not know); the codes, in number order."""
    flat = [choice for row in choices for choice in row]
    if not flat:
        return text, ()
    lines = [text, ""] + [f"{number}. {choice.label}" for number, choice in enumerate(flat, 1)]
    if locale is None:
        return "\n".join(lines), tuple(choice.code for choice in flat)
    if len(flat) <= FEW:
        numbers = format_list([str(n) for n in range(1, len(flat) + 1)], style="or", locale=locale)
        lines.append(tr(locale, REPLY_FEW, numbers=numbers))
    else:
        lines.append(tr(locale, REPLY_MANY, last=len(flat)))
    if takes == TEXT:
        lines.append(tr(locale, OR_TYPE))
    elif takes == LOCATION:
        lines.append(tr(locale, OR_LOCATION))
    return "\n".join(lines), tuple(choice.code for choice in flat)


def screen_text(screen: Screen, locale: str) -> tuple[str, tuple[str, ...]]:
    """A screen as one plain message, and the codes its numbers stand for."""
    if not screen.rows and screen.takes == LOCATION:
        return f"{screen.text}\n{tr(locale, OR_LOCATION)}", ()
    return numbered(screen.text, screen.rows, locale, takes=screen.takes)


def to_input(text: str, *, message_id: int | None = None, update_id: int | None = None) -> Input:
    """A plain reply as the engine's input: a command, a location, or typed text (numbers included:
    which choice a number takes is decided against the menu it answers)."""
    stripped = text.strip()
    if stripped.startswith("/") and len(stripped) > 1 and not stripped[1].isspace():
        command, *args = stripped[1:].split()
        return Input(COMMAND, command.lower(), tuple(args), message_id=message_id, update_id=update_id)
    found = _COORDINATES.search(stripped)
    if found is not None:
        latitude, longitude = float(found.group(1)), float(found.group(2))
        if -90 <= latitude <= 90 and -180 <= longitude <= 180:
            return Input(LOCATION, latitude=latitude, longitude=longitude, message_id=message_id, update_id=update_id)
    return Input(TEXT, text, message_id=message_id, update_id=update_id)


def choice_number(text: str, menu: Menu | None) -> int | None:
    """The number of the choice a reply takes on `menu`, if it is one of its numbers."""
    stripped = text.strip().rstrip(".")
    if menu is None or menu.secret or not stripped.isascii() or not stripped.isdecimal():
        return None
    number = int(stripped)
    return number if 1 <= number <= len(menu.codes) else None
