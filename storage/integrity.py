"""Keyed MACs over the columns that decide access: a row edited without the key stops counting.

Without the key anyone holding the database file could run `UPDATE people SET role = 'manager'`, move a
supervisor to another team, or mint an invite for an admin. Each such row carries `access_mac`: the key
id (4 bytes, as sealed values carry, so a rotation can tell which key made it) and an HMAC-SHA256, under
a key of its own derived from the master key, over the row's access columns, each length-prefixed so
that no value can borrow bytes from its neighbour. The Telegram-id digest is checked another way (see
`person_intact`): it must be the keyed digest of the sealed Telegram id, which is itself bound to the row.
A team's name digest likewise (`team_intact`): `invite --team north` finds a team by it, so swapping two
teams' digests would enrol a new supervisor in the other team. (Digests are kept out of the MACs because a
key rotation recomputes them in its sealing pass, before the MACs are made anew.)
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Sequence

from storage.db import Database, Row
from storage.sealing import Sealer, SealError

log = logging.getLogger("outreach.integrity")

PURPOSE = b"access"
BACKFILLED = "access_macs"  # the meta key saying every row written before MACs existed has one now
ROWS_BACKFILLED = "row_macs"  # the same for check-ins, alerts and incidents (their MACs came later)
PERSON_COLUMNS = ("id", "org_id", "team_id", "role", "status", "code")
INVITE_COLUMNS = ("id", "org_id", "team_id", "role", "code_hash", "expires_at", "used_at")
TEAM_COLUMNS = ("id", "org_id")  # and name_hmac, checked against the sealed name (team_intact)
TEAMS_BACKFILLED = "teams_macs"  # as BACKFILLED, for teams (their MACs came later)
# A cancel is authenticated too, but only once there is one: the MACs made before the column existed still
# check, and a cancelled invite whose `cancelled_at` is cleared without the key no longer does.
INVITE_CANCELLED = "cancelled_at"
# Rows that carry a team and an organisation themselves: who is told of them, who may see or act on them.
CHECKIN_COLUMNS = ("id", "org_id", "person_id", "team_id", "partner_id")
ALERT_COLUMNS = ("id", "org_id", "person_id", "team_id", "checkin_id")
INCIDENT_COLUMNS = ("id", "org_id", "reporter_id", "team_id", "checkin_id", "alert_id")
ROW_COLUMNS = {"checkins": CHECKIN_COLUMNS, "alerts": ALERT_COLUMNS, "incidents": INCIDENT_COLUMNS}
BATCH = 500
REKEYED = (  # written out: no SQL is built from names
    (
        "people",
        PERSON_COLUMNS,
        "SELECT * FROM people WHERE access_mac IS NOT NULL",
        "UPDATE people SET access_mac = ? WHERE id = ?",
    ),
    (
        "invites",
        INVITE_COLUMNS,
        "SELECT * FROM invites WHERE access_mac IS NOT NULL",
        "UPDATE invites SET access_mac = ? WHERE id = ?",
    ),
    (
        "teams",
        TEAM_COLUMNS,
        "SELECT * FROM teams WHERE access_mac IS NOT NULL",
        "UPDATE teams SET access_mac = ? WHERE id = ?",
    ),
    (
        "checkins",
        CHECKIN_COLUMNS,
        "SELECT id, org_id, person_id, team_id, partner_id, access_mac FROM checkins WHERE access_mac IS NOT NULL",
        "UPDATE checkins SET access_mac = ? WHERE id = ?",
    ),
    (
        "alerts",
        ALERT_COLUMNS,
        "SELECT id, org_id, person_id, team_id, checkin_id, access_mac FROM alerts WHERE access_mac IS NOT NULL",
        "UPDATE alerts SET access_mac = ? WHERE id = ?",
    ),
    (
        "incidents",
        INCIDENT_COLUMNS,
        "SELECT id, org_id, reporter_id, team_id, checkin_id, alert_id, access_mac FROM incidents"
        " WHERE access_mac IS NOT NULL",
        "UPDATE incidents SET access_mac = ? WHERE id = ?",
    ),
)
# Rows written before their table had MACs (storage.integrity.backfill gives them one, once).
ROWS_UNMACED = (
    (
        "checkins",
        "SELECT id, org_id, person_id, team_id, partner_id FROM checkins WHERE access_mac IS NULL",
        "UPDATE checkins SET access_mac = ? WHERE id = ?",
    ),
    (
        "alerts",
        "SELECT id, org_id, person_id, team_id, checkin_id FROM alerts WHERE access_mac IS NULL",
        "UPDATE alerts SET access_mac = ? WHERE id = ?",
    ),
    (
        "incidents",
        "SELECT id, org_id, reporter_id, team_id, checkin_id, alert_id FROM incidents WHERE access_mac IS NULL",
        "UPDATE incidents SET access_mac = ? WHERE id = ?",
    ),
)


def encode(table: str, fields: Sequence[str | None]) -> bytes:
    """Table name, then each field as absent (0) or present (1) with its length: unambiguous."""
    out = [b"outreach-bot access v1\x00", table.encode(), b"\x00"]
    for field in fields:
        if field is None:
            out.append(b"\x00")
        else:
            data = str(field).encode("utf-8")
            out += (b"\x01", len(data).to_bytes(4, "big"), data)
    return b"".join(out)


class Authenticator:
    """Makes and checks access MACs under the sealer's current key (and, during a rotation, old ones)."""

    def __init__(self, sealer: Sealer) -> None:
        self._keys = sealer.derived_by_id(PURPOSE)
        self.key_id = sealer.key_id
        self._warned: set[tuple[str, str]] = set()

    def mac(self, table: str, fields: Sequence[str | None]) -> bytes:
        key = self._keys.get(self.key_id)
        if key is None:  # the sealer forgot its keys (a shred): nothing may be written as if authentic
            raise SealError("the key was destroyed")
        return self.key_id + hmac.new(key, encode(table, fields), hashlib.sha256).digest()

    def check(self, table: str, fields: Sequence[str | None], mac: bytes | None) -> bool:
        if not isinstance(mac, bytes | bytearray) or len(mac) != 4 + 32:
            return False
        key = self._keys.get(bytes(mac[:4]))
        if key is None:
            return False
        return hmac.compare_digest(hmac.new(key, encode(table, fields), hashlib.sha256).digest(), bytes(mac[4:]))

    def warn_once(self, what: str, row_id: object) -> None:
        """One warning line per row per process; the internal row id only, stripped to safe characters
        (whoever edited the row chose it too)."""
        safe = "".join(ch for ch in str(row_id) if ch.isalnum() or ch == "-")[:40]
        if (what, safe) in self._warned:
            return
        self._warned.add((what, safe))
        log.warning("A %s row (id %s) was changed without the key: it is treated as unknown", what, safe)

    def person_mac(self, row: Row | dict[str, str | None]) -> bytes:
        return self.mac("people", [row[c] for c in PERSON_COLUMNS])

    def invite_mac(self, row: Row | dict[str, str | None]) -> bytes:
        return self.mac("invites", invite_fields(row))

    def person_intact(self, sealer: Sealer, row: Row) -> bool:
        """The access columns carry their MAC, and the Telegram-id digest is the sealed id's (so neither
        can be swapped with another row's: the sealed id opens only in its own row)."""
        if not self.check("people", [row[c] for c in PERSON_COLUMNS], row["access_mac"]):
            return False
        try:
            telegram_id = sealer.open(row["tg_user_sealed"], "people", "tg_user", row["id"])
        except SealError:
            return False
        return hmac.compare_digest(sealer.lookup("tg_user", telegram_id), str(row["tg_user_hmac"]))

    def invite_intact(self, row: Row) -> bool:
        return self.check("invites", invite_fields(row), row["access_mac"])

    def team_mac(self, row: Row | dict[str, str | None]) -> bytes:
        return self.mac("teams", [row[c] for c in TEAM_COLUMNS])

    def team_intact(self, sealer: Sealer, row: Row) -> bool:
        """Id and organisation carry their MAC, and the name digest is the sealed name's (bound to the id)."""
        if not self.check("teams", [row[c] for c in TEAM_COLUMNS], row["access_mac"]):
            return False
        return _team_digest_matches(sealer, row)

    def row_mac(self, table: str, row: Row | dict[str, str | None]) -> bytes:
        """The MAC of a check-in, alert or incident over its routing ids (ROW_COLUMNS)."""
        return self.mac(table, [row[c] for c in ROW_COLUMNS[table]])

    def leading_intact(self, table: str, row: Row | tuple[object, ...]) -> bool:
        """`row_intact` for bulk reads that select ROW_COLUMNS[table], then access_mac, first (by position:
        over a team's 10,000 incidents the look-ups by name cost more than the MACs)."""
        n = len(ROW_COLUMNS[table])
        mac = row[n]
        if isinstance(mac, bytes) and len(mac) == 36 and (key := self._keys.get(mac[:4])) is not None:
            fields = [None if v is None else str(v) for v in tuple(row[:n])]
            if hmac.compare_digest(hmac.digest(key, encode(table, fields), "sha256"), mac[4:]):
                return True
        self.warn_once(table, row[0])
        return False

    def row_intact(self, table: str, row: Row) -> bool:
        """Whether a check-in, alert or incident row's routing ids are as the key wrote them; warns once
        per row if not."""
        if self.check(table, [row[c] for c in ROW_COLUMNS[table]], row["access_mac"]):
            return True
        self.warn_once(table, row["id"])
        return False


