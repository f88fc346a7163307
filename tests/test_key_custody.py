"""The key never sits beside the data: a key file elsewhere, a key command, systemd credentials, a
Docker secret or the environment; a paper copy; and one line for every mistake (issue 13)."""

from __future__ import annotations

import base64
import secrets
import stat
from pathlib import Path

import pytest

from bot import keys
from config import load_settings
from config.settings import Settings
from storage.sealing import KeyProblem
from tests.test_keys import _cli, _paper, one_line


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_init_creates_the_key_where_told_and_prints_a_paper_copy(tmp_path: Path) -> None:
    data = tmp_path / "data"
    vault = tmp_path / "vault" / "key"
    made = _cli(data, "init", "--key-file", str(vault), env_extra={"OUTREACH_KEY_FILE": ""})
    assert made.returncode == 0, made.stderr
    assert stat.S_IMODE(vault.stat().st_mode) == 0o600 and stat.S_IMODE(vault.parent.stat().st_mode) == 0o700
    assert f"Set OUTREACH_KEY_FILE={vault}" in made.stdout
    key = keys.decoded(vault.read_text(), "key")
    for name, content in _files(data).items():  # nothing in the data dir is the key
        assert base64.b64encode(key) not in content and key not in content, name
    paper = _paper(made.stdout)
    assert len(paper.splitlines()) == 4 and keys.from_paper(paper) == key

    again = tmp_path / "from-paper" / "key"
    restored = _cli(data, "key", "restore", str(again), stdin=paper + "\n\n", env_extra={"OUTREACH_KEY_FILE": ""})
    assert restored.returncode == 0, restored.stderr
    assert keys.decoded(again.read_text(), "key") == key and stat.S_IMODE(again.stat().st_mode) == 0o600
    lines = paper.splitlines()
    # The first letter of line 2 mistyped (by position: that letter may also be the line's number).
    typo = lines[1][:3] + ("A" if lines[1][3] != "A" else "B") + lines[1][4:]
    mistyped = "\n".join([lines[0], typo, *lines[2:]])
    wrong = tmp_path / "wrong" / "key"
    one_line(_cli(data, "key", "restore", str(wrong), stdin=mistyped + "\n\n"), "line 2 does not match")
    assert not wrong.exists()

    opened = _cli(data, "revoke", "W-AAAA", env_extra={"OUTREACH_KEY_FILE": str(vault)})
    one_line(opened, "no person with code")  # the database opened with that key
    one_line(_cli(data, "init", "--key-file", str(vault)), "use one way only")


