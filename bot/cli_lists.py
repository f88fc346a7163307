"""`outreach-bot places|codes|contacts list|add|remove` (and `places set-risk`): the sensitive lists,
sealed in the database. A change reaches the running bot within a second (its tick compares the
lists' revision), with no restart. Every change is audit-logged, without its value.

A value left out of `add` or `remove` is asked for at a prompt: typed there, a code word or a
contact stays out of the shell's history file, which lies on the server's disk in clear.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import config as config_package
from bot.clock import SystemClock
from bot.failure import Fail
from bot.services import lists as service
from config import OrgConfig
from config.errors import ConfigError
from config.lists import Edit, NotOnList, add, check_coords, parse_lists, read_toml, remove, set_coords, set_risk
from config.org import ALERT_LEVELS, HOTSPOT_KINDS, LANGUAGES, RISK_LEVELS, SUPPORT_KINDS
from storage import Storage
from storage.orgs import Organization

SHIPPED_EXAMPLE = Path(config_package.__file__).parent / "lists.example.toml"
GROUPS = {"places": "hotspots", "codes": "alert_codes", "contacts": "support"}
NOUN = {"places": "place", "codes": "code word", "contacts": "contact"}


def add_parsers(sub: Any) -> None:
    """The three command groups, on the main parser's subparsers. Each action is a parser of its own, so
    options may come before or after the values (`places add --kind bar "Bar Sol"` and the other way)."""
    places = _actions(sub, "places", "list|add|remove|set-risk|set-coords the places (sealed in the database)")
    for action in ("add", "remove", "set-risk", "set-coords"):
        places[action].add_argument("name", nargs="?", help="the place's name (asked for when left out)")
    places["set-risk"].add_argument("risk", nargs="?", choices=RISK_LEVELS, help="the new risk")
    places["set-coords"].add_argument("lat", nargs="?", help="latitude, -90 to 90 (like 14.634)")
    places["set-coords"].add_argument("lon", nargs="?", help="longitude, -180 to 180 (like -90.507)")
    places["add"].add_argument("--kind", choices=HOTSPOT_KINDS, default="other")
    places["add"].add_argument("--risk", dest="add_risk", choices=RISK_LEVELS, default="medium")
    places["add"].add_argument("--area", default="", help="support contacts of the same area are offered first")
    places["add"].add_argument("--pairs", action="store_true", help="working alone here needs a second tap")
    for lang in LANGUAGES:
        places["add"].add_argument(f"--name-{lang}", default=None, help=argparse.SUPPRESS)
    codes = _actions(sub, "codes", "list|add|remove the code words (sealed in the database)")
    for action in ("add", "remove"):
        codes[action].add_argument("word", nargs="?", help="the code word (asked for when left out: not in history)")
    codes["add"].add_argument("--level", choices=ALERT_LEVELS, default="red")
    contacts = _actions(sub, "contacts", "list|add|remove the support contacts (sealed in the database)")
    for action in ("add", "remove"):
        contacts[action].add_argument("name", nargs="?", help="who (asked for when left out)")
    contacts["add"].add_argument("contact", nargs="?", help="how to reach them (asked for when left out)")
    contacts["add"].add_argument("--kind", choices=SUPPORT_KINDS, default="legal")
    contacts["add"].add_argument("--area", default="")


def _actions(sub: Any, group: str, summary: str) -> dict[str, argparse.ArgumentParser]:
    """`group list|add|remove[|set-risk]`, one parser an action."""
    parser = sub.add_parser(group, help=summary)
    actions = parser.add_subparsers(dest="action", required=True, metavar="{" + summary.split()[0] + "}")
    names = ("list", "add", "remove", "set-risk", "set-coords") if group == "places" else ("list", "add", "remove")
    return {name: actions.add_parser(name) for name in names}


def _coords(lat: str | None, lon: str | None) -> tuple[float, float]:
    """LAT LON as typed, inside the world; else one line (and nothing changes)."""
    try:
        found = check_coords(float(lat or "nan"), float(lon or "nan"))
    except ValueError:
        found = None
    if found is None:
        raise Fail("coordinates outside the world: latitude -90 to 90, longitude -180 to 180; nothing changed")
    return found


def _ask(value: str | None, what: str) -> str:
    """The value given, or one line typed at a prompt."""
    if value:
        return value
    if sys.stdin.isatty():
        print(f"{what}: ", end="", flush=True)
    line = sys.stdin.readline().strip()
    if not line:
        raise Fail(f"no {what.lower()} given; nothing changed")
    return line


def show(group: str, config: OrgConfig) -> list[str]:
    """The lines `list` prints."""
    if group == "places":
        return [
            f"{h.name} · {h.kind} · risk {h.risk}"
            + (f" · area {h.area}" if h.area else "")
            + (" · pairs" if h.pairs_required else "")
            + (f" · {h.lat}, {h.lon}" if h.lat is not None else "")
            for h in config.hotspots
        ]
    if group == "codes":
        return [f"{c.word} · {c.level}" for c in config.alert_codes]
    return [f"{s.name} · {s.kind} · {s.contact}" + (f" · area {s.area}" if s.area else "") for s in config.support]


async def cmd_lists(args: argparse.Namespace, storage: Storage, org: Organization, config: OrgConfig) -> None:
    """One list command on the open storage (the organisation's lists already loaded into `config`)."""
    group, action = args.command, args.action
    if action == "list":
        lines = show(group, config)
        print("\n".join(lines) if lines else f"No {NOUN[group]}s yet.")
        return
    edit, what = _edit(args)
    try:
        await service.change(
            storage, org.id, config, edit, f"lists.{NOUN[group].split()[0]}.{action}", None, SystemClock().now()
        )
    except NotOnList:
        raise Fail(
            f"no such {NOUN[group]} on the list; nothing changed (`outreach-bot {group} list` shows them)"
        ) from None
    except ConfigError as exc:
        raise Fail(f"{exc.problem}; nothing changed") from None
    print(f"{what} The running bot uses it within a second.")


def _edit(args: argparse.Namespace) -> tuple[Edit, str]:
    """What the command changes, and the line that says it was done (without the value)."""
    group, action = args.command, args.action
    section = GROUPS[group]
    if group == "places":
        name = _ask(args.name, "Place")
        if action == "add":
            item: dict[str, Any] = {"name": name, "kind": args.kind, "risk": args.add_risk}
            item |= {"area": args.area} if args.area else {}
            item |= {"pairs_required": True} if args.pairs else {}
            item |= {
                f"name_{lang}": getattr(args, f"name_{lang}") for lang in LANGUAGES if getattr(args, f"name_{lang}")
            }
            return add(section, item), "Place added."
        if action == "set-risk":
            if args.risk is None:
                raise Fail(f"set-risk needs the new risk after the name: one of {', '.join(RISK_LEVELS)}")
            return set_risk(name, args.risk), f"Risk set to {args.risk}."
        if action == "set-coords":
            return set_coords(name, *_coords(args.lat, args.lon)), "Coordinates set."
        return remove(section, name), "Place removed."
    if group == "codes":
        word = _ask(args.word, "Code word")
        if action == "add":
            return add(section, {"word": word, "level": args.level}), f"Code word added ({args.level})."
        return remove(section, word), "Code word removed."
    name = _ask(args.name, "Name")
    if action == "add":
        entry = {"kind": args.kind, "name": name, "contact": _ask(args.contact, "Contact")}
        entry |= {"area": args.area} if args.area else {}
        return add(section, entry), "Contact added."
    return remove(section, name), "Contact removed."


def _is_shipped_example(path: str) -> bool:
    """Whether `path` is the example file that comes with the code (it is not the operator's to delete)."""
    return Path(path).resolve() == SHIPPED_EXAMPLE.resolve()


async def import_file(path: str, storage: Storage, org: Organization, config: OrgConfig) -> str:
    """`init --import-lists FILE`: the file's lists in place of the stored ones; what to tell the operator."""
    try:
        found = parse_lists(read_toml(path))
    except ConfigError as exc:
        raise Fail(f"{path}: {exc}; nothing imported") from None
    await service.import_lists(storage, org.id, config, found, SystemClock().now(), replace=True)
    counts = f"{len(found.hotspots)} places, {len(found.alert_codes)} code words, {len(found.support)} contacts"
    if _is_shipped_example(path):
        return (
            f"Imported {counts} from the shipped example. Replace them with your own before anyone uses the bot:"
            " `outreach-bot places|codes|contacts list|add|remove` (the example's code words are known to all)."
        )
    return (
        f"Imported {counts} into the database (sealed). Now delete {path}: it names them in clear"
        f" (shred -u {path}). From now on: `outreach-bot places|codes|contacts list|add|remove`."
    )