def invite_fields(row: Row | dict[str, str | None]) -> list[str | None]:
    """An invite's access columns, and its cancel once it has one (see INVITE_CANCELLED)."""
    fields = [row[c] for c in INVITE_COLUMNS]
    cancelled = row[INVITE_CANCELLED] if INVITE_CANCELLED in row.keys() else None
    return fields if cancelled is None else [*fields, cancelled]


def _fields(table: str, columns: Sequence[str], row: Row) -> list[str | None]:
    return invite_fields(row) if table == "invites" else [row[c] for c in columns]


def _team_digest_matches(sealer: Sealer, row: Row) -> bool:
    try:
        name = sealer.open(row["name_sealed"], "teams", "name", row["id"])
    except SealError:
        return False
    return hmac.compare_digest(sealer.lookup("team", name.casefold()), str(row["name_hmac"]))


def _key_opens(sealer: Sealer, org_rows: list[Row]) -> bool:
    """Whether `sealer` holds this database's key: MACs must never be made under a wrong one."""
    if not org_rows:
        return True
    try:
        sealer.open(org_rows[0]["name_sealed"], "organizations", "name", org_rows[0]["id"])
    except SealError:
        return False
    return True


async def backfill(db: Database, sealer: Sealer) -> int:
    """Once per database: give rows written before MACs existed their MAC (a migration cannot compute
    one). A row whose sealed Telegram id does not open under the key gets none: it stays unknown. After
    this, a row without a MAC was written without the key."""
    return await _backfill_access(db, sealer) + await _backfill_rows(db, sealer)


