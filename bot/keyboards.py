"""Inline keyboards. Buttons carry short codes in callback data; labels are only for people."""

from __future__ import annotations

from collections.abc import Iterable

from bot.telegram.lean_bot import Keyboard


def inline(rows: Iterable[Iterable[tuple[str, str]]]) -> Keyboard:
    """An inline keyboard from rows of (label, code), built straight as the Bot API's JSON.

    For the keyboards of every check-in and check-out: PTB's button objects cost more to build
    (and then to serialise) than everything else in those steps."""
    return {"inline_keyboard": [[{"text": label, "callback_data": code} for label, code in row] for row in rows]}
