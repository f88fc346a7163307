"""Inline keyboards. Buttons carry short codes in callback data; labels are only for people."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import LANGUAGES


def language_keyboard() -> InlineKeyboardMarkup:
    """Each language named in itself, so anyone can find theirs."""
    buttons = [InlineKeyboardButton(name, callback_data=f"lang:{code}") for code, name in LANGUAGES.items()]
    return InlineKeyboardMarkup([buttons[:3], buttons[3:]])