async def _backfill_rows(db: Database, sealer: Sealer) -> int:
    """Once per database, under its own flag (a database may already have the people's): check-ins,
    alerts and incidents written before their MACs existed get one. A row added later without the key
    has none, and stays rejected."""
    auth = Authenticator(sealer)
    async with db.read() as tx:
        if await tx.one("SELECT 1 FROM meta WHERE key = ?", (ROWS_BACKFILLED,)) is not None:
            return 0
        orgs = await tx.all("SELECT id, name_sealed FROM organizations ORDER BY created_at, id")
    if not _key_opens(sealer, orgs):
        return 0
    done = 0
    async with db.tx() as tx:
        if await tx.one("SELECT 1 FROM meta WHERE key = ?", (ROWS_BACKFILLED,)) is not None:
            return 0
        for table, select, update in ROWS_UNMACED:
            rows = await tx.all(select)
            await tx.executemany(update, [(auth.row_mac(table, row), row["id"]) for row in rows])
            done += len(rows)
        await tx.execute(
            "INSERT INTO meta (key, value_sealed) VALUES (?, ?)",
            (ROWS_BACKFILLED, sealer.seal("done", "meta", "value", ROWS_BACKFILLED)),
        )
    return done


async def _backfill_access(db: Database, sealer: Sealer) -> int:
    auth = Authenticator(sealer)
    async with db.read() as tx:
        orgs = await tx.all("SELECT id, name_sealed FROM organizations ORDER BY created_at, id")
    if not _key_opens(sealer, orgs):
        return 0  # a wrong key (someone trying one): leave everything for the right one
    done = await _backfill_teams(db, sealer, auth)
    async with db.read() as tx:
        if await tx.one("SELECT 1 FROM meta WHERE key = ?", (BACKFILLED,)) is not None:
            return done
    async with db.tx() as tx:
        if await tx.one("SELECT 1 FROM meta WHERE key = ?", (BACKFILLED,)) is not None:
            return done  # another process did it meanwhile
        for row in await tx.all("SELECT * FROM people WHERE access_mac IS NULL"):
            try:
                telegram_id = sealer.open(row["tg_user_sealed"], "people", "tg_user", row["id"])
            except SealError:
                continue
            if sealer.lookup("tg_user", telegram_id) != row["tg_user_hmac"]:
                continue
            await tx.execute("UPDATE people SET access_mac = ? WHERE id = ?", (auth.person_mac(row), row["id"]))
            done += 1
        for row in await tx.all("SELECT * FROM invites WHERE access_mac IS NULL"):
            await tx.execute("UPDATE invites SET access_mac = ? WHERE id = ?", (auth.invite_mac(row), row["id"]))
            done += 1
        await tx.execute(
            "INSERT INTO meta (key, value_sealed) VALUES (?, ?)",
            (BACKFILLED, sealer.seal("done", "meta", "value", BACKFILLED)),  # only its presence matters
        )
    return done


