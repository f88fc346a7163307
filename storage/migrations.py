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
    (
        "0002_checkins_alerts_outbox",
        (
            """CREATE TABLE checkins (
                id TEXT PRIMARY KEY,
                org_id TEXT NOT NULL REFERENCES organizations(id),
                person_id TEXT NOT NULL REFERENCES people(id),
                team_id TEXT REFERENCES teams(id),
                place_sealed BLOB NOT NULL,
                place_custom INTEGER NOT NULL DEFAULT 0,
                partner_id TEXT REFERENCES people(id),
                alone_at_pairs INTEGER NOT NULL DEFAULT 0,
                started_at TEXT NOT NULL,
                deadline_at TEXT NOT NULL,
                stage INTEGER NOT NULL DEFAULT 0,
                next_step_at TEXT,
                location_sealed BLOB,
                location_at TEXT,
                status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
                closed_at TEXT,
                outcome TEXT
            )""",
            "CREATE UNIQUE INDEX checkins_one_open ON checkins (person_id) WHERE status = 'open'",
            "CREATE INDEX checkins_due ON checkins (next_step_at) WHERE status = 'open'",
            "CREATE INDEX checkins_person ON checkins (person_id, started_at)",
            """CREATE TABLE alerts (
                id TEXT PRIMARY KEY,
                org_id TEXT NOT NULL REFERENCES organizations(id),
                person_id TEXT NOT NULL REFERENCES people(id),
                team_id TEXT REFERENCES teams(id),
                checkin_id TEXT REFERENCES checkins(id),
                kind TEXT NOT NULL,
                raised_at TEXT NOT NULL,
                status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'acknowledged', 'resolved')),
                managers_due_at TEXT,
                managers_told_at TEXT,
                next_repeat_at TEXT,
                repeats INTEGER NOT NULL DEFAULT 0,
                acknowledged_at TEXT,
                acknowledged_by TEXT REFERENCES people(id),
                resolved_at TEXT,
                resolved_by TEXT REFERENCES people(id),
                resolution TEXT
            )""",
            "CREATE INDEX alerts_active ON alerts (status, next_repeat_at)",
            "CREATE INDEX alerts_checkin ON alerts (checkin_id)",
            """CREATE TABLE alert_events (
                id INTEGER PRIMARY KEY,
                alert_id TEXT NOT NULL REFERENCES alerts(id),
                at TEXT NOT NULL,
                event TEXT NOT NULL,
                actor_id TEXT REFERENCES people(id),
                recipient_id TEXT REFERENCES people(id)
            )""",
            "CREATE INDEX alert_events_alert ON alert_events (alert_id, id)",
            """CREATE TABLE outbox (
                id INTEGER PRIMARY KEY,
                dedupe_key TEXT NOT NULL UNIQUE,
                recipient_id TEXT NOT NULL REFERENCES people(id),
                kind TEXT NOT NULL,
                params_sealed BLOB NOT NULL,
                alert_id TEXT REFERENCES alerts(id),
                created_at TEXT NOT NULL,
                due_at TEXT NOT NULL,
                next_attempt_at TEXT NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
                sent_at TEXT,
                message_id INTEGER,
                last_error TEXT
            )""",
            "CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE status = 'pending'",
        ),
    ),
    (
        "0003_pins",
        (
            "ALTER TABLE people ADD COLUMN pin_safe BLOB",
            "ALTER TABLE people ADD COLUMN pin_duress BLOB",
        ),
    ),
    (
        "0004_incidents",
        (
            """CREATE TABLE incidents (
                id TEXT PRIMARY KEY,
                org_id TEXT NOT NULL REFERENCES organizations(id),
                ref TEXT NOT NULL,
                reporter_id TEXT NOT NULL REFERENCES people(id),
                team_id TEXT REFERENCES teams(id),
                category TEXT NOT NULL,
                affected TEXT,
                occurred_week TEXT NOT NULL,
                occurred_sealed BLOB NOT NULL,
                place_kind TEXT,
                place_key TEXT,
                place_sealed BLOB,
                perpetrator TEXT,
                severity INTEGER,
                account_sealed BLOB,
                support TEXT,
                authorities TEXT,
                status TEXT NOT NULL DEFAULT 'open',
                checkin_id TEXT REFERENCES checkins(id),
                alert_id TEXT REFERENCES alerts(id),
                reported_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                UNIQUE (org_id, ref)
            )""",
            "CREATE INDEX incidents_week ON incidents (org_id, occurred_week, reported_at)",
            "CREATE INDEX incidents_team ON incidents (team_id, occurred_week)",
            "CREATE INDEX incidents_reporter ON incidents (reporter_id)",
            """CREATE TABLE incident_followups (
                id INTEGER PRIMARY KEY,
                incident_id TEXT NOT NULL REFERENCES incidents(id),
                at TEXT NOT NULL,
                actor_id TEXT REFERENCES people(id),
                status TEXT NOT NULL,
                note_sealed BLOB
            )""",
            "CREATE INDEX followups_incident ON incident_followups (incident_id, id)",
            """CREATE TABLE report_drafts (
                person_id TEXT PRIMARY KEY REFERENCES people(id),
                data_sealed BLOB NOT NULL,
                started_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                reminded_at TEXT
            )""",
        ),
    ),
    (
        "0005_incident_indexes",
        (
            "CREATE INDEX incidents_category ON incidents (org_id, category, place_key, occurred_week, reported_at)",
            "CREATE INDEX incidents_place ON incidents (org_id, place_key, occurred_week, reported_at)",
            "CREATE INDEX incidents_status ON incidents (org_id, status, team_id)",
        ),
    ),
    (
        # The Telegram update that raised a code alert: after a crash Telegram sends an update again when
        # the bot had not confirmed it, and that must not raise the same alert twice.
        "0006_alert_update",
        (
            "ALTER TABLE alerts ADD COLUMN update_id INTEGER",
            "CREATE INDEX alerts_update ON alerts (person_id, update_id) WHERE update_id IS NOT NULL",
        ),
    ),
    (
        # "Type your PIN." asked at check-out, kept with the check-in rather than in memory, so that the
        # answer still counts after a restart, with the worker's choice and the wrong tries so far.
        "0007_checkout_pin_question",
        (
            "ALTER TABLE checkins ADD COLUMN pin_asked_at TEXT",
            "ALTER TABLE checkins ADD COLUMN pin_outcome TEXT",
            "ALTER TABLE checkins ADD COLUMN pin_wrong INTEGER NOT NULL DEFAULT 0",
        ),
    ),
    (
        # The update that carried the last wrong PIN: Telegram may send it again after a crash.
        "0008_pin_wrong_update",
        ("ALTER TABLE checkins ADD COLUMN pin_wrong_update INTEGER",),
    ),
    (
        # One conversation a person, sealed: flow, step, answers, and the message ids to clean up. The
        # flow's name is in clear only so that old conversations can be swept; it says no more than
        # that someone is half-way through one of the bot's forms. Report drafts move here.
        "0009_conversations",
        (
            """CREATE TABLE conversations (
                person_id TEXT PRIMARY KEY REFERENCES people (id) ON DELETE CASCADE,
                state_sealed BLOB NOT NULL,
                flow TEXT,
                updated_at TEXT NOT NULL
            )""",
            "CREATE INDEX conversations_flow ON conversations (flow, updated_at)",
        ),
    ),
    (
        # The columns that decide access carry a keyed MAC (storage/integrity.py); rows written before get
        # theirs at the first open with the key (storage.integrity.backfill).
        "0010_access_macs",
        (
            "ALTER TABLE people ADD COLUMN access_mac BLOB",
            "ALTER TABLE invites ADD COLUMN access_mac BLOB",
        ),
    ),
    (
        # When a person was revoked (retention erases what named them after [retention] revoked_people),
        # and when that was done: the row then stays as a tombstone while records name it.
        "0011_retention_revoked",
        (
            "ALTER TABLE people ADD COLUMN revoked_at TEXT",
            "ALTER TABLE people ADD COLUMN erased_at TEXT",
        ),
    ),
    (
        # Places, code words and support contacts, out of the config file: one sealed value per
        # organisation (storage/lists.py says why), and a revision the running bot watches.
        "0012_lists_sealed",
        (
            """CREATE TABLE org_lists (
                org_id TEXT PRIMARY KEY REFERENCES organizations (id),
                lists_sealed BLOB NOT NULL,
                revision INTEGER NOT NULL,
                updated_at TEXT NOT NULL
            )""",
        ),
    ),
    (
        # Values that would tell (alert kinds, check-in outcomes, incident fields and follow-up statuses,
        # audit actions) are stored as keyed tokens (storage/codes.py); this table maps each token back
        # to its value, sealed. Rows written before are re-coded once, in Python, when storage opens.
        "0013_columns_codes",
        ("CREATE TABLE codes (token TEXT PRIMARY KEY, value_sealed BLOB NOT NULL)",),
    ),
    (
        # Teams' id and organisation carry a keyed MAC too, and their name digest is checked against the
        # sealed name (storage/integrity.py); teams written before get theirs at the first open with the key.
        "0014_teams_macs",
        ("ALTER TABLE teams ADD COLUMN access_mac BLOB",),
    ),
    (
        # Admins see when a person last used the bot (to the hour, written at most once an hour: see
        # PeopleRepo.seen) and may cancel an invite (a cancel is under the invite's access MAC).
        "0015_admin_people_invites",
        (
            "ALTER TABLE people ADD COLUMN last_seen_at TEXT",
            "ALTER TABLE invites ADD COLUMN cancelled_at TEXT",
        ),
    ),
    (
        # Check-ins, alerts and incidents carry a team and an organisation themselves, which decide who is
        # told and who may see or act: a keyed MAC over those ids (storage/integrity.py); rows written
        # before get theirs at the first open with the key.
        "0016_row_macs",
        (
            "ALTER TABLE checkins ADD COLUMN access_mac BLOB",
            "ALTER TABLE alerts ADD COLUMN access_mac BLOB",
            "ALTER TABLE incidents ADD COLUMN access_mac BLOB",
        ),
    ),
    (
        # The outbox sends by urgency (0 alerts, 2 the rest; bot.messenger's levels), then in order:
        # the kind column already says which rows are alerts, so this tells nothing more.
        "0017_outbox_priority",
        (
            "ALTER TABLE outbox ADD COLUMN priority INTEGER NOT NULL DEFAULT 2",
            "UPDATE outbox SET priority = 0 WHERE kind = 'alert'",
            "CREATE INDEX outbox_urgent ON outbox (priority, next_attempt_at) WHERE status = 'pending'",
        ),
    ),
    (
        # Security plans (bot/services/plans.py): one sealed JSON value per plan, padded, so a copy shows
        # neither what a plan says nor how many actions it has. In clear only what the minute's reminders
        # and the retention purge select on: the next date something is due, active or archived, and the
        # place's keyed digest (a critical incident there flags the plan; the same digest as incidents').
        "0018_plans_sealed",
        (
            """CREATE TABLE plans (
                id TEXT PRIMARY KEY,
                org_id TEXT NOT NULL REFERENCES organizations (id),
                data_sealed BLOB NOT NULL,
                place_key TEXT,
                next_due TEXT,
                status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived')),
                updated_at TEXT NOT NULL,
                archived_at TEXT
            )""",
            "CREATE INDEX plans_due ON plans (status, next_due)",
            "CREATE INDEX plans_place ON plans (place_key)",
        ),
    ),
    (
        # Risk by place (bot/services/risk.py): the computed level of each place, in ONE sealed value per
        # organisation (like org_lists: a copy shows neither the places nor how many are at risk), and the
        # level it last stood at, so that a rise is told once, across restarts.
        "0019_risk_levels",
        (
            """CREATE TABLE place_risk (
                org_id TEXT PRIMARY KEY REFERENCES organizations (id),
                state_sealed BLOB NOT NULL,
                updated_at TEXT NOT NULL
            )""",
        ),
    ),
]
