"""Settings from the environment and the organisation's TOML file."""

from config.errors import ConfigError
from config.org import OrgConfig, load_org_config
from config.settings import Settings, load_settings

__all__ = ["ConfigError", "OrgConfig", "Settings", "load_org_config", "load_settings"]