async def _backfill_teams(db: Database, sealer: Sealer, auth: Authenticator) -> int:
    """As `backfill`, for teams (once, recorded apart: their MACs came in a later version). A team whose
    name digest is not its sealed name's (swapped with another team's) gets none: it stays unknown."""
    async with db.read() as tx:
        if await tx.one("SELECT 1 FROM meta WHERE key = ?", (TEAMS_BACKFILLED,)) is not None:
            return 0
    done = 0
    async with db.tx() as tx:
        if await tx.one("SELECT 1 FROM meta WHERE key = ?", (TEAMS_BACKFILLED,)) is not None:
            return 0
        for row in await tx.all("SELECT * FROM teams WHERE access_mac IS NULL"):
            if _team_digest_matches(sealer, row):
                await tx.execute("UPDATE teams SET access_mac = ? WHERE id = ?", (auth.team_mac(row), row["id"]))
                done += 1
        await tx.execute(
            "INSERT INTO meta (key, value_sealed) VALUES (?, ?)",
            (TEAMS_BACKFILLED, sealer.seal("done", "meta", "value", TEAMS_BACKFILLED)),
        )
    return done


async def rekey(db: Database, sealer: Sealer, *, stop_after: int | None = None) -> tuple[int, bool]:
    """During a key rotation: each MAC made under an old key, checked under it, is made again under the
    new one. A MAC that does not check is left as it is, so an edited row stays unknown (a rotation must
    not launder it). Resumable: a MAC says by its key id whether it is done. Returns (done, stopped)."""
    auth = Authenticator(sealer)
    done = 0
    for table, columns, select, update in REKEYED:
        async with db.scan() as tx:
            rows = await tx.all(select)
        todo = [r for r in rows if bytes(r["access_mac"][:4]) != sealer.key_id]
        todo = [r for r in todo if auth.check(table, _fields(table, columns, r), r["access_mac"])]
        for start in range(0, len(todo), BATCH):
            async with db.tx() as wtx:
                for row in todo[start : start + BATCH]:
                    await wtx.execute(update, (auth.mac(table, _fields(table, columns, row)), row["id"]))
                    done += 1
                    if stop_after is not None and done >= stop_after:
                        return done, True
    return done, False
