"""/places, /codes, /contacts for admins: see and change the sealed lists from the chat.

The change is stored (sealed, audit-logged without its value) and holds at once for everyone: the
bot's config takes it up in place (bot/services/lists.py). Like every conversation, what was shown
and typed here leaves the chat at clean-up, so an admin's seized phone keeps no list.
"""

from __future__ import annotations

from datetime import timedelta

from bot.flows.model import TEXT, Ctx, Done, Flow, Input, Next, Result, Screen, Stay, rows
from bot.i18n import N_
from bot.services import lists as service
from bot.support import KIND_LABELS
from config.errors import ConfigError
from config.lists import Edit, NotOnList, add, check_coords, parse_lists, remove, set_coords, set_risk, to_doc
from config.org import ALERT_LEVELS, HOTSPOT_KINDS, RISK_LEVELS, SUPPORT_KINDS

MENU, NAME, KIND, RISK, LEVEL, WORD, CONTACT, PICK, NEW_RISK, COORDS = (
    "menu", "name", "kind", "risk", "level", "word", "contact", "pick", "new_risk", "coords"
)  # fmt: skip
MAX_TEXT = 100  # a place, a code word or a contact fits a button and a line
SECTION = {"places": "hotspots", "codes": "alert_codes", "contacts": "support"}
TITLE = {"places": N_("Places:"), "codes": N_("Code words:"), "contacts": N_("Contacts:")}
BAD = {
    "places": N_("That place cannot be added: the name is empty, too long, or already on the list."),
    "codes": N_(
        "That code word cannot be used: it needs 4 characters or more, not a command, not only digits,"
        " and not one already on the list."
    ),
    "contacts": N_("That cannot be used: it is empty or too long."),
}
PLACE_KINDS = {
    "bar": N_("Bar"),
    "park": N_("Park"),
    "street": N_("Street"),
    "sauna": N_("Sauna"),
    "home": N_("Home"),
    "online": N_("Online"),
    "office": N_("Office"),
    "other": N_("Other place"),
}
RISKS = {"low": N_("Low risk"), "medium": N_("Medium risk"), "high": N_("High risk")}
LEVELS = {"green": N_("Green"), "yellow": N_("Yellow"), "red": N_("Red")}
SAVED = N_("Saved. It holds from now on.")


def _items(c: Ctx, which: str) -> list[tuple[str, str]]:
    """(name, how it is listed) of each entry of the list."""
    if which == "places":
        return [(h.name, f"{h.name} · {c.t(PLACE_KINDS[h.kind])} · {c.t(RISKS[h.risk])}") for h in c.config.hotspots]
    if which == "codes":
        return [(k.word, f"{k.word} · {c.t(LEVELS[k.level])}") for k in c.config.alert_codes]
    return [(s.name, f"{s.name} · {c.t(KIND_LABELS[s.kind])} · {s.contact}") for s in c.config.support]


def _menu(c: Ctx, which: str) -> Next:
    lines = [c.t(TITLE[which])] + [f"• {shown}" for _, shown in _items(c, which)]
    if len(lines) == 1:
        lines.append(c.t("None yet."))
    actions = [(c.t("Add"), "lst:add"), (c.t("Remove"), "lst:rm")]
    if which == "places":
        actions.append((c.t("Change risk"), "lst:risk"))
        actions.append((c.t("Location"), "lst:loc"))
    return Next(MENU, Screen("\n".join(lines), rows(actions, [(c.t("Close"), "lst:close")])))


async def start(c: Ctx, inp: Input) -> Result:
    """/places, /codes or /contacts: the list and what can be done with it (admins only)."""
    if c.person is None or c.person.role != "admin":
        return Done(c.t("This command is for admins."))
    c.answers["list"] = inp.value if inp.value in SECTION else "places"
    return _menu(c, c.answers["list"])


def _choices(c: Ctx, labels: dict[str, str], prefix: str) -> list[list[tuple[str, str]]]:
    """One button a line, each value's label in the reader's language."""
    return [[(c.t(label), f"{prefix}{value}")] for value, label in labels.items()]


async def menu(c: Ctx, inp: Input) -> Result:
    """Add, remove, change a place's risk, or close."""
    which = c.answers["list"]
    if inp.value == "lst:close":
        return Done(c.t("Nothing changed."))
    if inp.value == "lst:add":
        if which == "codes":
            return Next(WORD, Screen(c.t("Type the new code word: an ordinary phrase."), takes=TEXT))
        if which == "contacts":
            return Next(KIND, Screen(c.t("What kind of contact?"), rows(*_choices(c, KIND_LABELS, "lst:k:"))))
        return Next(NAME, Screen(c.t("Type the name of the place."), takes=TEXT))
    if inp.value in ("lst:rm", "lst:risk", "lst:loc"):
        names = [name for name, _ in _items(c, which)]
        if not names:
            return Stay(c.t("None yet."))
        c.answers["names"], c.answers["then"] = names, inp.value
        shown = [[(label, f"lst:pick:{i}")] for i, (_, label) in enumerate(_items(c, which))]
        return Next(PICK, Screen(c.t("Which one?"), rows(*shown)))
    return Stay(c.t("This button is no longer current."))


def _typed(c: Ctx, inp: Input) -> str | None:
    """One line of ordinary text, or None."""
    text = inp.value.strip() if inp.kind == TEXT else ""
    return text if text and len(text) <= MAX_TEXT and "\n" not in text else None


def _fits(c: Ctx, section: str, item: dict[str, str]) -> bool:
    """Whether `item` would pass the lists' validation now (checked again when stored)."""
    doc = to_doc(c.config.lists)
    add(section, item)(doc)
    try:
        parse_lists(doc)
    except ConfigError:
        return False
    return True


