"""`outreach-bot backup FILE` and `outreach-bot restore FILE` (storage.backup does the work)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from bot.cli_keys import key_for_run
from bot.failure import Fail
from config.settings import Settings
from storage import backup
from storage.migrations import MIGRATIONS
from storage.sealing import Sealer, SealError


def cmd_backup(args: argparse.Namespace, settings: Settings) -> None:
    """A consistent, sealed copy of the database, while the bot runs or not."""
    if not settings.db_path.exists():
        raise Fail(f"no database at {settings.db_path} to back up (OUTREACH_DATA_DIR)")
    out = Path(args.file).expanduser()
    if out.exists():
        raise Fail(f"{out} exists; a backup never overwrites a file")
    if not out.parent.is_dir():
        raise Fail(f"cannot write {out}: its folder does not exist")
    sealer = Sealer(key_for_run(settings))
    size = backup.make(settings.db_path, out, sealer)
    print(
        f"Backup written to {out} ({size / 1e6:.1f} MB, sealed under the key). It opens only with that key:"
        " keep the two apart, and a key rotation from now on makes this backup need today's key."
    )


def cmd_restore(args: argparse.Namespace, settings: Settings, stopped: bool) -> None:
    """Check a backup (integrity, that the key opens it, whose it is), show what it holds, then put it
    in place of the database once confirmed. Nothing is replaced until every check has passed."""
    if not stopped:
        raise Fail(f"the bot is running on {settings.data_dir}: stop it first, then restore")
    source = Path(args.file).expanduser()
    if not source.is_file():
        raise Fail(f"no backup file at {source}")
    sealer = Sealer(key_for_run(settings))
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    opened = settings.data_dir / f".restore-{os.getpid()}.db"
    opened.unlink(missing_ok=True)
    try:
        try:
            backup.unseal(source, opened, sealer)
            checked = backup.check(opened, sealer)
        except SealError:
            raise Fail("the key does not open what the backup holds; nothing replaced") from None
        except backup.BackupProblem as exc:
            raise Fail(f"{exc}; nothing replaced") from None
        if checked.migrations > len(MIGRATIONS):
            raise Fail("the backup was made by a newer outreach-bot: install that version first; nothing replaced")
        current = backup.org_of(settings.db_path)
        if current is not None and checked.org_id is not None and current != checked.org_id:
            raise Fail("the backup is of another organisation than this database; nothing replaced")
        held = ", ".join(f"{n} {table}" for table, n in checked.counts.items())
        print(f"The backup opens with this key and is whole: {held}.")
        if settings.db_path.exists():
            print(f"It replaces the database in {settings.data_dir}: what was written since the backup is lost.")
        try:
            answer = input("Type RESTORE to go on: ") if not args.yes else "RESTORE"
        except EOFError:
            answer = ""
        if answer.strip() != "RESTORE":
            raise Fail("nothing replaced")
        backup.put_in_place(opened, settings.db_path)
    finally:
        opened.unlink(missing_ok=True)
    print("Restored. Start the bot again.")
