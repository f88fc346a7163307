"""The running bot's shred: what an adapter hands its conversations once an admin has typed the shred
phrase and confirmed (bot/services/shred.py holds the phrase and the report).

`Shredder` overwrites and removes the key file the bot was started from (bot.keys.shred_all, the CLI's
own), forgets the key in memory as far as Python allows (Storage.forget), and calls the adapter's
`silence`, which stops the jobs and makes the gate drop every later update. It stands above the jobs:
it deletes the clean-ups still owed through the messenger (bot/jobs/shred_cleanup.py).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
from collections.abc import Callable
from pathlib import Path

from bot import keys
from bot.jobs.shred_cleanup import Owed, clean_up_now, owed
from bot.messenger import Messenger
from bot.redaction import redacted
from bot.services.shred import MARKER, Destroyed
from config import Settings
from storage import Storage

log = logging.getLogger("outreach.shred")


class Shredder:
    """The running bot's way to destroy its key; `silence` is the adapter's: stop the jobs, drop every
    later update, drop its own references to the key."""

    def __init__(self, settings: Settings, silence: Callable[[], None], messenger: Messenger | None = None) -> None:
        self.settings = settings
        self._silence = silence
        self._messenger = messenger  # deletes the clean-ups still owed (bot/jobs/shred_cleanup.py)
        self.shredded: Destroyed | None = None

    async def destroy(self, storage: Storage, admin_id: str | None = None) -> Destroyed:
        """Silence the bot, destroy the key's files and forget the key, then delete from the chats what
        was waiting to be cleaned up; what was and was not destroyed."""
        if self.shredded is not None:
            return self.shredded
        self.shredded = Destroyed()  # from here on the gate answers nobody, even while the files go
        self._silence()
        found: Owed = []
        if self._messenger is not None:
            try:
                found = await owed(storage, skip=admin_id)
            except Exception as exc:  # nothing may stand between the admin and the key's destruction
                log.error("Could not read the clean-ups owed: %s", redacted(exc))
        storage.forget()
        source = keys.locate(self.settings)
        there = keys.key_files(self.settings, source)
        files, left = await asyncio.to_thread(keys.shred_all, self.settings)
        if source.kind == keys.NONE and not there:
            left.append("the key file this bot was started from is not known to it: destroy it where it is")
        self.shredded.files, self.shredded.left, self.shredded.kind = files, left, source.kind
        self.shredded.failed = [path for path in there if path not in files]
        _leave_marker(self.settings.data_dir)
        if self.settings.key_b64:
            # Gone from os.environ and from these settings. Not from /proc/<pid>/environ: that shows the
            # environment the process started with, which Python cannot rewrite.
            os.environ.pop("OUTREACH_KEY", None)
            self.settings = dataclasses.replace(self.settings, key_b64=None)
        log.warning(
            "The key was destroyed from the chat (%d key file(s)); %s",
            len(files),
            "nothing left" if not left else "NOT destroyed: " + "; ".join(left),
        )
        if self._messenger is not None and found:
            await clean_up_now(self._messenger, found)
            found.clear()
        return self.shredded


def _leave_marker(data_dir: Path) -> None:
    """A line in the data dir that stops the next start: with a key that still exists elsewhere (a key
    command, the environment) a restart would otherwise open the data and answer again."""
    try:
        fd = os.open(data_dir / MARKER, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write("The key was destroyed from the chat.\n")
    except OSError as exc:
        log.warning("Could not leave the shredded marker in the data dir (%s)", exc.strerror)
