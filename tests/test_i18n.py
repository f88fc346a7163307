"""Translation catalogs: complete, up to date with the code, placeholders and commands intact,
discreet texts kept ordinary, Arabic placeholders isolated.

When this fails after you added or changed an English text: run `make i18n`, then translate the
empty msgstr "" entries in bot/locales/<lang>/LC_MESSAGES/messages.po for every language.
"""

from __future__ import annotations

import re
import string
import unicodedata
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from bot.handlers.alerts import DEFAULT_LABELS, DEFAULT_REPLY
from bot.i18n import FSI, LANGUAGES, LOCALES_DIR, PDI, RTL, SOURCE_LANGUAGE, catalog, tr

ROOT = Path(__file__).resolve().parent.parent
POT = LOCALES_DIR / "messages.pot"
BABEL_CFG = LOCALES_DIR / "babel.cfg"
TARGETS = sorted(lang for lang in LANGUAGES if lang != SOURCE_LANGUAGE)
HOW_TO_FIX = "run `make i18n` and translate the empty msgstr entries in bot/locales/*/LC_MESSAGES/messages.po"

# What a worker sees after a code word or a duress PIN: it must look ordinary on a seized phone.
CHECKED_OUT = "Checked out. Thank you, take care."
DISCREET = [DEFAULT_REPLY, *DEFAULT_LABELS.values(), CHECKED_OUT]
# Word starts (matched case- and accent-insensitively at the start of a word) that must not appear.
ALARM_WORDS = {
    "en": ["alert", "alarm", "danger", "emergenc", "help", "urgent", "sos", "police", "risk", "panic", "rescue"],
    "es": ["alert", "alarm", "peligr", "emergenc", "ayud", "auxili", "socorr", "urgen", "polic", "riesg", "panic"],
    "fr": ["alert", "alarm", "danger", "urgen", "aide", "secour", "police", "risqu", "paniqu", "sauv"],
    "pt": ["alert", "alarm", "perig", "emergenc", "ajud", "socorr", "urgen", "polic", "risc", "panic", "salv"],
}
# Arabic: stems looked for anywhere in the text (prefixes like ال / و / ب attach to words).
ALARM_STEMS_AR = ["تنبيه", "إنذار", "انذار", "خطر", "طوارئ", "طارئ", "مساعد", "ساعد", "نجد", "عاجل", "شرطة", "استغاث"]
ALARM_STEMS_AR += ["إسعاف", "اسعاف", "أنقذ", "انقذ", "نجاة", "تحذير", "ذعر"]

COMMAND = re.compile(r"(?<![\w/])/[a-z][a-z_]*\b")


def _read(path: Path) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh)


def _messages(cat: Catalog) -> dict[str, Message]:
    return {m.id: m for m in cat if m.id and isinstance(m.id, str)}


def _some(texts: list[str], limit: int = 8) -> str:
    shown = "; ".join(repr(t) for t in texts[:limit])
    return f"{len(texts)}: {shown}" + (f"; and {len(texts) - limit} more" if len(texts) > limit else "")


def _fields(text: str) -> set[str]:
    """The {placeholder} fields of a format string, with conversion and spec ("avg:.1f")."""
    fields = set()
    for _, name, spec, conversion in string.Formatter().parse(text):
        if name is not None:
            fields.add(name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else ""))
    return fields


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))


@pytest.fixture(scope="module")
def pot() -> dict[str, Message]:
    assert POT.exists(), f"no {POT.relative_to(ROOT)}: {HOW_TO_FIX}"
    return _messages(_read(POT))


@pytest.fixture(scope="module")
def translations(pot: dict[str, Message]) -> dict[str, dict[str, str]]:
    """lang -> msgid -> msgstr, for the msgids of the .pot (after checking they are all there)."""
    result: dict[str, dict[str, str]] = {}
    for lang in TARGETS:
        path = LOCALES_DIR / lang / "LC_MESSAGES" / "messages.po"
        assert path.exists(), f"no catalog for {lang}: {HOW_TO_FIX}"
        messages = _messages(_read(path))
        result[lang] = {msgid: str(messages[msgid].string) for msgid in pot if msgid in messages}
    return result


