"""How a command stops on a problem its user can fix: one line on stderr, exit status 2.

Its own module so that the commands in bot/cli.py and the sandbox they start (bot/sandbox.py) can both
raise it without importing each other."""

from __future__ import annotations


class Fail(Exception):
    """Stops the command with one line on stderr and exit status 2."""
