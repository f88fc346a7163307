"""Incident reports, their follow-ups, and reports left half-way (drafts). Accounts, typed places and
dates are sealed; category, who was affected, place kind, perpetrator, severity, support, authorities and
statuses are coded (keyed tokens, storage/codes.py), so that summaries count them with SQL and a dict
look-up, no decryption; the week stays clear."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from storage.codes import Codes
from storage.db import Row, Tx
from storage.ids import CODE_ALPHABET, new_id
from storage.integrity import INCIDENT_COLUMNS, Authenticator
from storage.sealing import Sealer
from storage.timefmt import from_db, to_db

# The coded columns, each with the name its tokens are made for.
CATEGORY, AFFECTED, PLACE_KIND, PERPETRATOR = (
    "incidents.category",
    "incidents.affected",
    "incidents.place_kind",
    "incidents.perpetrator",
)
SEVERITY, SUPPORT, AUTHORITIES, STATUS = (
    "incidents.severity",
    "incidents.support",
    "incidents.authorities",
    "incidents.status",
)
FOLLOWUP_STATUS = "incident_followups.status"
OPEN_STATUSES = ("open", "support_given", "referred", "legal_action")


@dataclass(frozen=True)
class Incident:
    id: str
    org_id: str
    ref: str
    reporter_id: str
    team_id: str | None
    category: str
    affected: str | None
    occurred_on: date
    place_kind: str | None
    place: str | None
    perpetrator: str | None
    severity: int | None
    account: str | None
    support: str | None
    authorities: str | None
    status: str
    checkin_id: str | None
    alert_id: str | None
    reported_at: datetime
    intact: bool = True  # the routing ids are as the key wrote them (storage/integrity.py)


@dataclass(frozen=True)
class StatRow:
    """What summaries count: nothing sealed."""

    category: str
    severity: int | None
    place_key: str | None
    perpetrator: str | None
    week: str
    status: str


@dataclass(frozen=True)
class Followup:
    at: datetime
    actor_id: str | None
    status: str
    note: str | None


@dataclass(frozen=True)
class Filters:
    org_id: str
    team_id: str | None = None
    reporter_id: str | None = None
    since_week: str | None = None
    until_week: str | None = None
    category: str | None = None
    place_key: str | None = None

    def where(self, codes: Codes) -> tuple[str, list[Any]]:
        clauses, params = ["org_id = ?"], [self.org_id]
        category = None if self.category is None else codes.token(CATEGORY, self.category)
        for column, value, op in (
            ("team_id", self.team_id, "="),
            ("reporter_id", self.reporter_id, "="),
            ("occurred_week", self.since_week, ">="),
            ("occurred_week", self.until_week, "<="),
            ("category", category, "="),
            ("place_key", self.place_key, "="),
        ):
            if value is not None:
                clauses.append(f"{column} {op} ?")
                params.append(value)
        return " AND ".join(clauses), params


# The routing ids and their MAC, first in every bulk read, so that each row is checked before it counts.
MACED = "id, org_id, reporter_id, team_id, checkin_id, alert_id, access_mac"


class IncidentRepo:
    """Organisation, reporter, team, check-in and alert of an incident carry a keyed MAC
    (storage/integrity.py). An incident edited without the key is found by nobody: not by reference,
    not on a timeline page, in an export or in a summary's counts."""

    def __init__(self, sealer: Sealer, codes: Codes, auth: Authenticator | None = None) -> None:
        self._s = sealer
        self._c = codes
        self._auth = auth or Authenticator(sealer)

    def _ok(self, r: Row) -> bool:
        """Whether a whole row (SELECT *) is as the key wrote it (warned about once if not)."""
        return self._auth.row_intact("incidents", r)

    def _ok_lead(self, r: Row) -> bool:
        """The same for a row read with MACED first (by position: faster over thousands)."""
        return self._auth.leading_intact("incidents", r)

    def place_key(self, place: str) -> str:
        return self._s.lookup("place", place.casefold())

    def _incident(self, r: Row, *, with_account: bool = True) -> Incident:
        i, v = r["id"], self._c.value
        return Incident(
            id=i,
            org_id=r["org_id"],
            ref=r["ref"],
            reporter_id=r["reporter_id"],
            team_id=r["team_id"],
            category=v(CATEGORY, r["category"]) or "",
            affected=v(AFFECTED, r["affected"]),
            occurred_on=date.fromisoformat(self._s.open(r["occurred_sealed"], "incidents", "occurred", i)),
            place_kind=v(PLACE_KIND, r["place_kind"]),
            place=self._s.open_opt(r["place_sealed"], "incidents", "place", i),
            perpetrator=v(PERPETRATOR, r["perpetrator"]),
            severity=self._c.number(SEVERITY, r["severity"]),
            account=self._s.open_opt(r["account_sealed"], "incidents", "account", i) if with_account else None,
            support=v(SUPPORT, r["support"]),
            authorities=v(AUTHORITIES, r["authorities"]),
            status=v(STATUS, r["status"]) or "",
            checkin_id=r["checkin_id"],
            alert_id=r["alert_id"],
            reported_at=from_db(r["reported_at"]),
        )

    async def create(
        self,
        tx: Tx,
        *,
        org_id: str,
        reporter_id: str,
        team_id: str | None,
        fields: dict[str, Any],
        occurred_on: date,
        week: str,
        now: datetime,
    ) -> Incident:
        incident_id = new_id()
        for _ in range(50):
            ref = "R-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(5))
            if await tx.one("SELECT 1 FROM incidents WHERE org_id = ? AND ref = ?", (org_id, ref)) is None:
                break
        else:
            raise RuntimeError("no free incident reference")
        place = fields.get("place")
        put = self._c.put
        ids = dict(zip(INCIDENT_COLUMNS, (incident_id, org_id, reporter_id, team_id), strict=False))
        ids |= {"checkin_id": fields.get("checkin_id"), "alert_id": fields.get("alert_id")}
        await tx.execute(
            """INSERT INTO incidents (id, org_id, ref, reporter_id, team_id, category, affected, occurred_week,
                   occurred_sealed, place_kind, place_key, place_sealed, perpetrator, severity, account_sealed,
                   support, authorities, status, checkin_id, alert_id, reported_at, updated_at, access_mac)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                incident_id,
                org_id,
                ref,
                reporter_id,
                team_id,
                await put(tx, CATEGORY, fields["category"]),
                await put(tx, AFFECTED, fields.get("affected")),
                week,
                self._s.seal(occurred_on.isoformat(), "incidents", "occurred", incident_id),
                await put(tx, PLACE_KIND, fields.get("place_kind")),
                self.place_key(place) if place else None,
                self._s.seal_opt(place, "incidents", "place", incident_id),
                await put(tx, PERPETRATOR, fields.get("perpetrator")),
                await put(tx, SEVERITY, fields.get("severity")),
                self._s.seal_opt(fields.get("account"), "incidents", "account", incident_id),
                await put(tx, SUPPORT, fields.get("support")),
                await put(tx, AUTHORITIES, fields.get("authorities")),
                await put(tx, STATUS, "open"),
                fields.get("checkin_id"),
                fields.get("alert_id"),
                to_db(now),
                to_db(now),
                self._auth.row_mac("incidents", ids),
            ),
        )
        row = await tx.one("SELECT * FROM incidents WHERE id = ?", (incident_id,))
        assert row is not None
        return self._incident(row)

    async def ref_of_alert(self, tx: Tx, alert_id: str) -> str | None:
        """The reference of the report that raised (or is linked to) this alert."""
        row = await tx.one("SELECT ref FROM incidents WHERE alert_id = ? ORDER BY reported_at LIMIT 1", (alert_id,))
        return None if row is None else str(row["ref"])

    async def by_ref(self, tx: Tx, org_id: str, ref: str) -> Incident | None:
        row = await tx.one("SELECT * FROM incidents WHERE org_id = ? AND ref = ?", (org_id, ref.upper()))
        return None if row is None or not self._ok(row) else self._incident(row)

    async def page(self, tx: Tx, filters: Filters, offset: int, limit: int) -> tuple[list[Incident], int]:
        where, params = filters.where(self._c)
        if filters.team_id is not None or filters.reporter_id is not None:
            return await self._checked_page(tx, where, params, offset, limit)
        total = await tx.one(f"SELECT count(*) FROM incidents WHERE {where}", tuple(params))
        rows = await tx.all(
            f"SELECT * FROM incidents WHERE {where} ORDER BY occurred_week DESC, reported_at DESC LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        # Organisation-wide (managers): the total is SQL's count, so that a page of 100,000 stays fast; an
        # edited row on this page is left out, and counted in the total only (see README).
        return [self._incident(r, with_account=False) for r in rows if self._ok(r)], int(total[0]) if total else 0

    async def _checked_page(
        self, tx: Tx, where: str, params: list[Any], offset: int, limit: int
    ) -> tuple[list[Incident], int]:
        """A team's or a reporter's page: every row of the choice is checked, so that a row edited into
        this team (or out of it) neither shows nor counts."""
        order = "ORDER BY occurred_week DESC, reported_at DESC"
        rows = await tx.all(f"SELECT {MACED} FROM incidents WHERE {where} {order}", tuple(params))
        ids = [r[0] for r in rows if self._ok_lead(r)]
        chosen = ids[offset : offset + limit]
        marks = ", ".join("?" for _ in chosen)  # placeholders only: the ids go in as parameters
        found = {r["id"]: r for r in await tx.all(f"SELECT * FROM incidents WHERE id IN ({marks})", tuple(chosen))}
        return [self._incident(found[i], with_account=False) for i in chosen if i in found], len(ids)

    async def all(self, tx: Tx, filters: Filters, *, with_account: bool) -> list[Incident]:
        where, params = filters.where(self._c)
        rows = await tx.all(
            f"SELECT * FROM incidents WHERE {where} ORDER BY occurred_week, reported_at",
            tuple(params),
        )
        return [self._incident(r, with_account=with_account) for r in rows if self._ok(r)]

    async def stats(self, tx: Tx, filters: Filters) -> list[StatRow]:
        where, params = filters.where(self._c)
        rows = await tx.all(
            f"SELECT {MACED}, category, severity, place_key, perpetrator, occurred_week, status FROM incidents"
            f" WHERE {where}",
            tuple(params),
        )
        kept = [r[7:] for r in rows if self._ok_lead(r)]  # an edited row counts for no team and no organisation
        # Tokens back to values by dict look-ups: over 100,000 rows this is what keeps the summary fast.
        category, perpetrator, status = (self._c.decoder(c) for c in (CATEGORY, PERPETRATOR, STATUS))
        severity = self._c.decoder(SEVERITY)
        return [
            StatRow(
                category(r[0]) or "",
                int(sev) if (sev := severity(r[1])) else None,
                r[2],
                perpetrator(r[3]),
                r[4],
                status(r[5]) or "",
            )
            for r in kept
        ]

    async def place_names(self, tx: Tx, org_id: str, keys: list[str]) -> dict[str, str]:
        """One readable name per place key (opened from any one incident with that place)."""
        names = {}
        for key in keys:
            row = await tx.one(
                "SELECT id, place_sealed FROM incidents WHERE org_id = ? AND place_key = ? LIMIT 1", (org_id, key)
            )
            if row is not None and row["place_sealed"] is not None:
                names[key] = self._s.open(row["place_sealed"], "incidents", "place", row["id"])
        return names

    async def open_followups(self, tx: Tx, org_id: str, team_id: str | None = None) -> int:
        row = await tx.one(
            "SELECT count(*) FROM incidents WHERE org_id = ? AND status IN (?, ?, ?, ?) AND (? IS NULL OR team_id = ?)",
            (org_id, *(self._c.token(STATUS, s) for s in OPEN_STATUSES), team_id, team_id),
        )
        return int(row[0]) if row else 0

    async def set_status(
        self, tx: Tx, incident_id: str, status: str, actor_id: str, note: str | None, now: datetime
    ) -> None:
        await tx.execute(
            "UPDATE incidents SET status = ?, updated_at = ? WHERE id = ?",
            (await self._c.put(tx, STATUS, status), to_db(now), incident_id),
        )
        followup_id = await tx.insert(
            "INSERT INTO incident_followups (incident_id, at, actor_id, status) VALUES (?, ?, ?, ?)",
            (incident_id, to_db(now), actor_id, await self._c.put(tx, FOLLOWUP_STATUS, status)),
        )
        if note:
            await tx.execute(
                "UPDATE incident_followups SET note_sealed = ? WHERE id = ?",
                (self._s.seal(note, "incident_followups", "note", str(followup_id)), followup_id),
            )

    async def followups(self, tx: Tx, incident_id: str) -> list[Followup]:
        rows = await tx.all(
            "SELECT id, at, actor_id, status, note_sealed FROM incident_followups WHERE incident_id = ? ORDER BY id",
            (incident_id,),
        )
        return [
            Followup(
                from_db(r["at"]),
                r["actor_id"],
                self._c.value(FOLLOWUP_STATUS, r["status"]) or "",
                self._s.open_opt(r["note_sealed"], "incident_followups", "note", str(r["id"])),
            )
            for r in rows
        ]

    # -- drafts -----------------------------------------------------------------------------
    async def draft(self, tx: Tx, person_id: str) -> dict[str, Any] | None:
        row = await tx.one("SELECT data_sealed FROM report_drafts WHERE person_id = ?", (person_id,))
        if row is None:
            return None
        return dict(json.loads(self._s.open(row["data_sealed"], "report_drafts", "data", person_id)))

    async def save_draft(self, tx: Tx, person_id: str, data: dict[str, Any], now: datetime) -> None:
        sealed = self._s.seal(json.dumps(data), "report_drafts", "data", person_id)
        await tx.execute(
            """INSERT INTO report_drafts (person_id, data_sealed, started_at, updated_at) VALUES (?, ?, ?, ?)
               ON CONFLICT (person_id) DO UPDATE SET data_sealed = excluded.data_sealed,
                   updated_at = excluded.updated_at""",
            (person_id, sealed, to_db(now), to_db(now)),
        )

    async def drop_draft(self, tx: Tx, person_id: str) -> None:
        await tx.execute("DELETE FROM report_drafts WHERE person_id = ?", (person_id,))

    async def drafts_to_remind(self, tx: Tx, before: datetime) -> list[str]:
        rows = await tx.all(
            "SELECT person_id FROM report_drafts WHERE reminded_at IS NULL AND started_at <= ?", (to_db(before),)
        )
        return [r[0] for r in rows]

    async def mark_reminded(self, tx: Tx, person_id: str, now: datetime) -> None:
        await tx.execute("UPDATE report_drafts SET reminded_at = ? WHERE person_id = ?", (to_db(now), person_id))

    async def drafts_expired(self, tx: Tx, before: datetime) -> list[tuple[str, str]]:
        rows = await tx.all("SELECT person_id, started_at FROM report_drafts WHERE started_at <= ?", (to_db(before),))
        return [(r[0], r[1]) for r in rows]
