"""Re-sealing every sealed value (and recomputing every keyed look-up digest) under a new key.

Safe to interrupt: each row says by its key id whether it is done, so a second run only does the rest.
Coded columns (storage/codes.py) get their tokens under the new key last; a token says by the code row
it has whether it is done, and the old key's code rows go when every column is done.
Run it with the bot stopped: look-ups made with the old key would miss rows already moved.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from storage.codes import Codes
from storage.db import Database
from storage.integrity import rekey
from storage.sealing import Sealer

BATCH = 500


@dataclass(frozen=True)
class SealedTable:
    table: str
    key: str  # the column whose value is bound into every sealed value of the row
    columns: dict[str, str]  # database column -> name bound into the sealed value
    digests: Callable[[Sealer, dict[str, str | None]], dict[str, str]] | None = None


def _people(s: Sealer, v: dict[str, str | None]) -> dict[str, str]:
    return {"tg_user_hmac": s.lookup("tg_user", v["tg_user_sealed"] or "")}


def _teams(s: Sealer, v: dict[str, str | None]) -> dict[str, str]:
    return {"name_hmac": s.lookup("team", (v["name_sealed"] or "").casefold())}


def _incidents(s: Sealer, v: dict[str, str | None]) -> dict[str, str]:
    place = v["place_sealed"]
    return {"place_key": s.lookup("place", place.casefold())} if place else {}


def _plans(s: Sealer, v: dict[str, str | None]) -> dict[str, str]:
    # The place is inside the plan's sealed JSON (storage/plans.py).
    place = json.loads(v["data_sealed"] or "{}").get("place")
    return {"place_key": s.lookup("place", place.casefold())} if place else {}


TABLES = (
    SealedTable("organizations", "id", {"name_sealed": "name"}),
    SealedTable("teams", "id", {"name_sealed": "name"}, _teams),
    SealedTable(
        "people",
        "id",
        {
            "alias_sealed": "alias",
            "tg_user_sealed": "tg_user",
            "tg_chat_sealed": "tg_chat",
            "pin_safe": "pin_safe",
            "pin_duress": "pin_duress",
        },
        _people,
    ),
    SealedTable("meta", "key", {"value_sealed": "value"}),
    SealedTable("checkins", "id", {"place_sealed": "place", "location_sealed": "location"}),
    SealedTable("outbox", "dedupe_key", {"params_sealed": "params"}),
    SealedTable(
        "incidents",
        "id",
        {"occurred_sealed": "occurred", "place_sealed": "place", "account_sealed": "account"},
        _incidents,
    ),
    SealedTable("incident_followups", "id", {"note_sealed": "note"}),
    SealedTable("report_drafts", "person_id", {"data_sealed": "data"}),
    SealedTable("conversations", "person_id", {"state_sealed": "state"}),
    SealedTable("org_lists", "org_id", {"lists_sealed": "lists"}),
    SealedTable("plans", "id", {"data_sealed": "data"}, _plans),
    SealedTable("place_risk", "org_id", {"state_sealed": "state"}),
)


async def rotate(db: Database, sealer: Sealer, *, stop_after: int | None = None) -> tuple[int, int]:
    """Re-seal rows not yet under `sealer`'s key (which must also hold the old key); returns (done, left).

    `stop_after` stops after that many rows, as an interruption would (used by the tests)."""
    moved = 0
    for spec in TABLES:
        cols = list(spec.columns)
        while True:
            async with db.scan() as tx:
                rows = await tx.all(f"SELECT {spec.key}, {', '.join(cols)} FROM {spec.table}")
            todo = [r for r in rows if any(r[c] is not None and bytes(r[c][1:5]) != sealer.key_id for c in cols)]
            if not todo:
                break
            async with db.tx() as tx:
                for row in todo[:BATCH]:
                    row_key = str(row[spec.key])
                    plain = {c: sealer.open_opt(row[c], spec.table, name, row_key) for c, name in spec.columns.items()}
                    values: dict[str, object] = {
                        c: sealer.seal_opt(v, spec.table, spec.columns[c], row_key) for c, v in plain.items()
                    }
                    if spec.digests is not None:
                        values |= spec.digests(sealer, plain)
                    assignments = ", ".join(f"{c} = ?" for c in values)
                    await tx.execute(
                        f"UPDATE {spec.table} SET {assignments} WHERE {spec.key} = ?",
                        (*values.values(), row[spec.key]),
                    )
                    moved += 1
                    if stop_after is not None and moved >= stop_after:
                        return moved, -1
    codes = Codes(sealer, db)
    await codes.load()
    recoded, finished = await codes.recode(stop_after=None if stop_after is None else stop_after - moved)
    moved += recoded
    if not finished:
        return moved, -1
    # The access MACs last: they cover no sealed or coded column, so they need nothing of the passes above.
    macs, stopped = await rekey(db, sealer, stop_after=None if stop_after is None else stop_after - moved)
    return moved + macs, -1 if stopped else 0
