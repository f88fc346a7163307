"""Translations: gettext catalogs (Babel .po files) read at start, looked up per recipient.

Texts are marked with `tr(locale, "English source {placeholder}")`, or with `N_()` where a
text is defined before its reader is known; `make i18n` extracts them with pybabel into
bot/locales/messages.pot and merges them into bot/locales/<lang>/LC_MESSAGES/messages.po.
tests/test_i18n.py fails while any text is missing, empty or fuzzy in a catalog.

Right-to-left languages (Arabic): every value put into a {placeholder} is wrapped in Unicode
directional isolates (FSI ... PDI), so that Latin-script codes ("W-7KQ2"), place names,
numbers and times keep their own direction inside the Arabic sentence and do not reorder it.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterator
from functools import cache
from pathlib import Path
from typing import IO, Any

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
FSI = "\u2068"  # FIRST STRONG ISOLATE: the value takes the direction of its own first strong letter
PDI = "\u2069"  # POP DIRECTIONAL ISOLATE: end of the isolated value


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


class _Isolated:
    """A placeholder value that formats itself between FSI and PDI (format specs like :.1f still apply)."""

    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = value

    def __format__(self, spec: str) -> str:
        return FSI + format(self.value, spec) + PDI

    def __str__(self) -> str:  # {x!s}
        return FSI + str(self.value) + PDI

    def __repr__(self) -> str:  # {x!r}
        return FSI + repr(self.value) + PDI

    def __getattr__(self, name: str) -> _Isolated:  # {x.attr}
        return _Isolated(getattr(self.value, name))

    def __getitem__(self, key: object) -> _Isolated:  # {x[key]}
        return _Isolated(self.value[key])  # type: ignore[index]


def tr(locale: str, text: str, **values: object) -> str:
    """The text in the reader's language, with {placeholders} filled in.

    A translation whose placeholders do not match the source falls back to the English source
    rather than failing: a message (an alert above all) must always go out.
    """
    if locale not in LANGUAGES:
        locale = SOURCE_LANGUAGE
    translated = catalog(locale).get(text, text)
    if not values:
        return translated
    if locale in RTL:
        values = {key: _Isolated(value) for key, value in values.items()}
    try:
        return translated.format(**values)
    except (KeyError, IndexError, ValueError, AttributeError, TypeError):
        if translated is text:
            raise
        return text.format(**values)


# Methods that translate their first argument, read by the extractor as that keyword: c.t("text").
METHOD_KEYWORDS = {"t": "N_"}


def extract_python(
    fileobj: IO[bytes], keywords: Collection[str], comment_tags: Collection[str], options: dict[str, Any]
) -> Iterator[tuple[int, str, tuple[str | None, ...], list[str]]]:
    """Babel extraction method used by `make i18n` (see bot/locales/babel.cfg).

    Like Babel's own Python extractor, but it reads the syntax tree, so it finds the same texts on
    every Python version: tr() calls inside f-strings too (Python 3.11's tokenizer hides them), and
    tr(locale, NAME) where NAME is a string constant assigned at the top of the same module, and
    method calls like c.t("text") or c.t(NAME) (see METHOD_KEYWORDS).
    """
    source = fileobj.read().decode(options.get("encoding") or "utf-8")
    tree = ast.parse(source)
    constants: dict[str, str] = {}
    for node in tree.body:
        target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else None
        if isinstance(node, ast.AnnAssign):
            target = node.target
        value = getattr(node, "value", None)
        if isinstance(target, ast.Name) and isinstance(value, ast.Constant) and isinstance(value.value, str):
            constants[target.id] = value.value
    lines = source.splitlines()
    calls = sorted(
        (
            node
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute))
        ),
        key=lambda node: (node.lineno, node.col_offset),
    )
    for call in calls:
        if isinstance(call.func, ast.Attribute):
            # c.t("text", **values) (bot.flows.model.Ctx.t): its first argument is the text, like N_().
            if call.func.attr not in METHOD_KEYWORDS or METHOD_KEYWORDS[call.func.attr] not in keywords:
                continue
            name = METHOD_KEYWORDS[call.func.attr]
        elif isinstance(call.func, ast.Name) and call.func.id in keywords:
            name = call.func.id
        else:
            continue
        messages: list[str | None] = []
        for arg in call.args:
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                messages.append(arg.value)
            elif isinstance(arg, ast.Name) and arg.id in constants:
                messages.append(constants[arg.id])
            else:
                messages.append(None)
        if any(m is not None for m in messages):
            yield call.lineno, name, tuple(messages), _comments_above(lines, call.lineno, comment_tags)


def _comments_above(lines: list[str], lineno: int, comment_tags: Collection[str]) -> list[str]:
    """Translator comments ("# TRANSLATORS: ...") on the lines right above a call, or on its line."""
    block: list[str] = []
    same_line = lines[lineno - 1].split("#", 1)[1].strip() if "#" in lines[lineno - 1] else ""
    index = lineno - 2
    while index >= 0 and lines[index].lstrip().startswith("#"):
        block.insert(0, lines[index].lstrip()[1:].strip())
        index -= 1
    if same_line:
        block.append(same_line)
    for start, text in enumerate(block):
        if any(text.startswith(tag) for tag in comment_tags):
            return block[start:]
    return []


def guess_locale(telegram_language_code: str | None, default: str) -> str:
    """First guess from Telegram's language_code ("pt-BR" -> "pt"), else the organisation's."""
    if telegram_language_code:
        short = telegram_language_code.split("-")[0].lower()
        if short in LANGUAGES:
            return short
    return default
