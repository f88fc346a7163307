"""People: role, team, the code others see them by, and their Telegram ids sealed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from storage.db import Row, Tx
from storage.ids import new_id, person_code
from storage.integrity import PERSON_COLUMNS, Authenticator
from storage.sealing import Sealer, SealError
from storage.timefmt import from_db, to_db

if TYPE_CHECKING:
    from storage.conversations import ConversationRepo

ROLES = ("worker", "supervisor", "manager", "admin")


@dataclass(frozen=True)
class Person:
    id: str
    org_id: str
    team_id: str | None
    role: str
    code: str
    alias: str | None
    chat_id: int
    locale: str
    status: str

    @property
    def display(self) -> str:
        """How colleagues see this person: the random code, plus the alias if one was set."""
        return f"{self.code} ({self.alias})" if self.alias else self.code


@dataclass(frozen=True)
class Listed:
    """A person as admins list them: when they were last seen (to the hour), whether they were erased. A row
    edited without the key has no Person (it is no one to the bot), only its code: admins see it is there."""

    code: str
    person: Person | None
    last_seen: datetime | None
    enrolled: datetime
    erased: bool


CACHE_SIZE = 4096
_UNREAD = object()


class PeopleRepo:
    """Every update starts by finding its sender, so the keyed digest of a Telegram id and the
    unsealed Person are remembered. A Person is remembered by its whole stored row, so any change
    to the row (a revocation, even by `outreach-bot revoke` from another process) is a new row and
    is read afresh: the database stays the only truth.

    A row whose access columns were edited without the key (see storage/integrity.py) is read as no
    one: every look-up here returns None for it or leaves it out, so it is a stranger at the gate and
    never a recipient of an alert or a report."""

    def __init__(self, sealer: Sealer, team_usable: Callable[[Tx, str], Awaitable[bool]]) -> None:
        self._s = sealer
        self._auth = Authenticator(sealer)
        self._team_usable = team_usable  # OrgRepo.team_usable: an edited team row routes nothing
        self._user_keys: dict[int, str] = {}
        self._decoded: dict[tuple[object, ...], Person | None] = {}
        self._seen: dict[str, datetime] = {}  # person id -> the hour last written for them by this process

    def user_key(self, telegram_user_id: int) -> str:
        key = self._user_keys.get(telegram_user_id)
        if key is None:
            if len(self._user_keys) >= CACHE_SIZE:
                self._user_keys.clear()
            key = self._user_keys[telegram_user_id] = self._s.lookup("tg_user", telegram_user_id)
        return key

    def _person(self, r: Row, columns: int | None = None) -> Person | None:
        """The row's Person, or None when the row was edited without the key (warned about once)."""
        raw = tuple(r)[:columns]  # `columns`: the people table's, when a join added others
        cached = self._decoded.get(raw, _UNREAD)  # one look-up: this is every update's path
        if cached is not _UNREAD:
            return cast("Person | None", cached)
        if len(self._decoded) >= CACHE_SIZE:
            self._decoded.clear()
        person = None
        try:
            if self._auth.person_intact(self._s, r):
                person = self._unseal(r)
        except (SealError, ValueError):
            person = None
        if person is None:
            self._auth.warn_once("people", r["id"])
        self._decoded[raw] = person
        return person

    def _people(self, rows: list[Row]) -> list[Person]:
        return [p for r in rows if (p := self._person(r)) is not None]

    def _unseal(self, r: Row) -> Person:
        return Person(
            id=r["id"],
            org_id=r["org_id"],
            team_id=r["team_id"],
            role=r["role"],
            code=r["code"],
            alias=self._s.open_opt(r["alias_sealed"], "people", "alias", r["id"]),
            chat_id=int(self._s.open(r["tg_chat_sealed"], "people", "tg_chat", r["id"])),
            locale=r["locale"],
            status=r["status"],
        )

    async def by_telegram_user(self, tx: Tx, telegram_user_id: int) -> Person | None:
        row = await tx.one("SELECT * FROM people WHERE tg_user_hmac = ?", (self.user_key(telegram_user_id),))
        return None if row is None else self._person(row)

    async def with_conversation(
        self, tx: Tx, telegram_user_id: int, conversations: ConversationRepo
    ) -> tuple[Person | None, tuple[dict[str, Any], datetime] | None]:
        """The sender and their conversation (None if they have none) in one statement: the gate's
        read, on every update."""
        row = await tx.one(
            "SELECT p.*, c.state_sealed AS c_state, c.updated_at AS c_at FROM people p"
            " LEFT JOIN conversations c ON c.person_id = p.id WHERE p.tg_user_hmac = ?",
            (self.user_key(telegram_user_id),),
        )
        if row is None:
            return None, None
        person = self._person(row, -2)
        if person is None:
            return None, None
        found = None if row["c_state"] is None else conversations.opened(person.id, row["c_state"], row["c_at"])
        return person, found

    async def get(self, tx: Tx, person_id: str) -> Person | None:
        row = await tx.one("SELECT * FROM people WHERE id = ?", (person_id,))
        return None if row is None else self._person(row)

    async def get_many(self, tx: Tx, person_ids: list[str]) -> dict[str, Person]:
        """Several people in one query (the outbox sends to hundreds at a time). A row edited without the
        key comes back revoked: what is owed to its chat (clean-ups, a location taken off the screen) still
        reaches it, as its chat id is sealed to the row and cannot have been moved there; nothing else does."""
        found: dict[str, Person] = {}
        unique = list(dict.fromkeys(person_ids))
        for start in range(0, len(unique), 500):  # SQLite limits the number of bound parameters
            chunk = unique[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            for row in await tx.all(f"SELECT * FROM people WHERE id IN ({marks})", tuple(chunk)):  # noqa: S608
                person = self._person(row) or self._as_revoked(row)
                if person is not None:
                    found[row["id"]] = person
        return found

    def _as_revoked(self, r: Row) -> Person | None:
        try:
            return replace(self._unseal(r), status="revoked")
        except (SealError, ValueError):
            return None

    async def by_code(self, tx: Tx, org_id: str, code: str) -> Person | None:
        row = await tx.one("SELECT * FROM people WHERE org_id = ? AND code = ?", (org_id, code.upper()))
        return None if row is None else self._person(row)

    async def in_team(self, tx: Tx, team_id: str, role: str | None = None) -> list[Person]:
        """The team's active people; none when the team's row was edited without the key (its alerts then go
        to the managers, as for a team without supervisors)."""
        if not await self._team_usable(tx, team_id):
            return []
        rows = await tx.all(
            "SELECT * FROM people WHERE team_id = ? AND status = 'active' AND (? IS NULL OR role = ?) ORDER BY code",
            (team_id, role, role),
        )
        return self._people(rows)

    async def with_role(self, tx: Tx, org_id: str, role: str) -> list[Person]:
        rows = await tx.all(
            "SELECT * FROM people WHERE org_id = ? AND role = ? AND status = 'active' ORDER BY code", (org_id, role)
        )
        return self._people(rows)

    async def account_taken(self, tx: Tx, telegram_user_id: int) -> bool:
        """Whether any row, even one read as no one, holds this Telegram account (it cannot enrol again)."""
        row = await tx.one("SELECT 1 FROM people WHERE tg_user_hmac = ?", (self.user_key(telegram_user_id),))
        return row is not None

    async def create(
        self,
        tx: Tx,
        *,
        org_id: str,
        team_id: str | None,
        role: str,
        telegram_user_id: int,
        chat_id: int,
        locale: str,
        now: datetime,
        alias: str | None = None,
    ) -> Person:
        person_id = new_id()
        for _ in range(20):  # codes are short on purpose; retry the rare collision
            code = person_code(role)
            if await tx.one("SELECT 1 FROM people WHERE code = ?", (code,)) is None:
                break
        else:
            raise RuntimeError("could not find a free person code")
        access = {"id": person_id, "org_id": org_id, "team_id": team_id, "role": role, "status": "active", "code": code}
        await tx.execute(
            """INSERT INTO people (id, org_id, team_id, role, code, alias_sealed, tg_user_sealed, tg_user_hmac,
                                   tg_chat_sealed, locale, status, enrolled_at, access_mac)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?)""",
            (
                person_id,
                org_id,
                team_id,
                role,
                code,
                self._s.seal_opt(alias, "people", "alias", person_id),
                self._s.seal(str(telegram_user_id), "people", "tg_user", person_id),
                self.user_key(telegram_user_id),
                self._s.seal(str(chat_id), "people", "tg_chat", person_id),
                locale,
                to_db(now),
                self._auth.person_mac(access),
            ),
        )
        return Person(person_id, org_id, team_id, role, code, alias, chat_id, locale, "active")

    async def seen(self, tx: Tx, person_id: str, now: datetime) -> None:
        """Note that the person used the bot now, to the hour: one write a person an hour at most, none
        on the other updates (a dictionary look-up), so throughput does not feel it."""
        hour = now.replace(minute=0, second=0, microsecond=0)
        if self._seen.get(person_id) == hour:
            return
        if len(self._seen) >= CACHE_SIZE:
            self._seen.clear()
        self._seen[person_id] = hour
        await tx.execute(
            "UPDATE people SET last_seen_at = ? WHERE id = ? AND (last_seen_at IS NULL OR last_seen_at < ?)",
            (to_db(hour), person_id, to_db(hour)),
        )

    async def listed(self, tx: Tx, org_id: str) -> list[Listed]:
        """Everyone of the organisation, revoked and erased too, by code (an edited row: no Person)."""
        rows = await tx.all("SELECT * FROM people WHERE org_id = ? ORDER BY code", (org_id,))
        found = []
        for row in rows:
            seen = from_db(row["last_seen_at"]) if row["last_seen_at"] else None
            erased = row["erased_at"] is not None
            found.append(Listed(row["code"], self._person(row), seen, from_db(row["enrolled_at"]), erased))
        return found

    async def set_access(self, tx: Tx, person_id: str, *, team_id: str | None, role: str) -> bool:
        """A new team and role with their new MAC; False (and nothing written) for a row edited without the key."""
        row = await tx.one("SELECT * FROM people WHERE id = ?", (person_id,))
        if row is None or not self._auth.person_intact(self._s, row):
            return False
        mac = self._auth.person_mac({c: row[c] for c in PERSON_COLUMNS} | {"team_id": team_id, "role": role})
        changed = await tx.execute(
            "UPDATE people SET team_id = ?, role = ?, access_mac = ? WHERE id = ?", (team_id, role, mac, person_id)
        )
        return changed == 1

    async def set_locale(self, tx: Tx, person_id: str, locale: str) -> None:
        await tx.execute("UPDATE people SET locale = ? WHERE id = ?", (locale, person_id))

    async def set_alias(self, tx: Tx, person_id: str, alias: str | None) -> None:
        await tx.execute(
            "UPDATE people SET alias_sealed = ? WHERE id = ?",
            (self._s.seal_opt(alias, "people", "alias", person_id), person_id),
        )

    async def set_pins(self, tx: Tx, person_id: str, safe: bytes, duress: bytes) -> None:
        await tx.execute(
            "UPDATE people SET pin_safe = ?, pin_duress = ? WHERE id = ?",
            (
                self._s.seal(safe.hex(), "people", "pin_safe", person_id),
                self._s.seal(duress.hex(), "people", "pin_duress", person_id),
                person_id,
            ),
        )

    async def pins(self, tx: Tx, person_id: str) -> tuple[bytes, bytes] | None:
        row = await tx.one("SELECT pin_safe, pin_duress FROM people WHERE id = ?", (person_id,))
        if row is None or row["pin_safe"] is None or row["pin_duress"] is None:
            return None
        return (
            bytes.fromhex(self._s.open(row["pin_safe"], "people", "pin_safe", person_id)),
            bytes.fromhex(self._s.open(row["pin_duress"], "people", "pin_duress", person_id)),
        )

    async def set_status(self, tx: Tx, person_id: str, status: str, now: datetime | None = None) -> int:
        """A new status with its new MAC; a row edited without the key keeps its broken one (never laundered).
        `now`: when, for the retention of revoked people (without it, they count from their enrolment)."""
        row = await tx.one("SELECT * FROM people WHERE id = ?", (person_id,))
        if row is None:
            return 0
        mac = row["access_mac"]
        if self._auth.person_intact(self._s, row):
            mac = self._auth.person_mac({c: row[c] for c in PERSON_COLUMNS} | {"status": status})
        revoked_at = to_db(now) if now is not None and status == "revoked" else None
        return await tx.execute(
            "UPDATE people SET status = ?, access_mac = ?, revoked_at = ? WHERE id = ?",
            (status, mac, revoked_at, person_id),
        )

    async def erase_revoked(self, tx: Tx, revoked_before: datetime, now: datetime) -> int:
        """Erase what named people revoked before `revoked_before`: Telegram ids, chat, alias, PINs, their
        conversation and draft. The row stays as a tombstone (code, role, team) while records name it, so
        counts and timelines keep their shape; storage.retention deletes it once none does. Its Telegram
        id becomes "erased:<id>", which no account has, sealed and digested like a real one (so rotation
        and the access check treat it as any row). Not while a message to their chat is still owed."""
        rows = await tx.all(
            "SELECT id FROM people WHERE status = 'revoked' AND erased_at IS NULL"
            " AND COALESCE(revoked_at, enrolled_at) < ?"
            " AND NOT EXISTS (SELECT 1 FROM outbox WHERE recipient_id = people.id AND status = 'pending')",
            (to_db(revoked_before),),
        )
        for row in rows:
            person_id = row["id"]
            gone = f"erased:{person_id}"
            await tx.execute("DELETE FROM conversations WHERE person_id = ?", (person_id,))
            await tx.execute("DELETE FROM report_drafts WHERE person_id = ?", (person_id,))
            await tx.execute(
                "UPDATE people SET alias_sealed = NULL, pin_safe = NULL, pin_duress = NULL, tg_user_sealed = ?,"
                " tg_user_hmac = ?, tg_chat_sealed = ?, erased_at = ? WHERE id = ?",
                (
                    self._s.seal(gone, "people", "tg_user", person_id),
                    self._s.lookup("tg_user", gone),
                    self._s.seal("0", "people", "tg_chat", person_id),
                    to_db(now),
                    person_id,
                ),
            )
        return len(rows)