def test_pot_is_up_to_date_with_the_code(tmp_path: Path, pot: dict[str, Message]) -> None:
    fresh = tmp_path / "messages.pot"
    # the same extraction as `make i18n` (Makefile), run in this process
    keywords = ["-k", "tr:2", "-k", "N_"]
    CommandLineInterface().run(
        [
            "pybabel",
            "-q",
            "extract",
            "-F",
            str(BABEL_CFG),
            "--no-location",
            *keywords,
            "-o",
            str(fresh),
            str(ROOT / "bot"),
        ]
    )
    code = set(_messages(_read(fresh)))
    new, gone = sorted(code - set(pot)), sorted(set(pot) - code)
    assert not new and not gone, (
        f"messages.pot is out of date ({HOW_TO_FIX}).\n"
        f"new in the code: {_some(new)}\nno longer in the code: {_some(gone)}"
    )


@pytest.mark.parametrize("lang", TARGETS)
def test_catalog_is_complete(lang: str, pot: dict[str, Message]) -> None:
    path = LOCALES_DIR / lang / "LC_MESSAGES" / "messages.po"
    assert path.exists(), f"no catalog for {lang}: {HOW_TO_FIX}"
    messages = _messages(_read(path))
    missing = [msgid for msgid in pot if msgid not in messages]
    empty = [msgid for msgid in pot if msgid in messages and not messages[msgid].string]
    fuzzy = [msgid for msgid in pot if msgid in messages and messages[msgid].fuzzy]
    stale = [msgid for msgid in messages if msgid not in pot]
    assert not missing, f"{lang}: texts missing ({HOW_TO_FIX}): {_some(missing)}"
    assert not empty, f"{lang}: texts not translated ({HOW_TO_FIX}): {_some(empty)}"
    assert not fuzzy, f"{lang}: fuzzy texts (check them, remove '#, fuzzy'): {_some(fuzzy)}"
    assert not stale, f"{lang}: texts no longer in messages.pot ({HOW_TO_FIX}): {_some(stale)}"
    assert set(catalog(lang)) >= set(pot), f"{lang}: bot.i18n.catalog() does not load every text"


@pytest.mark.parametrize("lang", TARGETS)
def test_placeholders_and_lines_are_kept(lang: str, translations: dict[str, dict[str, str]]) -> None:
    problems = []
    for msgid, msgstr in translations[lang].items():
        if not msgstr:
            continue  # reported by test_catalog_is_complete
        try:
            wanted, got = _fields(msgid), _fields(msgstr)
        except ValueError as exc:  # a lone { or }
            problems.append(f"{msgid!r}: {exc}")
            continue
        if wanted != got:
            problems.append(f"{msgid!r}: placeholders {sorted(wanted)} became {sorted(got)} in {msgstr!r}")
        if msgid.count("\n") != msgstr.count("\n"):
            problems.append(f"{msgid!r}: {msgid.count(chr(10))} line breaks, translation has {msgstr.count(chr(10))}")
    assert not problems, f"{lang}:\n" + "\n".join(problems)


@pytest.mark.parametrize("lang", TARGETS)
def test_every_translation_formats(lang: str, pot: dict[str, Message]) -> None:
    """Every loaded translation fills in with its placeholders (tr would otherwise fall back to English)."""
    broken = []
    for msgid in pot:
        translated = catalog(lang).get(msgid)
        names = {f.split("!")[0].split(":")[0].split(".")[0].split("[")[0] for f in _fields(msgid)}
        try:
            if translated is not None:
                translated.format(**dict.fromkeys(names, 7))
        except (KeyError, IndexError, ValueError, AttributeError, TypeError) as exc:
            broken.append(f"{translated!r}: {exc!r}")
    assert not broken, f"{lang}:\n" + "\n".join(broken)


@pytest.mark.parametrize("lang", TARGETS)
def test_commands_are_kept(lang: str, translations: dict[str, dict[str, str]]) -> None:
    problems = []
    for msgid, msgstr in translations[lang].items():
        if msgstr and sorted(COMMAND.findall(msgid)) != sorted(COMMAND.findall(msgstr)):
            problems.append(f"{msgid!r}: {COMMAND.findall(msgid)} became {COMMAND.findall(msgstr)} in {msgstr!r}")
    assert not problems, f"{lang}: /commands must stay as they are in English:\n" + "\n".join(problems)


