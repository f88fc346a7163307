"""The sandbox's terminal: reading lines without blocking the bot's jobs, the one-second tick, and the
session from start to :quit, Ctrl-D or Ctrl-C (bot/sandbox.py is the chat itself)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import threading

from bot.failure import Fail
from bot.sandbox import Sandbox
from config import ConfigError, Settings
from storage.sealing import KeyProblem


async def _read_line(prompt: str) -> str:
    """input() in a daemon thread: unlike to_thread, Ctrl-C never waits for a line that will not come."""
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[str] = loop.create_future()

    def settle(result: str | EOFError) -> None:
        if not answer.done():
            answer.set_exception(result) if isinstance(result, EOFError) else answer.set_result(result)

    def read() -> None:
        try:
            result: str | EOFError = input(prompt)
        except (EOFError, OSError, ValueError):  # end of input, or stdin closed under us
            result = EOFError()
        with contextlib.suppress(RuntimeError):  # the loop is gone if Ctrl-C ended the session first
            loop.call_soon_threadsafe(settle, result)

    threading.Thread(target=read, name="sandbox-input", daemon=True).start()
    return await answer


async def _jobs(sandbox: Sandbox) -> None:
    """The bot's jobs every second, as on Telegram (missed check-outs, alerts, clean-ups)."""
    while True:
        await asyncio.sleep(1)
        with contextlib.suppress(AssertionError):  # stopped meanwhile
            await sandbox.bot.tick()
            sandbox.hint_offers()
            await sandbox.say_hints()


async def _session(sandbox: Sandbox) -> None:
    """Start, read lines until :quit or end of input, stop, whatever happens."""
    echo = not sys.stdin.isatty()  # piped input is not echoed by a terminal: show it in the transcript
    jobs: asyncio.Task[None] | None = None
    try:
        await sandbox.start()
        jobs = asyncio.create_task(_jobs(sandbox), name="sandbox-jobs")
        while True:
            sandbox.waiting = True
            try:
                line = await _read_line(sandbox.prompt)
            except EOFError:
                sandbox.write("")
                break
            finally:
                sandbox.waiting = False
            if echo:
                sandbox.write(line)
            if not await sandbox.handle_line(line):
                break
    finally:
        if jobs is not None:
            jobs.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await jobs
        await sandbox.stop()


def run_sandbox(settings: Settings, reason: str = "") -> None:
    """Run the terminal chat until :quit, Ctrl-D or Ctrl-C; a config problem is one line on stderr."""
    from bot.logs import setup_logging

    # Warnings and errors only, one line each, on stderr: the chat itself goes to stdout.
    setup_logging(logging.WARNING)
    for handler in logging.getLogger().handlers:
        handler.setLevel(logging.WARNING)
    sandbox = Sandbox(settings, reason=reason)
    try:
        asyncio.run(_session(sandbox))
    except ConfigError as exc:
        raise Fail(f"config error: {exc}") from None
    except KeyProblem as exc:
        raise Fail(f"sandbox key: {exc}") from None
    except KeyboardInterrupt:
        sandbox.write("")
    sandbox.write("Sandbox closed; its data stays in " + str(sandbox.settings.data_dir) + ".")
