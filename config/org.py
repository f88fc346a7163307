"""The organisation's file (TOML): parsed strictly, so a typo stops start-up with one clear line."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from config.durations import parse_duration
from config.errors import ConfigError
from config.risk import RiskSettings, parse_risk

LANGUAGES = ("es", "en", "fr", "pt", "ar")
HOTSPOT_KINDS = ("bar", "park", "street", "sauna", "home", "online", "office", "other")
RISK_LEVELS = ("low", "medium", "high")
ALERT_LEVELS = ("green", "yellow", "red")
CLEAN_UP_AFTER = timedelta(minutes=5)  # a finished conversation leaves the chat after this, by default
SUPPORT_KINDS = ("legal", "medical", "psychosocial", "safe_place", "emergency")
# Bot commands: a code word may not be one, or typing it would run the command instead.
COMMAND_NAMES = (
    "start",
    "help",
    "checkin",
    "checkout",
    "extend",
    "status",
    "alert",
    "report",
    "support",
    "language",
    "team",
    "summary",
    "timeline",
    "export",
    "incident",
    "pin",
    "cancel",
    "places",
    "codes",
    "contacts",
    "drill",
)
_TRANSLATED = tuple(f"name_{lang}" for lang in LANGUAGES)
LIST_SECTIONS = ("hotspots", "alert_codes", "support")  # sealed in the database now (config/lists.py)


@dataclass(frozen=True)
class Escalation:
    reminder_before: timedelta = timedelta(minutes=5)
    grace: timedelta = timedelta(minutes=10)
    ack_timeout: timedelta = timedelta(minutes=15)
    repeat_every: timedelta = timedelta(minutes=5)


@dataclass(frozen=True)
class Hotspot:
    name: str
    kind: str
    risk: str
    pairs_required: bool = False
    names: dict[str, str] = field(default_factory=dict)
    area: str = ""
    lat: float | None = None  # sealed with the lists, like the name (set-coords, or a check-in's location)
    lon: float | None = None

    def label(self, locale: str) -> str:
        """The name in the reader's language when the config gives one, else as written."""
        return self.names.get(locale, self.name)


@dataclass(frozen=True)
class AlertCode:
    word: str
    level: str


@dataclass(frozen=True)
class SupportEntry:
    kind: str
    name: str
    contact: str
    area: str = ""
    names: dict[str, str] = field(default_factory=dict)


@dataclass(eq=False)
class Lists:
    """The sensitive lists as the running bot holds them. One object shared by every holder of the
    OrgConfig, replaced in place (`take`) when an admin changes them: the change holds at once."""

    hotspots: tuple[Hotspot, ...] = ()
    alert_codes: tuple[AlertCode, ...] = ()
    support: tuple[SupportEntry, ...] = ()
    revision: int = 0  # the database's revision these came from (0: none stored yet)
    org_id: str | None = None  # whose lists; None until loaded from the database

    def take(self, other: Lists, revision: int, org_id: str) -> None:
        """Become `other` (one attribute at a time, but no await in between: no reader sees a mix)."""
        self.hotspots, self.alert_codes, self.support = other.hotspots, other.alert_codes, other.support
        self.revision, self.org_id = revision, org_id


@dataclass(frozen=True)
class AlertSettings:
    """What the worker's screen shows for /alert and after a code: nothing alarming, set by the organisation."""

    labels: dict[str, str] = field(default_factory=dict)  # level -> button label; empty: translated defaults
    reply: str | None = None  # the answer to a code word, an /alert tap or a duress PIN


@dataclass(frozen=True)
class Retention:
    checkins: timedelta = timedelta(days=90)
    alerts: timedelta = timedelta(days=365)
    incidents_after_close: timedelta = timedelta(days=730)
    audit_log: timedelta = timedelta(days=365)
    revoked_people: timedelta = timedelta(days=90)  # then their Telegram ids, chat, alias and PINs are erased
    invites: timedelta = timedelta(days=30)  # after they expired or were used
    outbox: timedelta = timedelta(days=30)  # sent and failed messages; a pending one is never purged
    plans_archived: timedelta = timedelta(days=365)  # security plans, after archiving; an active one stays


DRILL_EVERY = timedelta(days=30)  # lone-worker practice (BS 8484) tests the alert chain regularly
RETENTION_MINIMUM = {"outbox": timedelta(days=2)}  # Telegram lets a bot edit or delete for 48 h: kept that long


