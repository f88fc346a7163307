"""CSV of incidents for donors and advocacy; accounts only when asked for explicitly."""

from __future__ import annotations

import csv
import io
from datetime import date

from bot.i18n import tr
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
)


# A spreadsheet runs a cell that starts with one of these as a formula (=HYPERLINK(...) would send
# the sheet's data away when clicked): such cells get a leading apostrophe, shown as text (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    """A value as a spreadsheet should show it: text, never a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _label(table: dict[str, str], code: str | None) -> str:
    return tr("en", table[code]) if code in table else (code or "")


def to_csv(incidents: list[Incident], *, with_accounts: bool) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*COLUMNS, *(("account",) if with_accounts else ())])
    for i in incidents:
        row = [
            i.ref,
            i.occurred_on.isoformat(),
            inc.week_of(i.occurred_on),
            _label(inc.CATEGORIES, i.category),
            _label(inc.AFFECTED, i.affected),
            i.place_kind or "",
            i.place or "",
            _label(inc.PERPETRATORS, i.perpetrator),
            i.severity or "",
            _label(inc.SUPPORT, i.support),
            _label(inc.AUTHORITIES, i.authorities),
            i.status,
            i.reported_at.isoformat(timespec="minutes"),
        ]
        if with_accounts:
            row.append(i.account or "")
        writer.writerow([_cell(value) for value in row])
    return out.getvalue().encode("utf-8-sig")  # the BOM lets spreadsheet programs read accents right


async def export(
    storage: Storage, org_id: str, start: date, end: date, *, with_accounts: bool, team_id: str | None = None
) -> tuple[bytes, int]:
    """Incidents whose week falls in [start, end]; returns (csv bytes, count)."""
    filters = Filters(org_id=org_id, team_id=team_id, since_week=inc.week_of(start), until_week=end.isoformat())
    async with storage.db.scan() as tx:
        rows = await storage.incidents.all(tx, filters, with_account=with_accounts)
    rows = [r for r in rows if start <= r.occurred_on <= end]
    return to_csv(rows, with_accounts=with_accounts), len(rows)
