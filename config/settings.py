"""Settings from the environment (token, API address, data dir, config path, where the key is)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from config.errors import ConfigError

DEFAULT_API_BASE = "https://api.telegram.org/bot"
DOCKER_SECRET = Path("/run/secrets/outreach_key")
KEY_SETTINGS = ("OUTREACH_KEY", "OUTREACH_KEY_FILE", "OUTREACH_KEY_COMMAND")


@dataclass(frozen=True)
class Settings:
    token: str | None
    api_base_url: str
    data_dir: Path
    config_path: Path
    key_b64: str | None = None  # OUTREACH_KEY
    key_file: Path | None = None  # OUTREACH_KEY_FILE
    key_command: str | None = None  # OUTREACH_KEY_COMMAND
    credentials_dir: Path | None = None  # systemd's $CREDENTIALS_DIRECTORY
    docker_secret: Path = DOCKER_SECRET

    @property
    def db_path(self) -> Path:
        return self.data_dir / "outreach.db"

    @property
    def key_path(self) -> Path:
        """Where versions before key custody kept the key (and where the sandbox and tests still do)."""
        return self.data_dir / "key"

    @property
    def heartbeat_path(self) -> Path:
        return self.data_dir / "heartbeat"

    def __repr__(self) -> str:  # never print the token or key by accident
        return f"Settings(api_base_url={self.api_base_url!r}, data_dir={str(self.data_dir)!r})"


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read the environment; a malformed value raises ConfigError naming the variable."""
    env = os.environ if env is None else env
    token = env.get("TELEGRAM_BOT_TOKEN", "").strip() or None
    if token is not None and (":" not in token or any(c.isspace() for c in token)):
        raise ConfigError("TELEGRAM_BOT_TOKEN", "does not look like a bot token (digits:letters)")
    base = env.get("TELEGRAM_API_BASE_URL", "").strip() or DEFAULT_API_BASE
    parsed = urlparse(base)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError("TELEGRAM_API_BASE_URL", "must be an http(s) address like http://127.0.0.1:8081/bot")
    named = [name for name in KEY_SETTINGS if env.get(name, "").strip()]
    if len(named) > 1:
        raise ConfigError(named[1], f"set only one way to the key, not both {named[0]} and {named[1]}")
    key_file = env.get("OUTREACH_KEY_FILE", "").strip()
    credentials = env.get("CREDENTIALS_DIRECTORY", "").strip()
    return Settings(
        token=token,
        api_base_url=base.rstrip("/"),
        data_dir=Path(env.get("OUTREACH_DATA_DIR", "").strip() or "./data"),
        config_path=Path(env.get("OUTREACH_CONFIG", "").strip() or "./config/org.toml"),
        key_b64=env.get("OUTREACH_KEY", "").strip() or None,
        key_file=Path(key_file).expanduser() if key_file else None,
        key_command=env.get("OUTREACH_KEY_COMMAND", "").strip() or None,
        credentials_dir=Path(credentials) if credentials else None,
    )
