"""`outreach-bot places set-coords NAME LAT LON` and `outreach-bot risk export`: coordinates outside the
world and unknown places get one line and change nothing; the export files are 0600 and hide small counts."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from tests.test_lists import _cli, _install


def test_set_coords_bad_input_and_export(tmp_path: Path) -> None:
    env = _install(tmp_path)
    assert _cli(env, "init").returncode == 0
    assert _cli(env, "places", "add", "Mercado Sur", "--kind", "street").returncode == 0
    done = _cli(env, "places", "set-coords", "mercado sur", "14.6349", "-90.5069")
    assert done.returncode == 0 and done.stdout.startswith("Coordinates set."), done.stderr
    assert "Mercado Sur · street · risk medium · 14.6349, -90.5069" in _cli(env, "places", "list").stdout
    for args in (("Mercado Sur", "91", "0"), ("Mercado Sur", "0", "-180.5"), ("Mercado Sur", "north", "0")):
        bad = _cli(env, "places", "set-coords", *args)
        assert bad.returncode != 0 and "Traceback" not in bad.stderr
        assert len(bad.stderr.strip().splitlines()) == 1 and "outside the world" in bad.stderr
    unknown = _cli(env, "places", "set-coords", "Nowhere", "1", "1")
    assert (
        unknown.returncode != 0 and "no such place" in unknown.stderr and len(unknown.stderr.strip().splitlines()) == 1
    )
    assert "14.6349, -90.5069" in _cli(env, "places", "list").stdout  # nothing changed

    out_json, out_csv = tmp_path / "risk.geojson", tmp_path / "risk.csv"
    out_csv.write_text("old")
    out_csv.chmod(0o644)
    done = _cli(env, "risk", "export", "--geojson", str(out_json), "--csv", str(out_csv))
    assert done.returncode == 0, done.stderr
    for path in (out_json, out_csv):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    [feature] = json.loads(out_json.read_text())["features"]
    assert feature["properties"]["name"] == "Mercado Sur" and feature["geometry"]["coordinates"] == [-90.5069, 14.6349]
    assert out_csv.read_text().splitlines()[0].startswith("name,level,computed_level")
    assert _cli(env, "risk", "export").returncode != 0  # neither file asked for: one line