def test_a_key_inside_the_data_or_config_dir_stops_start_up(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert _cli(data, "init").returncode == 0
    key_file = tmp_path / "keys" / "key"
    before = _files(data)

    (data / "key").write_bytes(key_file.read_bytes())  # as an older version left it
    one_line(_cli(data, "invite", "--role", "worker"), f"a key is kept in the data dir ({data / 'key'})")
    one_line(_cli(data, "init"), "move it out")
    (data / "key").unlink()
    (tmp_path / "config" / "spare.key").write_bytes(key_file.read_bytes())
    one_line(_cli(data, "invite", "--role", "worker"), "a key is kept in the config dir")
    (tmp_path / "config" / "spare.key").unlink()
    inside = {"OUTREACH_KEY_FILE": str(data / "secret")}
    one_line(_cli(data, "init", env_extra=inside), "is inside the data dir")
    assert not (data / "secret").exists() and _files(data) == before  # nothing changed


def test_a_key_command_gives_the_key_and_its_failures_are_one_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    stored = tmp_path / "store" / "outreach"
    stored.parent.mkdir()
    stored.write_text(base64.b64encode(secrets.token_bytes(32)).decode() + "\n")
    command = {"OUTREACH_KEY_COMMAND": f"cat '{stored}'"}  # like `pass show outreach/key`
    made = _cli(data, "init", env_extra=command)
    assert made.returncode == 0 and "key from the key command" in made.stdout, made.stderr
    one_line(_cli(data, "revoke", "W-AAAA", env_extra=command), "no person with code")
    before = _files(data)
    one_line(_cli(data, "invite", "--role", "worker", env_extra={"OUTREACH_KEY_COMMAND": "false"}), "status 1")
    one_line(_cli(data, "init", env_extra={"OUTREACH_KEY_COMMAND": "echo c2hvcnQ="}), "must decode to 32 bytes")
    missing = {"OUTREACH_KEY_COMMAND": "no-such-vault get"}
    one_line(_cli(data, "init", env_extra=missing), "'no-such-vault' was not found")
    one_line(_cli(data, "init", env_extra={"OUTREACH_KEY_COMMAND": "cat 'unclosed"}), "unclosed quote")
    assert _files(data) == before

    shredded = _cli(data, "shred", stdin="DESTROY\n", env_extra=command)
    assert shredded.returncode == 1 and "Key destroyed" not in shredded.stdout
    assert "NOT destroyed: the key that the key command (OUTREACH_KEY_COMMAND) gives" in shredded.stdout

    one_line(_cli(data, "rotate-key", env_extra=command), "--new-key-file")
    new_file = tmp_path / "new" / "key"
    new_file.parent.mkdir()
    rotated = _cli(data, "rotate-key", "--new-key-file", str(new_file), env_extra=command)
    assert rotated.returncode == 0 and f"key shred-file {new_file}" in rotated.stdout, rotated.stderr
    one_line(_cli(data, "revoke", "W-AAAA", env_extra=command), "key does not open")  # the old key no longer does
    new_command = {"OUTREACH_KEY_COMMAND": f"cat '{new_file}'"}
    one_line(_cli(data, "revoke", "W-AAAA", env_extra=new_command), "no person with code")


def test_systemd_credentials_and_docker_secrets_are_found(tmp_path: Path) -> None:
    data = tmp_path / "data"
    credentials = tmp_path / "run" / "credentials" / "outreach.service"
    credentials.mkdir(parents=True)
    (credentials / "outreach-key").write_text(base64.b64encode(secrets.token_bytes(32)).decode())
    made = _cli(data, "init", env_extra={"CREDENTIALS_DIRECTORY": str(credentials)})
    assert made.returncode == 0 and f"key from the key file {credentials / 'outreach-key'}" in made.stdout, made.stderr

    made_for_docker = tmp_path / "compose" / "outreach_key"  # `secrets: {outreach_key: {file: ./outreach_key}}`
    new = _cli(data, "key", "new", str(made_for_docker))
    assert new.returncode == 0 and stat.S_IMODE(made_for_docker.stat().st_mode) == 0o600, new.stderr
    assert keys.from_paper(_paper(new.stdout)) == keys.decoded(made_for_docker.read_text(), "key")
    one_line(_cli(data, "key", "new", str(made_for_docker)), "is never overwritten")

    secret = tmp_path / "run" / "secrets" / "outreach_key"
    base = Settings(token=None, api_base_url="", data_dir=data, config_path=tmp_path / "config" / "org.toml")
    plain = Settings(**{**base.__dict__, "docker_secret": secret})
    assert keys.locate(plain).kind == keys.NONE
    secret.parent.mkdir(parents=True)
    secret.write_text(base64.b64encode(secrets.token_bytes(32)).decode())
    found = keys.locate(plain)
    assert (found.kind, found.path) == (keys.FILE, secret)
    assert keys.load(plain) == keys.decoded(secret.read_text(), "secret")


def test_one_way_to_the_key_at_a_time() -> None:
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    with pytest.raises(Exception, match="OUTREACH_KEY_FILE: set only one way to the key"):
        load_settings({"OUTREACH_KEY": key, "OUTREACH_KEY_FILE": "/etc/outreach/key"})


def test_a_paper_copy_reads_back_whatever_the_spacing_and_case() -> None:
    key = secrets.token_bytes(32)
    paper = keys.paper_copy(key)
    assert keys.from_paper(paper.lower().replace("  ", " ")) == key
    with pytest.raises(KeyProblem, match="lines are missing"):
        keys.from_paper("\n".join(paper.splitlines()[:3]))
    with pytest.raises(KeyProblem, match="is not like"):
        keys.from_paper("my key is in the drawer")
