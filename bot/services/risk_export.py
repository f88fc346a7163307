"""The risk register as files for the organisation's own GIS or uMap: GeoJSON (places with coordinates) and
CSV (every place). A count under [risk] export_min_count is written "fewer than N": a file that leaves
the office must not let a reader single out the one incident at a small place."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from bot.services.risk import PlaceRisk

COLUMNS = (
    "name",
    "level",
    "computed_level",
    "set_level",
    "incidents_30d",
    "critical_30d",
    "incidents_90d",
    "trend",
    "lat",
    "lon",
)


def shown(count: int, least: int) -> int | str:
    """A count, or "fewer than N" under the threshold (0 stays 0: nothing happened is not identifying)."""
    return count if count == 0 or count >= least else f"fewer than {least}"


def _row(p: PlaceRisk, least: int) -> dict[str, Any]:
    return {
        "name": p.name,
        "level": p.shown,
        "computed_level": p.level,
        "set_level": p.set_level or "",
        "incidents_30d": shown(p.incidents30, least),
        "critical_30d": shown(p.critical30, least),
        "incidents_90d": shown(p.incidents90, least),
        "trend": p.trend,
        "lat": p.lat,
        "lon": p.lon,
    }


def geojson(places: list[PlaceRisk], least: int) -> bytes:
    """A FeatureCollection of Points ([lon, lat], as GeoJSON orders them) for the places with coordinates."""
    features = []
    for p in places:
        if p.lat is None or p.lon is None:
            continue
        props = {k: v for k, v in _row(p, least).items() if k not in ("lat", "lon")}
        features.append(
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]}, "properties": props}
        )
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False, indent=1).encode()


def csv_bytes(places: list[PlaceRisk], least: int) -> bytes:
    """Every place, one row each; coordinates blank where there are none."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    for p in places:
        writer.writerow({k: "" if v is None else v for k, v in _row(p, least).items()})
    return out.getvalue().encode("utf-8")
