"""Deleting what the organisation no longer keeps. secure_delete zeroes the freed pages, and the WAL
checkpoint afterwards removes the old copies from the write-ahead log."""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.codes import Codes
from storage.db import Tx
from storage.incidents import STATUS
from storage.people import PeopleRepo
from storage.timefmt import to_db

log = logging.getLogger("outreach.retention")

RATE_LIMIT_KEEP = timedelta(days=2)

# A revoked person's row goes once none of these names it (a tombstone stays until then: see erase_revoked).
TOMBSTONE_UNUSED = """DELETE FROM people WHERE erased_at IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM checkins WHERE person_id = people.id OR partner_id = people.id)
    AND NOT EXISTS (SELECT 1 FROM alerts
                    WHERE person_id = people.id OR acknowledged_by = people.id OR resolved_by = people.id)
    AND NOT EXISTS (SELECT 1 FROM alert_events WHERE actor_id = people.id OR recipient_id = people.id)
    AND NOT EXISTS (SELECT 1 FROM outbox WHERE recipient_id = people.id)
    AND NOT EXISTS (SELECT 1 FROM incidents WHERE reporter_id = people.id)
    AND NOT EXISTS (SELECT 1 FROM incident_followups WHERE actor_id = people.id)
    AND NOT EXISTS (SELECT 1 FROM invites WHERE used_by = people.id)
    AND NOT EXISTS (SELECT 1 FROM report_drafts WHERE person_id = people.id)"""


@dataclass(frozen=True)
class Purged:
    checkins: int
    alerts: int
    incidents: int
    outbox: int
    audit: int = 0
    invites: int = 0
    people_erased: int = 0  # revoked people whose Telegram ids, chat, alias and PINs were erased
    people_deleted: int = 0  # erased people no record names any more: their row is gone too
    plans: int = 0  # security plans archived longer ago than [retention] plans_archived (active ones stay)


async def purge(
    tx: Tx,
    now: datetime,
    *,
    checkins: timedelta,
    alerts: timedelta,
    incidents_after_close: timedelta,
    audit_log: timedelta = timedelta(days=365),
    invites: timedelta = timedelta(days=30),
    outbox: timedelta = timedelta(days=30),
    revoked_people: timedelta = timedelta(days=90),
    plans_archived: timedelta = timedelta(days=365),
    people: PeopleRepo | None = None,
    codes: Codes,
) -> Purged:
    """Closed check-ins, resolved alerts and closed incidents older than their periods (open ones stay),
    then the audit log, invites, sent messages and revoked people past theirs."""
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

    # Sent or given up, never pending; a message about an alert still open stays (its location is edited
    # out of the chat when the alert closes, which needs the message).
    n_outbox = await tx.execute(
        "DELETE FROM outbox WHERE status != 'pending' AND created_at < ?"
        " AND (alert_id IS NULL OR alert_id NOT IN (SELECT id FROM alerts WHERE status != 'resolved'))",
        (to_db(now - outbox),),
    )
    await tx.execute("DELETE FROM rate_limits WHERE window_start < ?", (to_db(now - RATE_LIMIT_KEEP),))
    n_audit = await tx.execute("DELETE FROM audit_log WHERE at < ?", (to_db(now - audit_log),))
    invite_cut = to_db(now - invites)
    n_invites = await tx.execute(
        "DELETE FROM invites WHERE (used_at IS NOT NULL AND used_at < ?) OR (used_at IS NULL AND expires_at < ?)"
        " OR (cancelled_at IS NOT NULL AND cancelled_at < ?)",
        (invite_cut, invite_cut, invite_cut),
    )
    n_plans = await tx.execute(
        "DELETE FROM plans WHERE status = 'archived' AND archived_at < ?", (to_db(now - plans_archived),)
    )
    erased = deleted = 0
    if people is not None:
        erased = await people.erase_revoked(tx, now - revoked_people, now)
        deleted = await _unused_tombstones(tx)
    return Purged(n_checkins, n_alerts, n_incidents, n_outbox, n_audit, n_invites, erased, deleted, n_plans)


async def _unused_tombstones(tx: Tx) -> int:
    """Delete erased people nothing names. In a savepoint of its own: should a table added later name
    people without being listed above, only this step is undone (and said), not the whole purge."""
    await tx.execute("SAVEPOINT tombstones")
    try:
        deleted = await tx.execute(TOMBSTONE_UNUSED)
    except sqlite3.IntegrityError:
        await tx.execute("ROLLBACK TO tombstones")
        log.warning("Erased people still named by a record were kept; storage/retention.py lists where to look")
        deleted = 0
    await tx.execute("RELEASE tombstones")
    return deleted
