"""The key's custody: where it comes from, and never beside the data.

One way at a time (README, "The key"):
- a key file outside the data and config dirs: OUTREACH_KEY_FILE, or where Docker/Compose secrets
  (/run/secrets/outreach_key) or systemd's LoadCredentialEncrypted= ($CREDENTIALS_DIRECTORY/outreach-key)
  put it;
- a command that prints the key (OUTREACH_KEY_COMMAND, like restic's --password-command), run once
  at start: `pass`, Vault, a cloud KMS, `systemd-creds decrypt`;
- the environment (OUTREACH_KEY).

A key found in the data or config dir stops start-up: a copy of those dirs (a raid, a backup, a
Docker volume) would otherwise carry its own key. The sandbox keeps its throwaway key in its own
data dir and does not come here.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

from config.settings import Settings
from storage.sealing import KEY_BYTES, KeyProblem, decode_key

FILE, COMMAND, ENV, NONE = "file", "command", "env", "none"
SYSTEMD_CREDENTIAL = "outreach-key"
COMMAND_TIMEOUT = 30.0  # seconds: a key command that hangs must not hang start-up for ever
LOOKS_LIKE_A_KEY = 128  # bytes: files this small in the data or config dir are checked for a key


@dataclass(frozen=True)
class KeySource:
    kind: str
    path: Path | None = None  # FILE
    variable: str = ""  # the setting that named it, for messages

    def describe(self) -> str:
        if self.kind == FILE:
            return f"the key file {self.path}"
        return {COMMAND: "the key command (OUTREACH_KEY_COMMAND)", ENV: "OUTREACH_KEY"}.get(self.kind, "no key")


def locate(settings: Settings) -> KeySource:
    """The one source the settings name (load_settings refuses two), else a secret or credential
    where Docker or systemd put it."""
    if settings.key_b64:
        return KeySource(ENV, variable="OUTREACH_KEY")
    if settings.key_command:
        return KeySource(COMMAND, variable="OUTREACH_KEY_COMMAND")
    if settings.key_file is not None:
        return KeySource(FILE, settings.key_file, "OUTREACH_KEY_FILE")
    if settings.credentials_dir is not None and (settings.credentials_dir / SYSTEMD_CREDENTIAL).exists():
        return KeySource(FILE, settings.credentials_dir / SYSTEMD_CREDENTIAL, "CREDENTIALS_DIRECTORY")
    if settings.docker_secret.exists():
        return KeySource(FILE, settings.docker_secret, "/run/secrets")
    return KeySource(NONE)


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def _guarded(settings: Settings) -> list[tuple[Path, str]]:
    return [(settings.data_dir, "data dir"), (settings.config_path.parent, "config dir")]


def key_beside_data(settings: Settings) -> str | None:
    """One line saying how to move a key found in the data or config dir; None if there is none."""
    for folder, name in _guarded(settings):
        if not folder.is_dir():
            continue
        for entry in sorted(folder.iterdir()):
            if entry.name == "key.new" and folder == settings.data_dir:
                continue  # an unfinished rotation of an older version: rotate-key finishes it
            try:
                small = entry.is_file() and entry.stat().st_size <= LOOKS_LIKE_A_KEY
                decode_key(entry.read_text()) if small else None
            except (OSError, UnicodeDecodeError, KeyProblem):
                continue
            if small:
                return (
                    f"a key is kept in the {name} ({entry}), where a copy of that dir would carry it: move it "
                    f"out (e.g. `mv {entry} /etc/outreach-bot/key`) and set OUTREACH_KEY_FILE to its new place"
                )
    return None


def load(settings: Settings, source: KeySource | None = None) -> bytes:
    """The key, or KeyProblem with one line naming the setting and what is wrong."""
    source = source or locate(settings)
    beside = key_beside_data(settings)
    if beside is not None:
        raise KeyProblem(beside)
    if source.kind == ENV:
        return decoded(settings.key_b64 or "", "OUTREACH_KEY")
    if source.kind == COMMAND:
        return decoded(_run_command(settings.key_command or ""), "OUTREACH_KEY_COMMAND: its output")
    if source.kind == FILE:
        assert source.path is not None
        refuse_inside(settings, source)
        try:
            text = source.path.read_text()
        except FileNotFoundError:
            raise KeyProblem(
                f"{source.variable}: {source.path} does not exist (`outreach-bot init` creates it)"
            ) from None
        except OSError as exc:
            raise KeyProblem(f"{source.variable}: cannot read {source.path} ({exc.strerror})") from None
        return decoded(text, f"{source.variable}: {source.path}")
    raise KeyProblem(
        "no key: set OUTREACH_KEY_FILE to a path outside the data and config dirs (`outreach-bot init` creates "
        "the key there), or OUTREACH_KEY_COMMAND, or OUTREACH_KEY"
    )


def decoded(text: str, what: str) -> bytes:
    try:
        return decode_key(text)
    except KeyProblem as exc:
        raise KeyProblem(f"{what} {exc}") from None


def refuse_inside(settings: Settings, source: KeySource) -> None:
    assert source.path is not None
    for folder, name in _guarded(settings):
        if _inside(source.path, folder):
            raise KeyProblem(f"{source.variable}: {source.path} is inside the {name}; keep the key elsewhere")


def _run_command(command: str) -> str:
    """The key command's output. Its own error output is not shown: it may name the secret store."""
    try:
        done = subprocess.run(  # noqa: S603 - the operator's own command, split like a shell would
            shlex.split(command), capture_output=True, text=True, timeout=COMMAND_TIMEOUT, check=False
        )
    except ValueError:
        raise KeyProblem("OUTREACH_KEY_COMMAND: cannot be split into words (an unclosed quote?)") from None
    except FileNotFoundError:
        raise KeyProblem(f"OUTREACH_KEY_COMMAND: {shlex.split(command)[0]!r} was not found") from None
    except subprocess.TimeoutExpired:
        raise KeyProblem(f"OUTREACH_KEY_COMMAND: no answer in {COMMAND_TIMEOUT:.0f} s") from None
    except OSError as exc:
        raise KeyProblem(f"OUTREACH_KEY_COMMAND: could not run ({exc.strerror})") from None
    if done.returncode != 0:
        raise KeyProblem(f"OUTREACH_KEY_COMMAND: exited with status {done.returncode}")
    return done.stdout


