"""[risk]: how a place's level is computed from what happened there (bot/services/risk.py).

Kept apart from config/org.py (which holds the rest of the file) so that each stays small; it imports
nothing of config.org, so there is no cycle."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from config.errors import ConfigError

LEVELS = ("low", "medium", "high")


@dataclass(frozen=True)
class RiskSettings:
    # Points per incident by severity (1 low ... 4 critical); an incident without a severity counts as 1.
    severity_weights: tuple[float, float, float, float] = (1.0, 2.0, 4.0, 8.0)
    missed_checkout_weight: float = 2.0
    alert_weight: float = 3.0  # a code word, an /alert, a duress PIN: drills never count
    older_weight: float = 0.5  # an event 31-90 days old counts this share of one in the last 30 days
    medium_from: float = 4.0  # score from which a place is "medium"
    high_from: float = 10.0  # ... and "high"
    pairs_from: str = "high"  # the computed level from which two people are needed at a place
    coords_decimals: int = 3  # a location shared at check-in, rounded (3 decimals: about 100 m)
    export_min_count: int = 5  # counts below it are exported as "fewer than 5"

    def level(self, score: float) -> str:
        """The level a score reaches."""
        return "high" if score >= self.high_from else "medium" if score >= self.medium_from else "low"


KEYS = (
    "severity_weights",
    "missed_checkout_weight",
    "alert_weight",
    "older_weight",
    "medium_from",
    "high_from",
    "pairs_from",
    "coords_decimals",
    "export_min_count",
)


def _number(data: dict[str, Any], key: str, default: float, *, low: float = 0.0, high: float = 1e6) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ConfigError(f"risk.{key}", f"must be a number from {low:g} to {high:g}")
    return float(value)


def _whole(data: dict[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"risk.{key}", f"must be a whole number from {low} to {high}")
    return value


def parse_risk(data: Any) -> RiskSettings:
    """Validate [risk]; every problem is one ConfigError naming the key."""
    if not isinstance(data, dict):
        raise ConfigError("risk", "must be a table")
    for key in data:
        if key not in KEYS:
            raise ConfigError(f"risk.{key}", "unknown key")
    d = RiskSettings()
    weights = data.get("severity_weights", list(d.severity_weights))
    if (
        not isinstance(weights, list)
        or len(weights) != 4
        or any(isinstance(w, bool) or not isinstance(w, int | float) or w < 0 for w in weights)
    ):
        raise ConfigError("risk.severity_weights", "must be four numbers, 0 or more (severity 1 to 4)")
    medium = _number(data, "medium_from", d.medium_from, low=0.1)
    high = _number(data, "high_from", d.high_from, low=0.1)
    if high <= medium:
        raise ConfigError("risk.high_from", "must be more than risk.medium_from")
    pairs = data.get("pairs_from", d.pairs_from)
    if pairs not in (*LEVELS[1:], "never"):
        raise ConfigError("risk.pairs_from", "must be medium, high or never")
    w = weights
    return RiskSettings(
        severity_weights=(float(w[0]), float(w[1]), float(w[2]), float(w[3])),
        missed_checkout_weight=_number(data, "missed_checkout_weight", d.missed_checkout_weight),
        alert_weight=_number(data, "alert_weight", d.alert_weight),
        older_weight=_number(data, "older_weight", d.older_weight, high=1.0),
        medium_from=medium,
        high_from=high,
        pairs_from=str(pairs),
        coords_decimals=_whole(data, "coords_decimals", d.coords_decimals, 0, 6),
        export_min_count=_whole(data, "export_min_count", d.export_min_count, 1, 1000),
    )
