"""The image never holds an organisation's config, key or data (issue 14, Build item 8).

Docker decides what enters the build context from .dockerignore; this test applies the same rules
(moby/patternmatcher: each pattern cleaned, `*` within one path element, `**` across any number,
a pattern also excluding everything below a directory it matches, `!` re-including, the last match
winning) to the repository's files plus the files an organisation would have beside them, so it
needs no Docker daemon. The wheel's package data is checked on a real build.
"""

from __future__ import annotations

import posixpath
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# What an organisation's checkout holds after following the README: none of it may enter the image.
SECRETS = [
    "config/org.toml",
    "config/lists.toml",
    "config/org.local.toml",
    "lists.toml",
    "outreach_key",
    "key",
    "secrets/outreach_key",
    "config/outreach.key",
    "data/outreach.db",
    "data/outreach.db-wal",
    "data/outreach.db-shm",
    "data/shredded",
    "outreach.db",
    "backups/outreach-2026-12-06.bak",
    "sandbox/outreach.sqlite3",
    "tests/tmp/data/outreach.db",
    ".env",
    "server.pem",
]
# What the Dockerfile copies and the image needs.
NEEDED = [
    "Dockerfile",
    "pyproject.toml",
    "README.md",
    "bot/keys.py",
    "bot/cli_keys.py",
    "bot/cli.py",
    "storage/migrations.py",
    "config/org.py",
    "config/org.example.toml",
    "config/lists.example.toml",
]


def _compile(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern as Docker's patternmatcher compiles it."""
    out = "^"
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            if pattern[i + 1 : i + 2] == "*":
                i += 1
                if pattern[i + 1 : i + 2] == "/":
                    i += 1
                out += ".*" if i + 1 == len(pattern) else "(.*/)?"
            else:
                out += "[^/]*"
        elif ch == "?":
            out += "[^/]"
        elif ch == "[":
            end = pattern.index("]", i)
            out += pattern[i : end + 1]
            i = end
        elif ch == "\\" and i + 1 < len(pattern):
            i += 1
            out += re.escape(pattern[i])
        else:
            out += re.escape(ch)
        i += 1
    return re.compile(out + "$")


def _rules(text: str) -> list[tuple[bool, re.Pattern[str]]]:
    """(exclusion?, regexp) per line, as Docker reads .dockerignore."""
    rules = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keep = line.startswith("!")
        line = line[1:].strip() if keep else line
        line = posixpath.normpath(line).lstrip("/")
        rules.append((keep, _compile(line)))
    return rules


def excluded(path: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """MatchesOrParentMatches: a pattern matching the file or any directory above it decides."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    out = False
    for keep, rx in rules:
        if any(rx.match(p) for p in prefixes):
            out = not keep
    return out


def _context(files: list[str]) -> set[str]:
    rules = _rules((ROOT / ".dockerignore").read_text())
    return {f for f in files if not excluded(f, rules)}


def _tracked() -> list[str]:
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    return [line for line in listed.stdout.splitlines() if line]


def test_matcher_follows_docker_rules() -> None:
    """The matcher itself: directory patterns cover their contents, `!` re-includes, last match wins."""
    rules = _rules("data\n**/*.db\nconfig/*.toml\n!config/org.example.toml\n/.venv\n")
    assert excluded("data/x/y.txt", rules)
    assert excluded("a/b/c.db", rules) and excluded("c.db", rules)
    assert excluded("config/org.toml", rules)
    assert not excluded("config/org.example.toml", rules)
    assert not excluded("config/sub/org.toml", rules)  # `*` stays within one path element
    assert excluded(".venv/bin/python", rules)
    assert not excluded("bot/data.py", rules)


def test_no_config_key_or_database_enters_the_build_context() -> None:
    """An organisation's config, lists, key, database or backup beside the code stays out of the context."""
    files = _tracked() + SECRETS + [".venv/lib/site.py", ".git/config", "bot/__pycache__/cli.cpython-311.pyc"]
    context = _context(files)
    leaked = sorted(set(SECRETS) & context)
    assert not leaked, f"would enter the image: {leaked}"
    assert not any(f.startswith((".venv/", ".git/")) for f in context)
    missing = sorted(set(NEEDED) - context)
    assert not missing, f"the image would lack: {missing}"
    # Every tracked config TOML that enters is an example.
    assert {f for f in context if f.startswith("config/") and f.endswith(".toml")} == {
        "config/org.example.toml",
        "config/lists.example.toml",
    }


def test_dockerfile_copies_only_what_the_context_holds() -> None:
    """Each COPY source of the Dockerfile is in the context (the build works) and is code or an example."""
    context = _context(_tracked() + SECRETS)
    sources = []
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY "):
            sources += [s for s in line.split()[1:-1] if not s.startswith("--")]
    assert sources, "no COPY in the Dockerfile"
    for src in sources:
        assert any(f == src or f.startswith(src.rstrip("/") + "/") for f in context), f"COPY {src}: not in context"


def test_package_data_ships_only_the_examples() -> None:
    """pyproject's package-data for config names the example files only."""
    setup = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    patterns = setup["package-data"]["config"]
    from fnmatch import fnmatch

    for name in ("org.toml", "lists.toml", "outreach_key", "outreach.db", "org.local.toml"):
        assert not any(fnmatch(name, p) for p in patterns), f"package-data {patterns} takes {name}"
    for name in ("org.example.toml", "lists.example.toml"):
        assert any(fnmatch(name, p) for p in patterns)


def test_wheel_holds_no_config_but_the_examples(tmp_path: Path) -> None:
    """A wheel built from the sources with an org.toml and lists.toml beside them holds neither."""
    src = tmp_path / "src"
    for name in ("pyproject.toml", "README.md"):
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_bytes((ROOT / name).read_bytes())
    for f in _tracked():
        if f.startswith(("bot/", "storage/", "config/")):
            (src / f).parent.mkdir(parents=True, exist_ok=True)
            (src / f).write_bytes((ROOT / f).read_bytes())
    (src / "config/org.toml").write_text('[organization]\nname = "MARKER-ORG"\n')
    (src / "config/lists.toml").write_text("# MARKER-LISTS\n")
    out = tmp_path / "lib"
    # build_py is the step that lays out a wheel's contents (packages and their package data).
    built = subprocess.run(
        [sys.executable, "-c", "from setuptools import setup; setup()", "-q", "build_py", "--build-lib", str(out)],
        cwd=src,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if built.returncode != 0:
        pytest.fail(f"setuptools build_py failed: {built.stderr[-2000:]}")
    names = [p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()]
    tomls = sorted(n for n in names if n.endswith(".toml"))
    assert tomls == ["config/lists.example.toml", "config/org.example.toml"], tomls
    assert "bot/keys.py" in names and "bot/locales/messages.pot" in names


def test_compose_runs_with_secret_volume_and_healthcheck() -> None:
    """compose.yaml: the key as the secret bot/keys.py finds, the data as a named volume, config read-only."""
    text = (ROOT / "compose.yaml").read_text()
    assert re.search(r"^secrets:\n  outreach_key:\n    file: \./outreach_key$", text, re.M)
    assert re.search(r"^    secrets:\n      - outreach_key$", text, re.M)
    assert re.search(r"^      - outreach-data:/data$", text, re.M)
    assert re.search(r"^volumes:\n  outreach-data:", text, re.M)
    assert re.search(r"^      - \./config:/config:ro$", text, re.M)
    assert 'test: ["CMD", "outreach-bot", "health"]' in text
    from config.settings import DOCKER_SECRET

    assert Path("/run/secrets") / "outreach_key" == DOCKER_SECRET  # where Compose mounts the secret