def create_file(settings: Settings, source: KeySource, key: bytes | None = None) -> bytes:
    """A key (a new one unless given) in the source's file (0600, its folder 0700 if new); refused
    inside the data or config dir and over an existing file."""
    assert source.kind == FILE and source.path is not None
    refuse_inside(settings, source)
    key = key if key is not None else secrets.token_bytes(KEY_BYTES)
    source.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    write_new(source.path, key)
    return key


def write_new(path: Path, key: bytes) -> None:
    """Write a key to a file that must not exist yet, 0600, flushed to disk."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(base64.b64encode(key).decode() + "\n")
        out.flush()
        os.fsync(out.fileno())


# -- the paper copy ----------------------------------------------------------------------------
GROUP, PER_LINE = 4, 4


def _check(chunk: bytes) -> str:
    return base64.b32encode(hashlib.sha256(chunk).digest()[:1]).decode()[:2]


def paper_copy(key: bytes) -> str:
    """The key as groups of letters and digits to write down or print for a safe: 4 lines of 4
    groups, each line with a 2-letter check, so that a mistyped line is found line by line."""
    text = base64.b32encode(key).decode().rstrip("=")  # 52 characters: A-Z and 2-7, no 0/O or 1/I mix-up
    groups = [text[i : i + GROUP] for i in range(0, len(text), GROUP)]
    lines = []
    for number, start in enumerate(range(0, len(groups), PER_LINE), 1):
        part = " ".join(groups[start : start + PER_LINE])
        lines.append(f"{number}: {part}  {_check(f'{number}:{part}'.encode())}")
    return "\n".join(lines)


def from_paper(text: str) -> bytes:
    """The key back from its paper copy (spaces and case do not matter); KeyProblem names the line
    that does not match its check."""
    letters = []
    for line in [ln for ln in text.strip().splitlines() if ln.strip()]:
        number, _, rest = line.partition(":")
        words = rest.upper().split()
        if not number.strip().isdigit() or len(words) < 2:
            raise KeyProblem(f"paper copy: line {line.strip()[:8]!r}… is not like '1: ABCD EFGH IJKL MNOP  XY'")
        part, check = " ".join(words[:-1]), words[-1]
        if _check(f"{int(number)}:{part}".encode()) != check:
            raise KeyProblem(f"paper copy: line {int(number)} does not match its check; read it again")
        letters.append(part.replace(" ", ""))
    joined = "".join(letters)
    try:
        key = base64.b32decode(joined + "=" * (-len(joined) % 8))
    except ValueError:
        raise KeyProblem("paper copy: not the letters of a key") from None
    if len(key) != KEY_BYTES:
        raise KeyProblem("paper copy: lines are missing")
    return key


def shred_file(path: Path) -> None:
    """Overwrite a key file with random bytes, flush it to disk, then remove it."""
    if not path.exists():
        return
    size = max(path.stat().st_size, 64)
    with path.open("r+b") as out:
        out.write(secrets.token_bytes(size))
        out.flush()
        os.fsync(out.fileno())
    path.unlink()


def key_files(settings: Settings, source: KeySource) -> list[Path]:
    """Every file there is that holds the key or the one a rotation is moving to."""
    files = [settings.key_path, settings.data_dir / "key.new"]
    if source.kind == FILE and source.path is not None:
        files += [source.path, source.path.with_name(source.path.name + ".new")]
    return [path for path in dict.fromkeys(files) if path.exists()]


def shred_all(settings: Settings) -> tuple[list[Path], list[str]]:
    """Overwrite and remove every key file there is; (files destroyed, what could not be destroyed,
    each as one line). The CLI's `shred` and the chat's shred phrase both come here."""
    source = locate(settings)
    done: list[Path] = []
    left: list[str] = []
    for path in key_files(settings, source):
        try:
            shred_file(path)
            done.append(path)
        except OSError as exc:
            left.append(f"{path} could not be overwritten ({exc.strerror}): remove it where it comes from")
    if source.kind in (ENV, COMMAND):
        left.append(f"the key that {source.describe()} gives still opens the data: remove it where it is kept")
    return done, left