@dataclass(frozen=True)
class OrgConfig:
    timezone: str
    language: str
    escalation: Escalation
    # Places, code words and contacts live sealed in the database (bot/services/lists.py fills this at
    # start and replaces it in place when an admin changes them); the file may only name old sections.
    lists: Lists = field(default_factory=lambda: Lists(), compare=False)
    legacy_lists: tuple[str, ...] = ()  # [[hotspots]], [[alert_codes]], [[support]] still in the file
    # The organisation's name is sealed in the database too (`init --name`, `rename`); an older file may
    # still hold it: imported once when the database has none, and warned about (bot/services/lists.py).
    legacy_name: str | None = None
    alerts: AlertSettings = field(default_factory=AlertSettings)
    checkout_pin: bool = False
    clean_up_after: timedelta = CLEAN_UP_AFTER
    summary_day: int = 0  # Monday
    summary_time: time = time(8, 0)
    retention: Retention = field(default_factory=Retention)
    drill_every: timedelta = DRILL_EVERY  # managers are reminded when no drill has run for this long
    risk: RiskSettings = field(default_factory=RiskSettings)  # [risk] (config/risk.py)

    @property
    def hotspots(self) -> tuple[Hotspot, ...]:
        return self.lists.hotspots

    @property
    def alert_codes(self) -> tuple[AlertCode, ...]:
        return self.lists.alert_codes

    @property
    def support(self) -> tuple[SupportEntry, ...]:
        return self.lists.support

    def code_level(self, text: str) -> str | None:
        """The level of a typed code word (case, spaces and end punctuation do not matter)."""
        typed = normalize_code(text)
        for code in self.alert_codes:
            if normalize_code(code.word) == typed:
                return code.level
        return None

    def place_label(self, place: str | None, locale: str) -> str | None:
        """A configured hotspot's name in the reader's language (name_es...); anything else as written."""
        for hotspot in self.hotspots:
            if hotspot.name == place:
                return hotspot.label(locale)
        return place

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def normalize_code(text: str) -> str:
    return " ".join(text.casefold().split()).strip(" .!?¡¿,;:")


