"""The organisation's file and the environment: every mistake is one line naming the key."""

from __future__ import annotations

import copy
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from config import ConfigError, load_org_config, load_settings
from config.durations import parse_duration
from config.lists import parse_lists, read_toml
from config.org import parse_org_config
from tests.auxil.harness import EXAMPLE

ROOT = Path(__file__).resolve().parent.parent


def test_example_file_is_valid() -> None:
    config = load_org_config(ROOT / "config" / "org.example.toml")
    assert config.timezone == "America/Guatemala" and config.language == "es"
    # Nor is the organisation's name: it is sealed in the database (tests/test_org_name.py).
    assert config.legacy_name is None and b"Demo CSO" not in (ROOT / "config" / "org.example.toml").read_bytes()
    assert parse_org_config(EXAMPLE).legacy_name == "Demo CSO"  # an older file's: taken once, then warned about
    assert config.escalation.grace == timedelta(minutes=10)
    # Places, code words and contacts are not in it: they are sealed in the database (tests/test_lists.py).
    assert config.hotspots == () and config.alert_codes == () and config.support == () and not config.legacy_lists
    lists = parse_lists(read_toml(ROOT / "config" / "lists.example.toml"))
    assert [h.name for h in lists.hotspots][:1] == ["Parque Central"] and lists.hotspots[0].pairs_required


@pytest.mark.parametrize(
    ("text", "seconds"), [("45s", 45), ("10m", 600), ("1h30m", 5400), ("2h", 7200), (" 1h 5m ", 3900)]
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "10", "ten minutes", "0m", "-5m", "5x", "m", "1.5h"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def _broken(change: str) -> dict:
    data = copy.deepcopy(EXAMPLE)
    if change == "unknown top key":
        data["colour"] = "red"
    elif change == "unknown nested key":
        data["organization"]["nmae"] = "x"
    elif change == "bad duration":
        data["escalation"]["grace"] = "ten"
    elif change == "unknown risk":
        data["hotspots"][0]["risk"] = "extreme"
    elif change == "duplicate hotspot":
        data["hotspots"].append(dict(data["hotspots"][0], name="parque central"))
    elif change == "bad timezone":
        data["organization"]["timezone"] = "Mars/Olympus"
    elif change == "unknown level":
        data["alert_codes"][0]["level"] = "purple"
    elif change == "command code":
        data["alert_codes"][0]["word"] = "/help"
    elif change == "short code":
        data["alert_codes"][0]["word"] = "abc"
    elif change == "empty name":
        data["organization"]["name"] = "  "
    elif change == "bad language":
        data["organization"]["language"] = "de"
    elif change == "digit code":
        data["alert_codes"][0]["word"] = "1379"
    elif change == "short retention":
        data["retention"] = {"alerts": "12h"}
    return data


@pytest.mark.parametrize(
    ("change", "key", "words"),
    [
        ("unknown top key", "colour", "unknown key"),
        ("unknown nested key", "organization.nmae", "unknown key"),
        ("bad duration", "escalation.grace", "bad duration"),
        ("unknown risk", "hotspots[1].risk", "unknown value"),
        ("duplicate hotspot", "hotspots[3].name", "duplicate hotspot"),
        ("bad timezone", "organization.timezone", "unknown time zone"),
        ("unknown level", "alert_codes[1].level", "unknown value"),
        ("command code", "alert_codes[1].word", "command"),
        ("short code", "alert_codes[1].word", "too short"),
        ("empty name", "organization.name", "non-empty"),
        ("bad language", "organization.language", "unknown value"),
        ("short retention", "retention.alerts", "at least 1d"),
        ("digit code", "alert_codes[1].word", "taken for a PIN"),
    ],
)
def test_bad_config_names_the_key(change: str, key: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        data = _broken(change)
        parse_org_config(data)
        parse_lists(data, others_allowed=True)  # the lists' sections, as `init --import-lists` reads them
    assert caught.value.key == key
    assert words in str(caught.value) and "\n" not in str(caught.value)


def test_environment_defaults_and_errors() -> None:
    settings = load_settings({})
    assert settings.token is None and settings.api_base_url == "https://api.telegram.org/bot"
    assert settings.data_dir == Path("./data") and settings.config_path == Path("./config/org.toml")
    local = load_settings({"TELEGRAM_API_BASE_URL": "http://127.0.0.1:8081/bot/", "TELEGRAM_BOT_TOKEN": "1:a"})
    assert local.api_base_url == "http://127.0.0.1:8081/bot"
    assert "1:a" not in repr(local)
    with pytest.raises(ConfigError, match="TELEGRAM_API_BASE_URL"):
        load_settings({"TELEGRAM_API_BASE_URL": "127.0.0.1:8081"})
    with pytest.raises(ConfigError, match="TELEGRAM_BOT_TOKEN"):
        load_settings({"TELEGRAM_BOT_TOKEN": "not a token"})


def test_bad_file_stops_start_up_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "org.toml"
    bad.write_text((ROOT / "config" / "org.example.toml").read_text().replace('language = "es"', 'language = "de"'))
    env = {"OUTREACH_CONFIG": str(bad), "OUTREACH_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"}
    for command in (["init"], ["invite", "--role", "worker"], ["run"]):
        done = subprocess.run(
            [sys.executable, "-m", "bot", *command], env=env, capture_output=True, text=True, cwd=ROOT, timeout=60
        )
        assert done.returncode == 2, done.stderr
        assert done.stderr.strip().splitlines() == [
            "outreach-bot: config error: organization.language: unknown value 'de'; use one of es, en, fr, pt, ar"
        ]
    assert not (tmp_path / "data" / "outreach.db").exists()


def test_init_makes_the_data_dir_private(tmp_path: Path) -> None:
    """A neighbour on the host cannot even list the data dir (it held 0755 before)."""
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    env = {
        "OUTREACH_CONFIG": str(ROOT / "config" / "org.example.toml"),
        "OUTREACH_DATA_DIR": str(data),
        "OUTREACH_KEY_FILE": str(tmp_path / "keys" / "key"),
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot", "init"], env=env, capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert data.stat().st_mode & 0o777 == 0o700
