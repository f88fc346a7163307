"""`outreach-bot risk export --geojson FILE --csv FILE`: the risk register for the organisation's own GIS or
uMap (bot/services/risk_export.py). The files name places and their weaknesses: 0600, audit-logged."""

from __future__ import annotations

import argparse
import os
from typing import Any

from bot import cli_base
from bot.failure import Fail

GROUPS = ("risk",)


def add_parser(sub: Any) -> None:
    """`risk export`."""
    parser = sub.add_parser("risk", help="export: the risk register as GeoJSON and/or CSV")
    actions = parser.add_subparsers(dest="action", required=True, metavar="{export}")
    export = actions.add_parser("export", help="write the register (counts under [risk] export_min_count hidden)")
    export.add_argument("--geojson", help="a GeoJSON file (places with coordinates)")
    export.add_argument("--csv", dest="csv_file", help="a CSV file (every place)")


def _write(path: str, data: bytes) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)  # an existing file keeps its mode through O_CREAT: set it
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
    except OSError as exc:
        raise Fail(f"cannot write {path}: {exc.strerror}") from None


async def cmd(args: argparse.Namespace) -> None:
    """Write the files asked for."""
    from bot.services.risk import places_now
    from bot.services.risk_export import csv_bytes, geojson

    if not args.geojson and not args.csv_file:
        raise Fail("risk export needs --geojson FILE and/or --csv FILE")
    async with cli_base.organization() as (storage, org, config, clock):
        places = await places_now(storage, config, org.id, clock.now())
        async with storage.db.tx() as tx:
            await storage.audit.record(
                tx, clock.now(), "risk.export:cli", org_id=org.id, actor_id=None, subject_id=None
            )
    least = config.risk.export_min_count
    if args.geojson:
        _write(args.geojson, geojson(places, least))
    if args.csv_file:
        _write(args.csv_file, csv_bytes(places, least))
    mapped = sum(p.lat is not None for p in places)
    print(f"Wrote {len(places)} places ({mapped} with coordinates); counts under {least} as 'fewer than {least}'.")
