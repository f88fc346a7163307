"""What risk by place is computed from, read in bulk, and the computed levels, kept sealed.

The events are read with their routing ids and access MAC first (storage/integrity.py): an incident or
alert edited without the key counts for no place, as it counts in no summary. The levels are ONE sealed
value per organisation (like org_lists): a copy shows neither the places nor how many are at risk."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from storage.alerts import KIND as ALERT_KIND
from storage.codes import Codes
from storage.db import Tx
from storage.incidents import MACED, PLACE_KIND, SEVERITY
from storage.integrity import Authenticator
from storage.sealing import Sealer
from storage.timefmt import from_db, to_db

ALERT_MACED = "a.id, a.org_id, a.person_id, a.team_id, a.checkin_id, a.access_mac"


@dataclass(frozen=True)
class Event:
    """One thing that happened at a place: an incident (severity 1-4 or None), a missed check-out or an
    alert. `place` is the place key (the keyed digest incidents carry)."""

    place: str
    kind: str  # "incident", "missed", "alert"
    at: datetime
    team_id: str | None
    severity: int | None = None
    place_kind: str | None = None


class Change(NamedTuple):
    """A place's level changed on `day` (ISO date): sealed with the levels, never in clear."""

    day: str
    place: str
    before: str
    after: str


class RiskRepo:
    def __init__(self, sealer: Sealer, codes: Codes, auth: Authenticator) -> None:
        self._s = sealer
        self._c = codes
        self._auth = auth
        # org id -> (fingerprint, when) of the last computation by this process (bot/services/risk.py)
        self.computed: dict[str, tuple[tuple[object, ...], datetime]] = {}

    def place_key(self, name: str) -> str:
        """The key of a place's name: the one incidents carry (storage/incidents.py)."""
        return self._s.lookup("place", name.casefold())

    async def events(self, tx: Tx, org_id: str, since: datetime) -> list[Event]:
        """Incidents (by when they were reported) and alerts at a check-in's place since `since`."""
        rows = await tx.all(
            f"SELECT {MACED}, place_key, severity, place_kind, reported_at FROM incidents"
            " WHERE org_id = ? AND reported_at >= ? AND place_key IS NOT NULL",
            (org_id, to_db(since)),
        )
        severity, kind = self._c.decoder(SEVERITY), self._c.decoder(PLACE_KIND)
        events = [
            Event(r[7], "incident", from_db(r[10]), r[3], int(s) if (s := severity(r[8])) else None, kind(r[9]))
            for r in rows
            if self._auth.leading_intact("incidents", r)
        ]
        drill, missed = self._c.token(ALERT_KIND, "drill"), self._c.token(ALERT_KIND, "missed_checkout")
        rows = await tx.all(
            f"SELECT {ALERT_MACED}, a.kind, a.raised_at, c.id, c.place_sealed FROM alerts a"
            " JOIN checkins c ON c.id = a.checkin_id WHERE a.org_id = ? AND a.raised_at >= ? AND a.kind != ?",
            (org_id, to_db(since), drill),
        )
        for r in rows:
            if not self._auth.leading_intact("alerts", r):
                continue
            place = self._s.open(r[9], "checkins", "place", r[8])
            what = "missed" if r[6] == missed else "alert"
            events.append(Event(self.place_key(place), what, from_db(r[7]), r[3]))
        return events

    async def state(self, tx: Tx, org_id: str) -> dict[str, str]:
        """The levels last computed, by place key ({} before the first computation)."""
        return (await self._stored(tx, org_id))[0]

    async def changes(self, tx: Tx, org_id: str) -> list[Change]:
        """The recent changes of level (day, place, before, after), oldest first (for the weekly summary)."""
        return (await self._stored(tx, org_id))[1]

    async def _stored(self, tx: Tx, org_id: str) -> tuple[dict[str, str], list[Change]]:
        row = await tx.one("SELECT state_sealed FROM place_risk WHERE org_id = ?", (org_id,))
        if row is None:
            return {}, []
        found = json.loads(self._s.open(row["state_sealed"], "place_risk", "state", org_id))
        if "levels" not in found:  # as first stored: the levels alone
            return dict(found), []
        return dict(found["levels"]), [Change(*c) for c in found["changes"]]

    async def put_state(
        self, tx: Tx, org_id: str, levels: dict[str, str], now: datetime, changes: list[Change] | None = None
    ) -> None:
        """Store the levels in place of the ones before (places back to "low" are left out), with the
        recent changes of level."""
        kept = {k: v for k, v in sorted(levels.items()) if v != "low"}
        text = json.dumps({"levels": kept, "changes": [list(c) for c in changes or []]})
        text += " " * (-len(text) % 1024)  # the length says "under 1 KiB", "under 2 KiB"...
        await tx.execute(
            "INSERT INTO place_risk (org_id, state_sealed, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (org_id) DO UPDATE SET state_sealed = excluded.state_sealed,"
            " updated_at = excluded.updated_at",
            (org_id, self._s.seal(text, "place_risk", "state", org_id), to_db(now)),
        )

    async def fingerprint(self, tx: Tx, org_id: str) -> tuple[object, ...]:
        """What changes when an incident or alert comes in (or goes): two indexed-size counts."""
        a = await tx.one("SELECT count(*), max(reported_at) FROM incidents WHERE org_id = ?", (org_id,))
        b = await tx.one("SELECT count(*), max(raised_at) FROM alerts WHERE org_id = ?", (org_id,))
        return (tuple(a) if a else (), tuple(b) if b else ())
