"""What an exception may say in a log line: its type and where it was raised, never its message
(which may hold what a person wrote). Shared by every messenger's adapter."""

from __future__ import annotations

import traceback


def redacted(error: BaseException) -> str:
    """Exception type and where it was raised, never its message (which may hold user content)."""
    frames = traceback.extract_tb(error.__traceback__)[-3:]
    where = " <- ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}" for f in reversed(frames))
    return f"{type(error).__name__} at {where or 'unknown place'}"
