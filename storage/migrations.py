"""Append-only, named schema migrations. Never edit one that has shipped: add a new one.

Columns ending in `_sealed` hold AES-GCM sealed values (see sealing.py); `_hmac` columns hold
keyed digests used to find a row without storing the value in clear.
"""

from __future__ import annotations

MIGRATIONS: list[tuple[str, tuple[str, ...]]] = [
    (
        "0001_foundation",
        (
            """CREATE TABLE organizations (
                id TEXT PRIMARY KEY,
                name_sealed BLOB NOT NULL,
                timezone TEXT NOT NULL,
                language TEXT NOT NULL,
                created_at TEXT NOT NULL
            )""",
            """CREATE TABLE teams (
                id TEXT PRIMARY KEY,
                org_id TEXT NOT NULL REFERENCES organizations(id),
                name_sealed BLOB NOT NULL,
                name_hmac TEXT NOT NULL,
                created_at TEXT NOT NULL,
                UNIQUE (org_id, name_hmac)
            )""",
            """CREATE TABLE people (
                id TEXT PRIMARY KEY,
                org_id TEXT NOT NULL REFERENCES organizations(id),
                team_id TEXT REFERENCES teams(id),
                role TEXT NOT NULL CHECK (role IN ('worker', 'supervisor', 'manager', 'admin')),
                code TEXT NOT NULL UNIQUE,
                alias_sealed BLOB,
                tg_user_sealed BLOB NOT NULL,
                tg_user_hmac TEXT NOT NULL UNIQUE,
                tg_chat_sealed BLOB NOT NULL,
                locale TEXT NOT NULL,
                status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
                enrolled_at TEXT NOT NULL
            )""",
            "CREATE INDEX people_team ON people (team_id, role)",
            """CREATE TABLE invites (
                id TEXT PRIMARY KEY,
                org_id TEXT NOT NULL REFERENCES organizations(id),
                team_id TEXT REFERENCES teams(id),
                role TEXT NOT NULL CHECK (role IN ('worker', 'supervisor', 'manager', 'admin')),
                code_hash TEXT NOT NULL UNIQUE,
                created_at TEXT NOT NULL,
                expires_at TEXT NOT NULL,
                used_at TEXT,
                used_by TEXT REFERENCES people(id)
            )""",
            """CREATE TABLE audit_log (
                id INTEGER PRIMARY KEY,
                at TEXT NOT NULL,
                org_id TEXT,
                actor_id TEXT,
                action TEXT NOT NULL,
                subject_id TEXT
            )""",
            """CREATE TABLE rate_limits (
                key_hmac TEXT NOT NULL,
                bucket TEXT NOT NULL,
                window_start TEXT NOT NULL,
                hits INTEGER NOT NULL,
                blocked_until TEXT,
                PRIMARY KEY (key_hmac, bucket)
            )""",
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value_sealed BLOB NOT NULL)",
        ),
    ),
]
