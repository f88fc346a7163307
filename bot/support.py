"""The emergency support directory from the config, as a person reads it."""

from __future__ import annotations

from bot.i18n import N_, tr
from config.org import OrgConfig, SupportEntry

KIND_LABELS = {
    "legal": N_("Legal"),
    "medical": N_("Medical"),
    "psychosocial": N_("Emotional support"),
    "safe_place": N_("Safe place"),
    "emergency": N_("Emergency"),
}
ORDER = ("legal", "medical", "psychosocial", "safe_place", "emergency")


def entries_for(config: OrgConfig, area: str | None) -> list[SupportEntry]:
    """Entries for an area (plus those for everywhere), legal, medical and psychosocial first."""
    chosen = list(config.support)
    if area:
        local = [e for e in chosen if not e.area or e.area.casefold() == area.casefold()]
        chosen = local or chosen
    wanted = (area or "").casefold()
    return sorted(chosen, key=lambda e: (ORDER.index(e.kind), bool(wanted) and e.area.casefold() != wanted))


def directory_text(config: OrgConfig, locale: str, area: str | None = None) -> str:
    entries = entries_for(config, area)
    if not entries:
        return tr(locale, "No support contacts are set up yet. Ask your supervisor.")
    lines = [tr(locale, "Support contacts:")]
    for e in entries:
        name = e.names.get(locale, e.name)
        where = f" ({e.area})" if e.area else ""
        lines.append(f"• {tr(locale, KIND_LABELS[e.kind])}: {name}{where} – {e.contact}")
    return "\n".join(lines)


def area_of(config: OrgConfig, place: str | None) -> str | None:
    for hotspot in config.hotspots:
        if hotspot.name == place:
            return hotspot.area or None
    return None
