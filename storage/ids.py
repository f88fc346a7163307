"""Random identifiers: row ids, the codes people are shown by, and invite codes."""

from __future__ import annotations

import secrets

# No 0/O, 1/I/L: codes are read aloud and typed on small screens.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
ROLE_PREFIX = {"worker": "W", "supervisor": "S", "manager": "M", "admin": "A"}


def new_id() -> str:
    return secrets.token_hex(12)


def person_code(role: str) -> str:
    return ROLE_PREFIX[role] + "-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(4))


def invite_code() -> str:
    """144 random bits, in the characters a t.me deep link allows."""
    return secrets.token_urlsafe(18)
