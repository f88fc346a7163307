"""Translations: gettext catalogs (Babel .po files) read at start, looked up per recipient.

Texts are marked with `tr(locale, "English source {placeholder}")`, or with `N_()` where a
text is defined before its reader is known; `make i18n` extracts them with pybabel.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).parent / "locales"
LANGUAGES: dict[str, str] = {
    "es": "Español",
    "en": "English",
    "fr": "Français",
    "pt": "Português",
    "ar": "العربية",
}
SOURCE_LANGUAGE = "en"
RTL = {"ar"}


def N_(text: str) -> str:
    """Mark a text for extraction without translating it yet."""
    return text


@cache
def catalog(locale: str) -> dict[str, str]:
    """msgid -> msgstr for one language; fuzzy and empty entries are left out (the source shows)."""
    path = LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po"
    if locale == SOURCE_LANGUAGE or not path.exists():
        return {}
    with path.open("rb") as fh:
        cat = read_po(fh, locale=locale)
    return {str(m.id): str(m.string) for m in cat if m.id and isinstance(m.id, str) and m.string and not m.fuzzy}


def tr(locale: str, text: str, **values: object) -> str:
    """The text in the reader's language, with {placeholders} filled in."""
    translated = catalog(locale if locale in LANGUAGES else SOURCE_LANGUAGE).get(text, text)
    if values:
        translated = translated.format(**values)
    return translated


def guess_locale(telegram_language_code: str | None, default: str) -> str:
    """First guess from Telegram's language_code ("pt-BR" -> "pt"), else the organisation's."""
    if telegram_language_code:
        short = telegram_language_code.split("-")[0].lower()
        if short in LANGUAGES:
            return short
    return default