def _table(data: Any, key: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ConfigError(key, "must be a table")
    return data


def _only(data: dict[str, Any], where: str, allowed: tuple[str, ...]) -> None:
    for key in data:
        if key not in allowed:
            raise ConfigError(f"{where}.{key}" if where else key, "unknown key")


def _text(data: dict[str, Any], where: str, key: str, *, required: bool = True, default: str = "") -> str:
    value = data.get(key)
    if value is None:
        if required:
            raise ConfigError(f"{where}.{key}", "is missing")
        return default
    if not isinstance(value, str) or (required and not value.strip()):
        raise ConfigError(f"{where}.{key}", "must be a non-empty text")
    return value.strip()


def _choice(data: dict[str, Any], where: str, key: str, choices: tuple[str, ...]) -> str:
    value = _text(data, where, key)
    if value not in choices:
        raise ConfigError(f"{where}.{key}", f"unknown value {value!r}; use one of {', '.join(choices)}")
    return value


def _names(data: dict[str, Any], where: str) -> dict[str, str]:
    return {k[5:]: _text(data, where, k) for k in _TRANSLATED if k in data}


def _organization(data: dict[str, Any]) -> tuple[str | None, str, str]:
    data = _table(data, "organization")
    _only(data, "organization", ("name", "timezone", "language"))
    name = _text(data, "organization", "name") if "name" in data else None  # legacy: see OrgConfig.legacy_name
    timezone = _text(data, "organization", "timezone")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError("organization.timezone", f"unknown time zone {timezone!r}") from None
    language = _choice(data, "organization", "language", LANGUAGES)
    return name, timezone, language


def _escalation(data: dict[str, Any]) -> Escalation:
    data = _table(data, "escalation")
    names = ("reminder_before", "grace", "ack_timeout", "repeat_every")
    _only(data, "escalation", names)
    values: dict[str, timedelta] = {}
    for key in names:
        if key in data:
            try:
                values[key] = parse_duration(data[key])
            except ValueError:
                raise ConfigError(
                    f"escalation.{key}", f'bad duration {data[key]!r}; write it like "45s", "10m" or "1h30m"'
                ) from None
    return Escalation(**values)


def _alerts(data: Any) -> AlertSettings:
    data = _table(data, "alerts")
    _only(data, "alerts", ("red_label", "yellow_label", "green_label", "reply"))
    labels = {
        key[:-6]: _text(data, "alerts", key) for key in ("red_label", "yellow_label", "green_label") if key in data
    }
    return AlertSettings(labels=labels, reply=_text(data, "alerts", "reply") if "reply" in data else None)


def _checkout(data: Any) -> bool:
    data = _table(data, "checkout")
    _only(data, "checkout", ("pin",))
    pin = data.get("pin", False)
    if not isinstance(pin, bool):
        raise ConfigError("checkout.pin", "must be true or false")
    return pin


def _privacy(data: Any) -> timedelta:
    """How long a finished conversation stays in the chat before it is cleaned up."""
    data = _table(data, "privacy")
    _only(data, "privacy", ("clean_up_after", "delete_after"))
    key = "clean_up_after" if "clean_up_after" in data else "delete_after"  # delete_after: its older name
    if key not in data:
        return CLEAN_UP_AFTER
    try:
        delay = parse_duration(data[key])
    except ValueError:
        raise ConfigError(f"privacy.{key}", f'bad duration {data[key]!r}; write it like "5m"') from None
    if delay > timedelta(hours=47):
        raise ConfigError(f"privacy.{key}", "must be under 47h: Telegram lets bots delete only recent messages")
    return delay


def _retention(data: Any) -> Retention:
    data = _table(data, "retention")
    names = (
        "checkins",
        "alerts",
        "incidents_after_close",
        "audit_log",
        "revoked_people",
        "invites",
        "outbox",
        "plans_archived",
    )
    _only(data, "retention", names)
    values = {}
    for key in names:
        if key in data:
            try:
                values[key] = parse_duration(data[key])
            except ValueError:
                raise ConfigError(f"retention.{key}", f'bad duration {data[key]!r}; write it like "90d"') from None
            least = RETENTION_MINIMUM.get(key, timedelta(days=1))  # a day: what Telegram may send again is known
            if values[key] < least:
                raise ConfigError(f"retention.{key}", f"must be at least {least.days}d")
    return Retention(**values)


def _drills(data: Any) -> timedelta:
    """How long without a drill before managers are reminded to run one."""
    data = _table(data, "drills")
    _only(data, "drills", ("remind_after",))
    if "remind_after" not in data:
        return DRILL_EVERY
    try:
        every = parse_duration(data["remind_after"])
    except ValueError:
        bad = data["remind_after"]
        raise ConfigError("drills.remind_after", f'bad duration {bad!r}; write it like "30d"') from None
    if every < timedelta(days=1):
        raise ConfigError("drills.remind_after", "must be at least 1d")
    return every


DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _summary(data: Any) -> tuple[int, time]:
    data = _table(data, "summary")
    _only(data, "summary", ("day", "time"))
    day = data.get("day", "monday")
    if not isinstance(day, str) or day.lower() not in DAYS:
        raise ConfigError("summary.day", f"unknown day {day!r}; use one of {', '.join(DAYS)}")
    at = data.get("time", "08:00")
    try:
        hour, minute = (int(x) for x in str(at).split(":"))
        moment = time(hour, minute)
    except ValueError:
        raise ConfigError("summary.time", f'bad time {at!r}; write it like "08:00"') from None
    return DAYS.index(day.lower()), moment


def parse_org_config(data: dict[str, Any]) -> OrgConfig:
    """Validate an already-decoded TOML document."""
    _only(
        data,
        "",
        (
            "organization",
            "escalation",
            "hotspots",
            "alert_codes",
            "support",
            "alerts",
            "checkout",
            "privacy",
            "summary",
            "retention",
            "drills",
            "risk",
        ),
    )
    if "organization" not in data:
        raise ConfigError("organization", "is missing")
    name, timezone, language = _organization(data["organization"])
    summary = _summary(data.get("summary", {}))
    return OrgConfig(
        timezone=timezone,
        language=language,
        escalation=_escalation(data.get("escalation", {})),
        legacy_lists=tuple(key for key in LIST_SECTIONS if key in data),
        legacy_name=name,
        alerts=_alerts(data.get("alerts", {})),
        checkout_pin=_checkout(data.get("checkout", {})),
        clean_up_after=_privacy(data.get("privacy", {})),
        summary_day=summary[0],
        summary_time=summary[1],
        retention=_retention(data.get("retention", {})),
        drill_every=_drills(data.get("drills", {})),
        risk=parse_risk(data.get("risk", {})),
    )


def load_org_config(path: Path) -> OrgConfig:
    """Read and validate the organisation's file; every problem becomes one ConfigError."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError("OUTREACH_CONFIG", f"file not found: {path} (copy config/org.example.toml)") from None
    except OSError as exc:
        raise ConfigError("OUTREACH_CONFIG", f"cannot read {path}: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError("OUTREACH_CONFIG", f"{path} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("OUTREACH_CONFIG", f"{path} is not valid TOML ({exc})") from None
    return parse_org_config(data)
