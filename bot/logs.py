"""Logging that never carries the bot token or what people wrote."""

from __future__ import annotations

import logging
import sys
import warnings

from telegram.warnings import PTBDeprecationWarning

# httpx logs every URL (which holds the token); python-telegram-bot logs request parameters
# (which hold message texts) at DEBUG; aiosqlite logs statement arguments at DEBUG.
QUIET = {
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "telegram": logging.INFO,
    "aiosqlite": logging.WARNING,
    "apscheduler": logging.WARNING,
    "apscheduler.scheduler": logging.ERROR,  # "maximum number of running instances" every second of a long tick
    "hpack": logging.WARNING,
}


class RedactFilter(logging.Filter):
    """Last line of defence: replaces known secrets in any record that still carries one."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        cleaned = message
        for secret in self.secrets:
            cleaned = cleaned.replace(secret, "[redacted]")
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class OneLineFormatter(logging.Formatter):
    """Exceptions become their type name only: no traceback on the console, no message contents."""

    def formatException(self, ei: object) -> str:
        exc = ei[1] if isinstance(ei, tuple) else None
        return f"  ({type(exc).__name__})" if exc is not None else ""

    def formatStack(self, stack_info: str) -> str:
        return ""

    def format(self, record: logging.LogRecord) -> str:
        record.exc_text = None
        text = super().format(record)
        return text.replace("\n  (", " (")


def quiet_noisy_loggers() -> None:
    # PTB 22 warns, from inside its own RetryAfter, about a type change we already handle.
    warnings.filterwarnings("ignore", message=".*retry_after.*", category=PTBDeprecationWarning)
    for name, level in QUIET.items():
        logging.getLogger(name).setLevel(level)


def setup_logging(level: int = logging.INFO, secrets: list[str] | None = None) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(OneLineFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactFilter(secrets or []))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    quiet_noisy_loggers()


def forget_secret(secret: str) -> None:
    """Drop a secret the log filters hold (the key's text, once the key is destroyed): nothing that
    could still log it holds it any more, and a reference kept here would outlive the key."""
    for handler in logging.getLogger().handlers:
        for found in handler.filters:
            if isinstance(found, RedactFilter):
                found.secrets = [s for s in found.secrets if s != secret]
