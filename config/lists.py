"""The sensitive lists (places, code words, support contacts): validated as the config file once did.

They are sealed in the database (storage/lists.py) and managed with `outreach-bot places|codes|contacts`
or, by admins, in the chat; `outreach-bot init --import-lists FILE` reads them once from a TOML file of
the old sections' shape ([[hotspots]], [[alert_codes]], [[support]]). The stored document has that
same shape, so one validation serves the file, the database, the CLI and the chat.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from config.errors import ConfigError
from config.org import (
    _TRANSLATED,
    ALERT_LEVELS,
    COMMAND_NAMES,
    HOTSPOT_KINDS,
    LIST_SECTIONS,
    RISK_LEVELS,
    SUPPORT_KINDS,
    AlertCode,
    Hotspot,
    Lists,
    SupportEntry,
    _choice,
    _names,
    _only,
    _table,
    _text,
    normalize_code,
)

Doc = dict[str, list[dict[str, Any]]]  # {"hotspots": [...], "alert_codes": [...], "support": [...]}


def _hotspots(items: Any) -> tuple[Hotspot, ...]:
    if not isinstance(items, list):
        raise ConfigError("hotspots", "must be a list of [[hotspots]] tables")
    seen: set[str] = set()
    result = []
    for i, raw in enumerate(items, 1):
        where = f"hotspots[{i}]"
        data = _table(raw, where)
        _only(data, where, ("name", "kind", "risk", "pairs_required", "area", "lat", "lon", *_TRANSLATED))
        name = _text(data, where, "name")
        if name.casefold() in seen:
            raise ConfigError(f"{where}.name", f"duplicate hotspot {name!r}")
        seen.add(name.casefold())
        pairs = data.get("pairs_required", False)
        if not isinstance(pairs, bool):
            raise ConfigError(f"{where}.pairs_required", "must be true or false")
        result.append(
            Hotspot(
                name=name,
                kind=_choice(data, where, "kind", HOTSPOT_KINDS),
                risk=_choice(data, where, "risk", RISK_LEVELS),
                pairs_required=pairs,
                names=_names(data, where),
                area=_text(data, where, "area", required=False),
                **_coords(data, where),
            )
        )
    return tuple(result)


def check_coords(lat: object, lon: object) -> tuple[float, float] | None:
    """(lat, lon) when both are numbers inside the world, else None."""
    if any(isinstance(v, bool) or not isinstance(v, int | float) for v in (lat, lon)):
        return None
    la, lo = float(lat), float(lon)  # type: ignore[arg-type]
    return (la, lo) if -90 <= la <= 90 and -180 <= lo <= 180 else None


def _coords(data: dict[str, Any], where: str) -> dict[str, float]:
    """A place's coordinates: both or neither, inside the world."""
    if "lat" not in data and "lon" not in data:
        return {}
    found = check_coords(data.get("lat"), data.get("lon"))
    if found is None:
        raise ConfigError(f"{where}.lat", "lat and lon must both be given, lat from -90 to 90, lon from -180 to 180")
    return {"lat": found[0], "lon": found[1]}


def _alert_codes(items: Any) -> tuple[AlertCode, ...]:
    if not isinstance(items, list):
        raise ConfigError("alert_codes", "must be a list of [[alert_codes]] tables")
    seen: set[str] = set()
    result = []
    for i, raw in enumerate(items, 1):
        where = f"alert_codes[{i}]"
        data = _table(raw, where)
        _only(data, where, ("word", "level"))
        word = _text(data, where, "word")
        if word.startswith("/"):
            raise ConfigError(f"{where}.word", f"{word!r} looks like a command; choose an ordinary phrase")
        if normalize_code(word) in COMMAND_NAMES:
            raise ConfigError(f"{where}.word", f"{word!r} is also a command; choose an ordinary phrase")
        if len(word) < 4:
            raise ConfigError(f"{where}.word", f"{word!r} is too short; use at least 4 characters")
        if normalize_code(word).replace(" ", "").isdecimal():
            raise ConfigError(f"{where}.word", f"{word!r} is only digits: it could be taken for a PIN; use words")
        if normalize_code(word) in seen:  # "Buy  bread!" is typed as "buy bread": the same word twice
            raise ConfigError(f"{where}.word", f"duplicate code word {word!r}")
        seen.add(normalize_code(word))
        result.append(AlertCode(word=word, level=_choice(data, where, "level", ALERT_LEVELS)))
    return tuple(result)