def test_help_lists_keep_their_structure(translations: dict[str, dict[str, str]]) -> None:
    """Lines like "/checkin – start work at a place" stay one command per line, with the dash."""
    for lang, texts in translations.items():
        for msgid, msgstr in texts.items():
            source = [line.split(" – ")[0] for line in msgid.split("\n") if COMMAND.match(line) and " – " in line]
            if source and msgstr:
                got = [line.split(" – ")[0] for line in msgstr.split("\n")]
                assert got == source, f"{lang}: {msgid!r} became {msgstr!r}"


def test_discreet_texts_are_in_the_catalog(pot: dict[str, Message]) -> None:
    missing = [text for text in DISCREET if text not in pot]
    assert not missing, f"discreet texts changed in the code: update DISCREET in tests/test_i18n.py: {missing}"


@pytest.mark.parametrize("lang", [SOURCE_LANGUAGE, *TARGETS])
def test_discreet_texts_stay_ordinary(lang: str, translations: dict[str, dict[str, str]]) -> None:
    """After a code word or a duress PIN the worker's screen must look like nothing happened."""
    for text in DISCREET:
        shown = text if lang == SOURCE_LANGUAGE else translations[lang].get(text, "")
        if lang == "ar":
            bad = [stem for stem in ALARM_STEMS_AR if stem in shown]
        else:
            words = re.findall(r"\w+", _fold(shown))
            bad = [stem for stem in ALARM_WORDS[lang] if any(word.startswith(stem) for word in words)]
        assert not bad, f"{lang}: discreet text {text!r} shows {shown!r}, which contains {bad}"
        assert "!" not in shown, f"{lang}: discreet text {shown!r} should stay calm"


def test_arabic_placeholders_are_isolated() -> None:
    text = "{worker} sent the yellow code: please call or message them."
    assert RTL == {"ar"}
    ar = tr("ar", text, worker="W-7KQ2")
    assert f"{FSI}W-7KQ2{PDI}" in ar
    assert ar.replace(FSI, "").replace(PDI, "") != text.format(worker="W-7KQ2"), "no Arabic translation loaded"
    assert ar.count(FSI) == ar.count(PDI) == 1
    for lang in ("es", "fr", "pt", "en"):
        other = tr(lang, text, worker="W-7KQ2")
        assert "W-7KQ2" in other and FSI not in other and PDI not in other, lang
    # every value is isolated, format specs still apply, and texts without values are untouched
    assert (
        tr("ar", "{a} {n:.1f} {a}", a="Parque Central", n=2.25)
        == f"{FSI}Parque Central{PDI} {FSI}2.2{PDI} {FSI}Parque Central{PDI}"
    )
    assert tr("es", "{n:.1f}", n=2.25) == "2.2"
    assert FSI not in tr("ar", "Choose your language:")


def test_a_broken_translation_falls_back_to_english(monkeypatch: pytest.MonkeyPatch) -> None:
    """A translation with a wrong placeholder must not stop a message from going out."""
    text = "Missed check-out: {worker} at {place}."
    monkeypatch.setitem(catalog("es"), text, "Falta la salida de {trabajador}.")
    assert tr("es", text, worker="W-1", place="X") == "Missed check-out: W-1 at X."


def test_extractor_finds_texts_in_f_strings_and_module_constants() -> None:
    """bot.i18n.extract_python (used by `make i18n`) sees what Babel's tokenizer misses on Python 3.11."""
    import io

    from bot.i18n import extract_python

    source = (
        'NEUTRAL = "Plain constant"\n'
        "def f(loc, name):\n"
        "    # TRANSLATORS: a label\n"
        "    line = f\"{tr(loc, 'Inside an f-string')}: {name}\"\n"
        '    return tr(loc, NEUTRAL), tr(loc, name), N_("Marked")\n'
    )
    found = list(extract_python(io.BytesIO(source.encode()), ["tr", "N_"], ["TRANSLATORS:"], {}))
    assert [(name, messages) for _, name, messages, _ in found] == [
        ("tr", (None, "Inside an f-string")),
        ("tr", (None, "Plain constant")),
        ("N_", ("Marked",)),
    ]
    assert found[0][3] == ["TRANSLATORS: a label"]


def test_no_text_names_a_messenger(pot: dict[str, Message]) -> None:
    """The flows run on Telegram and on the plain-text adapter (and Signal next): a text that names
    Telegram is wrong on every other messenger."""
    assert [msgid for msgid in pot if "telegram" in msgid.lower()] == []
