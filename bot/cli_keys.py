"""The command line's key commands: the key for init and run, `key new|paper|restore`, rotate-key
and shred, each for whichever source holds the key (bot.keys)."""

from __future__ import annotations

import argparse
import getpass
import os
import secrets
import sys
from pathlib import Path

from bot import keys
from bot.failure import Fail
from bot.keys import COMMAND, ENV, FILE, KeySource
from bot.services import shred
from config.settings import Settings
from storage import Storage
from storage.db import Database
from storage.rotation import rotate
from storage.sealing import KeyProblem, Sealer, decode_key

PAPER_NOTE = (
    "Paper copy of the key, for a safe away from the server (with it, `outreach-bot key restore FILE`\n"
    "makes the key file again; without the key nobody, us included, can open the data):"
)


def key_for_init(settings: Settings, key_file: str | None) -> tuple[bytes, KeySource, bool]:
    """The key init opens the database with, its source, and whether init just created it (in the
    key file the operator named: --key-file or OUTREACH_KEY_FILE)."""
    source = keys.locate(settings)
    if key_file:
        if source.kind not in (FILE, keys.NONE) or (source.kind == FILE and source.variable == "OUTREACH_KEY_FILE"):
            raise Fail(f"--key-file: the key already comes from {source.describe()}; use one way only")
        source = KeySource(FILE, Path(key_file).expanduser(), "--key-file")
    try:
        if source.kind == FILE and source.path is not None and not source.path.exists():
            beside = keys.key_beside_data(settings)
            if beside is not None:
                raise KeyProblem(beside)
            keys.refuse_inside(settings, source)
            if settings.db_path.exists():
                raise Fail(
                    f"{settings.db_path} exists but its key file {source.path} does not: put the key back "
                    "(`outreach-bot key restore FILE` from its paper copy); a new key could not open this database"
                )
            return keys.create_file(settings, source), source, True
        return keys.load(settings, source), source, False
    except KeyProblem as exc:
        raise Fail(f"config error: {exc}") from None


def key_for_run(settings: Settings) -> bytes:
    try:
        return keys.load(settings)
    except KeyProblem as exc:
        raise Fail(f"config error: {exc}") from None


def print_paper(key: bytes) -> None:
    print(f"\n{PAPER_NOTE}\n\n{keys.paper_copy(key)}\n")


def cmd_key(args: argparse.Namespace, settings: Settings) -> None:
    """`key new FILE`: a new key file (for a Docker secret, say); `key paper`: the paper copy of the
    key in use; `key restore FILE`: the key file again, from its paper copy typed on stdin;
    `key shred-file FILE`: overwrite and remove a copy of a key (the one rotate-key leaves)."""
    if args.action == "paper":
        print_paper(key_for_run(settings))
        return
    if args.action == "shred-file":
        if not args.file or not Path(args.file).is_file():
            raise Fail("key shred-file: name a key file that exists")
        keys.shred_file(Path(args.file))
        print(f"Overwritten and removed {args.file}.")
        return
    if not args.file:
        raise Fail(f"key {args.action}: name the key file to write, like /etc/outreach-bot/key")
    source = KeySource(FILE, Path(args.file).expanduser(), "FILE")
    if source.path is not None and source.path.exists():
        raise Fail(f"key {args.action}: {source.path} exists; a key file is never overwritten")
    try:
        if args.action == "new":
            key = keys.create_file(settings, source)
        else:
            if sys.stdin.isatty():
                print("Type the paper copy's lines, then an empty line:")
            lines = []
            for line in sys.stdin:
                if not line.strip():
                    break
                lines.append(line)
            key = keys.create_file(settings, source, keys.from_paper("".join(lines)))
    except KeyProblem as exc:
        raise Fail(f"key {args.action}: {exc}") from None
    print(f"Key written to {source.path} (0600). Set OUTREACH_KEY_FILE={source.path}.")
    if args.action == "new":
        print_paper(key)


def _pending_for(settings: Settings, source: KeySource, new_key_file: str | None) -> Path:
    """Where the new key waits while rows move to it: beside the key file (its own folder, outside
    the data dir), or where --new-key-file says when the key comes from a command or the environment."""
    legacy = settings.data_dir / "key.new"  # an unfinished rotation of an older version
    if legacy.exists():
        return legacy
    if new_key_file:
        pending = Path(new_key_file).expanduser()
        try:
            keys.refuse_inside(settings, KeySource(FILE, pending, "--new-key-file"))
        except KeyProblem as exc:
            raise Fail(str(exc)) from None
        return pending
    if source.kind == FILE and source.path is not None:
        return source.path.with_name(source.path.name + ".new")
    raise Fail(
        f"the key comes from {source.describe()}, where rotate-key cannot write: "
        "run `outreach-bot rotate-key --new-key-file PATH` (outside the data and config dirs)"
    )


