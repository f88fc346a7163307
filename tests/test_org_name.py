"""The organisation's name is kept sealed in the database, never in the config file: a raided server's
config and data dirs do not say whose they are. `init --name` sets it, `rename` changes it (audit-logged);
an older config file that still holds `[organization] name` has it imported once, folded into the one
start-up warning line with the lists."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

from tests.test_lists import EXTRA, ROOT, _audit_actions, _cli, _install, _stored

NAME = "Colectivo Zafiro de Quetzaltenango"
OTHER = "Red Ópalo Comunitaria"


def _no_trace(tmp: Path, *names: str) -> None:
    raw = _stored(tmp)
    assert raw, "the data dir holds the database"
    for name in names:
        for form in (name, name.casefold(), name.upper(), name.split()[1]):
            assert form.encode("utf-8") not in raw, form
            assert form.encode("utf-16-le") not in raw, form


def _ready(done: subprocess.CompletedProcess[str]) -> str:
    return next(line for line in done.stdout.splitlines() if line.startswith("Ready: "))


def _legacy(name: str, lists: str = "") -> str:
    """An older install's config: the example with the name still under [organization] (and maybe lists)."""
    text = (ROOT / "config" / "org.example.toml").read_text(encoding="utf-8")
    assert "\nname =" not in text
    return text.replace("[organization]\n", f'[organization]\nname = "{name}"\n', 1) + lists


def test_init_with_name_keeps_it_sealed_and_rename_changes_it(tmp_path: Path) -> None:
    env = _install(tmp_path)
    done = _cli(env, "init", "--name", NAME)
    assert done.returncode == 0, done.stderr
    assert f"organisation {NAME!r}" in _ready(done) and "rename" not in done.stdout
    assert "warning" not in done.stderr
    _no_trace(tmp_path, NAME)
    # The next start (no --name) shows the stored name.
    again = _cli(env, "init")
    assert again.returncode == 0 and f"organisation {NAME!r}" in _ready(again), again.stderr
    renamed = _cli(env, "rename", f"  {OTHER} ")
    assert renamed.returncode == 0, renamed.stderr
    assert renamed.stdout.strip() == f"The organisation is now called {OTHER!r}."
    assert f"organisation {OTHER!r}" in _ready(_cli(env, "init"))
    # init --name again renames too.
    assert f"organisation {NAME!r}" in _ready(_cli(env, "init", "--name", NAME))
    _no_trace(tmp_path, NAME, OTHER)
    actions = [a for a in asyncio.run(_audit_actions(tmp_path)) if a.startswith("org.")]  # coded: read with the key
    assert actions == ["org.rename", "org.rename"]


def test_first_init_without_a_name_takes_a_neutral_one_and_says_how_to_name_it(tmp_path: Path) -> None:
    env = _install(tmp_path)
    done = _cli(env, "init")  # no terminal, no --name: it must not wait for anyone
    assert done.returncode == 0, done.stderr
    assert "organisation 'Our organisation'" in _ready(done)
    assert 'outreach-bot rename "NAME"' in done.stdout


def test_a_bad_name_gets_one_line_and_changes_nothing(tmp_path: Path) -> None:
    env = _install(tmp_path)
    assert _cli(env, "init", "--name", NAME).returncode == 0
    for bad, why in (("   ", "empty"), ("x" * 101, "too long"), ("Red\x07Bell", "control characters")):
        for args in (("rename", bad), ("init", "--name", bad)):
            done = _cli(env, *args)
            assert done.returncode == 2, args
            lines = done.stderr.strip().splitlines()
            assert len(lines) == 1 and why in lines[0] and "nothing changed" in lines[0], lines
    assert f"organisation {NAME!r}" in _ready(_cli(env, "init"))


def test_a_config_still_holding_the_name_imports_it_once_in_the_one_warning(tmp_path: Path) -> None:
    env = _install(tmp_path, _legacy(NAME, EXTRA))
    done = _cli(env, "init")
    assert done.returncode == 0, done.stderr
    warning = done.stderr.strip().splitlines()
    assert len(warning) == 1 and warning[0].startswith("outreach-bot: warning: "), done.stderr
    assert "[organization] name, imported" in warning[0] and "[[hotspots]], [[alert_codes]], [[support]]" in warning[0]
    assert "delete those sections and the name" in warning[0] and NAME not in warning[0]
    assert f"organisation {NAME!r}" in _ready(done)
    # The file's name is no longer read: a changed one is ignored (and said to be), the stored one shown.
    config = tmp_path / "config" / "org.toml"
    config.write_text(_legacy(OTHER), encoding="utf-8")
    again = _cli(env, "init")
    lines = again.stderr.strip().splitlines()
    assert len(lines) == 1 and "[organization] name, which is ignored" in lines[0] and "rename" in lines[0], lines
    assert "delete that line" in lines[0]
    assert f"organisation {NAME!r}" in _ready(again)
    # Once the operator deletes it, the config reveals nothing, and the name still shows.
    config.write_text((ROOT / "config" / "org.example.toml").read_text(encoding="utf-8"), encoding="utf-8")
    clean = _cli(env, "init")
    assert clean.returncode == 0 and clean.stderr == "", clean.stderr
    assert f"organisation {NAME!r}" in _ready(clean)
    _no_trace(tmp_path, NAME, OTHER)


def test_init_name_beats_a_legacy_name_on_the_first_init(tmp_path: Path) -> None:
    env = _install(tmp_path, _legacy(OTHER))
    done = _cli(env, "init", "--name", NAME)
    assert done.returncode == 0, done.stderr
    assert f"organisation {NAME!r}" in _ready(done)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "which is ignored" in lines[0], lines
