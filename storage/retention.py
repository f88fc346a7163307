"""Deleting what the organisation no longer keeps. secure_delete zeroes the freed pages, and the WAL
checkpoint afterwards removes the old copies from the write-ahead log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.codes import Codes
from storage.db import Tx
from storage.incidents import STATUS
from storage.timefmt import to_db

OUTBOX_KEEP = timedelta(days=30)
RATE_LIMIT_KEEP = timedelta(days=2)


@dataclass(frozen=True)
class Purged:
    checkins: int
    alerts: int
    incidents: int
    outbox: int


async def purge(
    tx: Tx,
    now: datetime,
    *,
    checkins: timedelta,
    alerts: timedelta,
    incidents_after_close: timedelta,
    codes: Codes,
) -> Purged:
    """Closed check-ins, resolved alerts and closed incidents older than their periods; open ones stay."""
    incident_cut = to_db(now - incidents_after_close)
    closed = codes.token(STATUS, "closed")  # incidents' status is coded (storage/codes.py)
    await tx.execute(
        "DELETE FROM incident_followups WHERE incident_id IN"
        " (SELECT id FROM incidents WHERE status = ? AND updated_at < ?)",
        (closed, incident_cut),
    )
    n_incidents = await tx.execute("DELETE FROM incidents WHERE status = ? AND updated_at < ?", (closed, incident_cut))

    alert_cut = to_db(now - alerts)
    for statement in (
        "UPDATE incidents SET alert_id = NULL WHERE alert_id IN"
        " (SELECT id FROM alerts WHERE status = 'resolved' AND raised_at < ?)",
        "DELETE FROM alert_events WHERE alert_id IN"
        " (SELECT id FROM alerts WHERE status = 'resolved' AND raised_at < ?)",
        "DELETE FROM outbox WHERE alert_id IN (SELECT id FROM alerts WHERE status = 'resolved' AND raised_at < ?)",
    ):
        await tx.execute(statement, (alert_cut,))
    n_alerts = await tx.execute("DELETE FROM alerts WHERE status = 'resolved' AND raised_at < ?", (alert_cut,))

    checkin_cut = to_db(now - checkins)
    for statement in (
        "UPDATE alerts SET checkin_id = NULL WHERE checkin_id IN"
        " (SELECT id FROM checkins WHERE status = 'closed' AND closed_at < ?)",
        "UPDATE incidents SET checkin_id = NULL WHERE checkin_id IN"
        " (SELECT id FROM checkins WHERE status = 'closed' AND closed_at < ?)",
    ):
        await tx.execute(statement, (checkin_cut,))
    n_checkins = await tx.execute("DELETE FROM checkins WHERE status = 'closed' AND closed_at < ?", (checkin_cut,))

    n_outbox = await tx.execute(
        "DELETE FROM outbox WHERE status != 'pending' AND created_at < ?", (to_db(now - OUTBOX_KEEP),)
    )
    await tx.execute("DELETE FROM rate_limits WHERE window_start < ?", (to_db(now - RATE_LIMIT_KEEP),))
    return Purged(n_checkins, n_alerts, n_incidents, n_outbox)