async def cmd_rotate_key(args: argparse.Namespace, settings: Settings) -> None:
    """Re-seal everything under a new key; resumable; the old key file is overwritten at the end."""
    source = keys.locate(settings)
    legacy = (settings.data_dir / "key.new").exists() and source.kind == keys.NONE
    if legacy:  # an older version's rotation, its key beside the data: finished here, then moved out
        old = keys.decoded(settings.key_path.read_text(), str(settings.key_path))
    else:
        old = key_for_run(settings)
    pending = _pending_for(settings, source, args.new_key_file)
    if pending.exists():  # an interrupted rotation: finish it with the same new key
        new = decode_key(pending.read_text())
        print("Resuming an interrupted rotation.")
    else:
        new = secrets.token_bytes(32)
        try:
            keys.write_new(pending, new)
        except OSError as exc:
            raise Fail(f"cannot write the new key to {pending} ({exc.strerror}): use --new-key-file PATH") from None
    if new == old:  # the key file was already replaced: the rotation had ended but for this file
        pending.unlink()
        print(f"The rotation had finished; removed {pending}.")
        return
    db = await Database.open(settings.db_path)
    try:
        moved, left = await rotate(db, Sealer(new, old_masters=(old,)), stop_after=args.stop_after)
        if left:
            print(f"Stopped after {moved} rows; run `outreach-bot rotate-key` again to finish.")
            return
        await db.checkpoint()
    finally:
        await db.close()
    target = source.path if source.kind == FILE else settings.key_path if legacy else None
    if target is None:
        print(
            f"Re-sealed {moved} values under the new key in {pending}. Put it where {source.describe()} "
            f"reads it (the paper copy below is the same key), restart, then destroy that file: "
            f"`outreach-bot key shred-file {pending}`. Backups made before now need the old key."
        )
        print_paper(new)
        return
    _overwrite(target, pending.read_bytes())  # no moment without a key file on disk
    pending.unlink()
    print(f"Re-sealed {moved} values under a new key; the old key is destroyed. Backups made before now need it.")
    if legacy:
        print(keys.key_beside_data(settings) or "")
    print_paper(new)


def _overwrite(path: Path, content: bytes) -> None:
    """Write the new key over the old one's bytes in place, flushed to disk: the old key is gone and
    a crash at any moment leaves a key file (old or new) next to the pending one, from which rotate-key
    resumes."""
    with path.open("r+b") as fh:
        fh.write(content)
        fh.truncate()
        fh.flush()
        os.fsync(fh.fileno())


def cmd_shred(args: argparse.Namespace, settings: Settings) -> None:
    """Destroy the key after a typed confirmation: the data becomes unreadable at once."""
    source = keys.locate(settings)
    if not keys.key_files(settings, source) and source.kind not in (ENV, COMMAND):
        raise Fail("no key file to destroy")
    print("This destroys the key. Everything sealed in the database becomes unreadable, for ever.")
    try:
        answer = input("Type DESTROY to go on: ") if not args.yes_i_am_sure else "DESTROY"
    except EOFError:  # no terminal to type on (docker exec without -it)
        answer = ""
    if answer.strip() != "DESTROY":
        raise Fail("nothing destroyed")
    done, left = keys.shred_all(settings)
    if left:  # never "destroyed" while a key that opens the data is left
        gone = f"Key file destroyed ({', '.join(str(p) for p in done)}). " if done else "No key file destroyed. "
        print(gone + "NOT destroyed: " + "; ".join(left) + ". Then stop the bot.")
        raise SystemExit(1)
    print("Key destroyed.")


SHRED_PHRASE_NOTE = (
    "No shred phrase yet: set one with `outreach-bot shred-phrase set`, and an admin can destroy the key"
    " from the chat (/shred) when they hear of a raid."
)


def read_phrase(*, optional: bool = False) -> str | None:
    """A new shred phrase, typed twice (hidden at a terminal; two lines on stdin otherwise). None when
    `optional` and the first answer is empty."""
    try:
        if sys.stdin.isatty():
            first = getpass.getpass(f"Shred phrase (a few words, at least {shred.MIN_LENGTH} characters): ")
            if optional and not first.strip():
                return None
            again = getpass.getpass("The same phrase again: ")
        else:
            first, again = sys.stdin.readline(), sys.stdin.readline()
    except EOFError:
        first = again = ""
    if shred.normal(first) != shred.normal(again):
        raise Fail("shred phrase: the two did not match; nothing was changed")
    problem = shred.phrase_problem(first)
    if problem is not None:
        raise Fail(f"{problem}; nothing was changed")
    return first


async def cmd_shred_phrase(args: argparse.Namespace, storage: Storage) -> None:
    """`shred-phrase set`: set or change the phrase an admin types after /shred; `clear`: no phrase,
    the chat's shred is off. Only a slow digest of it is kept, sealed."""
    if args.action == "clear":
        await shred.clear_phrase(storage)
        print("Shred phrase removed: /shred is off.")
        return
    phrase = read_phrase()
    assert phrase is not None
    changed = await shred.phrase_is_set(storage)
    await shred.set_phrase(storage, phrase)
    print(
        ("Shred phrase changed." if changed else "Shred phrase set.")
        + " An admin sends /shred in the chat, types it and confirms: the key is destroyed."
        " Keep the phrase apart from the key."
    )


async def offer_phrase(storage: Storage, *, ask: bool) -> None:
    """At init while no shred phrase is set: ask for one (`ask`: with a new key, someone at the
    terminal), else say in one line how to set one."""
    if await shred.phrase_is_set(storage):
        return
    if not ask or not sys.stdin.isatty():
        print(SHRED_PHRASE_NOTE)
        return
    print("A shred phrase lets an admin destroy the key from the chat (/shred) when they hear of a raid.")
    phrase = read_phrase(optional=True)
    if phrase is None:
        print(SHRED_PHRASE_NOTE)
        return
    await shred.set_phrase(storage, phrase)
    print("Shred phrase set.")
