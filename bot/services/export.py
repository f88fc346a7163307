"""CSV of incidents for donors and advocacy; accounts only when asked for explicitly.

Every time in it is in the organisation's time zone (named in the header, never mixed with UTC), and
every coded value (type, status, severity...) is a word in the reader's language."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, tzinfo

from bot.i18n import N_, tr
from bot.services import incidents as inc
from storage import Storage
from storage.incidents import Filters, Incident

COLUMNS = (
    "reference",
    "date",
    "week",
    "category",
    "affected",
    "place_type",
    "place",
    "perpetrator",
    "severity",
    "support_needed",
    "told_authorities",
    "status",
    "reported_at",
    "reporter",
)


PLACE_TYPES = {**inc.PLACE_KINDS, "hotspot": N_("Outreach place")}  # a check-in's place is one of the list

# A spreadsheet runs a cell that starts with one of these as a formula (=HYPERLINK(...) would send
# the sheet's data away when clicked): such cells get a leading apostrophe, shown as text (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    """A value as a spreadsheet should show it: text, never a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _label(locale: str, table: dict[str, str], code: str | None) -> str:
    return tr(locale, table[code]) if code in table else (code or "")


def header(tz: tzinfo, *, with_accounts: bool) -> list[str]:
    """Column names; the reporting time's column says its zone."""
    names = [f"reported_at ({tz})" if c == "reported_at" else c for c in COLUMNS]
    return [*names, *(("account",) if with_accounts else ())]


def to_csv(
    incidents: list[Incident],
    *,
    with_accounts: bool,
    locale: str = "en",
    tz: tzinfo = UTC,
    reporters: dict[str, str] | None = None,
) -> bytes:
    """The rows as CSV bytes; `reporters` maps a reporter's id to their code (W-7KQ2)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header(tz, with_accounts=with_accounts))
    codes = reporters or {}
    for i in incidents:
        row = [
            i.ref,
            i.occurred_on.isoformat(),
            inc.week_of(i.occurred_on),
            _label(locale, inc.CATEGORIES, i.category),
            _label(locale, inc.AFFECTED, i.affected),
            _label(locale, PLACE_TYPES, i.place_kind),
            i.place or "",
            _label(locale, inc.PERPETRATORS, i.perpetrator),
            _label(locale, inc.SEVERITY_LEVELS, str(i.severity) if i.severity else None),
            _label(locale, inc.SUPPORT, i.support),
            _label(locale, inc.AUTHORITIES, i.authorities),
            _label(locale, inc.FOLLOWUP, i.status),
            i.reported_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
            codes.get(i.reporter_id, ""),
        ]
        if with_accounts:
            row.append(i.account or "")
        writer.writerow([_cell(value) for value in row])
    return out.getvalue().encode("utf-8-sig")  # the BOM lets spreadsheet programs read accents right


async def export(
    storage: Storage,
    org_id: str,
    start: date,
    end: date,
    *,
    with_accounts: bool,
    team_id: str | None = None,
    locale: str = "en",
    tz: tzinfo = UTC,
) -> tuple[bytes, int]:
    """Incidents whose date falls in [start, end]; returns (csv bytes, count)."""
    filters = Filters(org_id=org_id, team_id=team_id, since_week=inc.week_of(start), until_week=end.isoformat())
    async with storage.db.scan() as tx:
        rows = await storage.incidents.all(tx, filters, with_account=with_accounts)
        rows = [r for r in rows if start <= r.occurred_on <= end]
        people = await storage.people.get_many(tx, [r.reporter_id for r in rows])
    reporters = {pid: p.code for pid, p in people.items()}
    return to_csv(rows, with_accounts=with_accounts, locale=locale, tz=tz, reporters=reporters), len(rows)