def _support(items: Any) -> tuple[SupportEntry, ...]:
    if not isinstance(items, list):
        raise ConfigError("support", "must be a list of [[support]] tables")
    result = []
    for i, raw in enumerate(items, 1):
        where = f"support[{i}]"
        data = _table(raw, where)
        _only(data, where, ("kind", "name", "contact", "area", *_TRANSLATED))
        result.append(
            SupportEntry(
                kind=_choice(data, where, "kind", SUPPORT_KINDS),
                name=_text(data, where, "name"),
                contact=_text(data, where, "contact"),
                area=_text(data, where, "area", required=False),
                names=_names(data, where),
            )
        )
    return tuple(result)


def parse_lists(data: dict[str, Any], *, others_allowed: bool = False) -> Lists:
    """Validate the three sections of `data`; others_allowed: the rest of a config file is not ours."""
    if not others_allowed:
        _only(data, "", LIST_SECTIONS)
    return Lists(
        hotspots=_hotspots(data.get("hotspots", [])),
        alert_codes=_alert_codes(data.get("alert_codes", [])),
        support=_support(data.get("support", [])),
    )


def to_doc(lists: Lists) -> Doc:
    """The lists as the document that is sealed, of the file's shape (name_es... for translations)."""
    hotspots = []
    for h in lists.hotspots:
        item: dict[str, Any] = {"name": h.name, "kind": h.kind, "risk": h.risk}
        if h.pairs_required:
            item["pairs_required"] = True
        if h.area:
            item["area"] = h.area
        if h.lat is not None and h.lon is not None:
            item |= {"lat": h.lat, "lon": h.lon}
        hotspots.append(item | {f"name_{k}": v for k, v in h.names.items()})
    support = []
    for s in lists.support:
        entry: dict[str, Any] = {"kind": s.kind, "name": s.name, "contact": s.contact}
        if s.area:
            entry["area"] = s.area
        support.append(entry | {f"name_{k}": v for k, v in s.names.items()})
    codes = [{"word": c.word, "level": c.level} for c in lists.alert_codes]
    return {"hotspots": hotspots, "alert_codes": codes, "support": support}


def read_toml(path: Path | str) -> dict[str, Any]:
    """A TOML file, every problem as one ConfigError naming the file."""
    path = Path(path).expanduser()
    try:
        return tomllib.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise ConfigError("--import-lists", f"file not found: {path}") from None
    except OSError as exc:
        raise ConfigError("--import-lists", f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError("--import-lists", f"{path} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("--import-lists", f"{path} is not valid TOML ({exc})") from None


class NotOnList(Exception):
    """The place, code word or contact named is not on the list."""


Edit = Callable[[Doc], None]  # changes a document in place; raises NotOnList; validated afterwards


def _find(items: list[dict[str, Any]], key: str, value: str, same: Callable[[str], str] = str.casefold) -> int:
    for i, item in enumerate(items):
        if same(str(item.get(key, ""))) == same(value.strip()):
            return i
    raise NotOnList(value)


def add(section: str, item: dict[str, Any]) -> Edit:
    """Append `item` to `section` (validation happens on the whole document afterwards)."""
    return lambda doc: doc.setdefault(section, []).append(item)


def remove(section: str, value: str) -> Edit:
    """Remove the entry named `value` (a place's or a contact's name, a code word)."""
    key, same = ("word", normalize_code) if section == "alert_codes" else ("name", str.casefold)

    def edit(doc: Doc) -> None:
        items = doc.setdefault(section, [])
        del items[_find(items, key, value, same)]

    return edit


def set_risk(name: str, risk: str) -> Edit:
    """A place's risk."""

    def edit(doc: Doc) -> None:
        places = doc.setdefault("hotspots", [])
        places[_find(places, "name", name)]["risk"] = risk

    return edit


def set_coords(name: str, lat: float, lon: float) -> Edit:
    """A place's coordinates (checked by the validation of the whole document)."""

    def edit(doc: Doc) -> None:
        places = doc.setdefault("hotspots", [])
        places[_find(places, "name", name)] |= {"lat": lat, "lon": lon}

    return edit