async def word(c: Ctx, inp: Input) -> Result:
    """The new code word; then its level."""
    typed = _typed(c, inp)
    if typed is None or not _fits(c, "alert_codes", {"word": typed, "level": "red"}):
        return Stay(c.t(BAD["codes"]))
    c.answers["word"] = typed
    return Next(LEVEL, Screen(c.t("Which level?"), rows(*_choices(c, LEVELS, "lst:l:"))))


async def level(c: Ctx, inp: Input) -> Result:
    """The code word's level: stored."""
    value = inp.value.removeprefix("lst:l:")
    if value not in ALERT_LEVELS:
        return Stay(c.t("This button is no longer current."))
    return await _save(c, add("alert_codes", {"word": c.answers["word"], "level": value}), "add")


async def name(c: Ctx, inp: Input) -> Result:
    """A place's name (then its kind), or a contact's name (then how to reach them)."""
    typed = _typed(c, inp)
    place = {"name": typed or "", "kind": "other", "risk": "low"}
    if typed is None or (c.answers["list"] == "places" and not _fits(c, "hotspots", place)):
        return Stay(c.t(BAD[c.answers["list"]]))
    c.answers["name"] = typed
    if c.answers["list"] == "contacts":
        return Next(CONTACT, Screen(c.t("Type how to reach them (a phone number, say)."), takes=TEXT))
    return Next(KIND, Screen(c.t("What kind of place is it?"), rows(*_choices(c, PLACE_KINDS, "lst:k:"))))


async def kind(c: Ctx, inp: Input) -> Result:
    """A place's kind (then its risk), or a contact's kind (then its name)."""
    value = inp.value.removeprefix("lst:k:")
    if value not in (SUPPORT_KINDS if c.answers["list"] == "contacts" else HOTSPOT_KINDS):
        return Stay(c.t("This button is no longer current."))
    c.answers["kind"] = value
    if c.answers["list"] == "contacts":
        return Next(NAME, Screen(c.t("Type the contact's name."), takes=TEXT))
    return Next(RISK, Screen(c.t("How risky is it?"), rows(*_choices(c, RISKS, "lst:r:"))))


async def risk(c: Ctx, inp: Input) -> Result:
    """A new place's risk: stored."""
    value = inp.value.removeprefix("lst:r:")
    if value not in RISK_LEVELS:
        return Stay(c.t("This button is no longer current."))
    place = {"name": c.answers["name"], "kind": c.answers["kind"], "risk": value}
    return await _save(c, add("hotspots", place), "add")


async def contact(c: Ctx, inp: Input) -> Result:
    """How to reach a new contact: stored."""
    typed = _typed(c, inp)
    if typed is None:
        return Stay(c.t(BAD["contacts"]))
    entry = {"kind": c.answers["kind"], "name": c.answers["name"], "contact": typed}
    return await _save(c, add("support", entry), "add")


async def pick(c: Ctx, inp: Input) -> Result:
    """The entry to remove, or the place whose risk changes."""
    index = inp.value.removeprefix("lst:pick:")
    names = c.answers.get("names") or []
    if not index.isdecimal() or int(index) >= len(names):  # isdigit() takes "²", int() does not
        return Stay(c.t("This button is no longer current."))
    chosen = names[int(index)]
    if c.answers.get("then") == "lst:risk":
        c.answers["name"] = chosen
        return Next(NEW_RISK, Screen(c.t("How risky is it?"), rows(*_choices(c, RISKS, "lst:r:"))))
    if c.answers.get("then") == "lst:loc":
        c.answers["name"] = chosen
        text = c.t("Type the place's coordinates like 14.634 -90.507 (latitude, longitude).")
        return Next(COORDS, Screen(text, takes=TEXT))
    return await _save(c, remove(SECTION[c.answers["list"]], chosen), "remove", c.t("Removed."))


async def coords(c: Ctx, inp: Input) -> Result:
    """A place's coordinates, typed (for the map of /risk): stored; outside the world: one line."""
    try:
        found = check_coords(*(float(x) for x in inp.value.replace(",", " ").split()))
    except (TypeError, ValueError):
        found = None
    if found is None:
        return Stay(c.t("Latitude from -90 to 90 and longitude from -180 to 180, like 14.634 -90.507."))
    return await _save(c, set_coords(c.answers["name"], *found), "coords")


async def new_risk(c: Ctx, inp: Input) -> Result:
    """A place's new risk: stored."""
    value = inp.value.removeprefix("lst:r:")
    if value not in RISK_LEVELS:
        return Stay(c.t("This button is no longer current."))
    return await _save(c, set_risk(c.answers["name"], value), "risk")


async def _save(c: Ctx, edit: Edit, action: str, done: str | None = None) -> Result:
    """Store the change; a refused value gets one line and changes nothing."""
    assert c.person is not None
    which = c.answers["list"]
    noun = {"places": "place", "codes": "code", "contacts": "contact"}[which]
    try:
        await service.change(c.storage, c.person.org_id, c.config, edit, f"lists.{noun}.{action}", c.person.id, c.now())
    except (ConfigError, NotOnList):
        return Done(c.t(BAD[which]))
    return Done(done or c.t(SAVED))


FLOW = Flow(
    name="lists",
    start=start,
    steps={
        MENU: menu,
        WORD: word,
        LEVEL: level,
        NAME: name,
        KIND: kind,
        RISK: risk,
        CONTACT: contact,
        PICK: pick,
        NEW_RISK: new_risk,
        COORDS: coords,
    },
    commands=("places", "codes", "contacts"),
    timeout=timedelta(minutes=15),
)
