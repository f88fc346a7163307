"""The `outreach-bot` command: init, invite, run, sandbox. `main` only parses and wires."""

from __future__ import annotations

import argparse
import asyncio
import base64
import fcntl
import logging
import os
import signal
import sys
import time
from collections.abc import Sequence
from datetime import date, timedelta

from bot import cli_backup, cli_base, cli_drill, cli_init, cli_keys, cli_lists, cli_people, cli_plans, cli_risk
from bot.failure import Fail
from bot.services.enrolment import create_invite
from bot.services.shred import report as shred_report
from config import Settings
from config.durations import parse_duration
from storage.orgs import TeamChanged
from storage.people import ROLES
from storage.sealing import SealError

log = logging.getLogger("outreach")


async def cmd_lists(args: argparse.Namespace) -> None:
    """`outreach-bot places|codes|contacts ...` (bot/cli_lists.py)."""
    async with cli_base.organization() as (storage, org, config, _):
        await cli_lists.cmd_lists(args, storage, org, config)


async def cmd_invite(args: argparse.Namespace) -> None:
    """Print a single-use invite code, alone on the last line."""
    try:
        ttl = parse_duration(args.ttl)
    except ValueError:
        raise Fail(f"--ttl: bad duration {args.ttl!r}; write it like 72h or 30m") from None
    if ttl > timedelta(days=30):
        raise Fail("--ttl: at most 30 days (720h)")
    async with cli_base.organization() as (storage, org, config, clock):
        try:
            async with storage.db.read() as tx:
                known = args.team is None or await storage.orgs.team_by_name(tx, org.id, args.team) is not None
            code, expires, team = await create_invite(storage, clock, org, role=args.role, team=args.team, ttl=ttl)
        except TeamChanged as exc:
            raise Fail(
                f"team {str(exc)!r} was changed in the database without the key, so it is not used:"
                " no invite made (restore a backup, or invite to another team name)"
            ) from None
        username = await storage.meta_get("bot_username")
    if not known:  # a typo makes a team of its own, whose alerts go to managers: say so
        print(f"Note: team {team!r} is new; check the spelling if you meant an existing team.")
    where = f" in team {team!r}" if team else ""
    local = expires.astimezone(config.tz).strftime("%Y-%m-%d %H:%M")
    print(f"Invite for one {args.role}{where}, single use, valid until {local} ({config.timezone}).")
    if username:
        link = f"https://t.me/{username}?start={code}"
        print(f"Link: {link}")
        if args.qr:
            import segno  # only for --qr; not loaded by every command

            segno.make(link, error="m").terminal(compact=True)
    elif args.qr:
        print("(No QR code yet: the bot's username is learned on the first `outreach-bot run`.)")
    print(code)


async def cmd_export(args: argparse.Namespace) -> None:
    """Write a CSV of incidents for a period; accounts only with --accounts. Audit-logged."""
    from bot.services.export import export  # loads babel (bot.i18n): ~20 ms that `health` need not pay

    try:
        start, end = date.fromisoformat(args.start), date.fromisoformat(args.end)
    except ValueError:
        raise Fail("--from/--to: write dates like 2026-09-01") from None
    if start > end:
        raise Fail("--from must not be after --to")
    async with cli_base.organization() as (storage, org, config, clock):
        data, count = await export(
            storage, org.id, start, end, with_accounts=args.accounts, locale=args.lang, tz=config.tz
        )
        async with storage.db.tx() as tx:
            action = "incident.export:accounts" if args.accounts else "incident.export"
            await storage.audit.record(tx, clock.now(), action + ":cli", org_id=org.id, actor_id=None, subject_id=None)
    try:
        fd = os.open(args.file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # the file may hold accounts
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
    except OSError as exc:
        raise Fail(f"cannot write {args.file}: {exc.strerror}") from None
    print(f"Wrote {count} incidents to {args.file}" + (" (with accounts)" if args.accounts else "") + ".")


def _hold_data_dir(settings: Settings) -> int | None:
    """Take the data directory's lock, held until this process ends (even by SIGKILL): one bot or key
    rotation at a time. None if another process holds it."""
    cli_base.private_dir(settings.data_dir)
    fd = os.open(settings.data_dir / "run.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def cmd_run(args: argparse.Namespace) -> None:
    """Long polling through TELEGRAM_API_BASE_URL until SIGTERM or Ctrl-C."""
    # python-telegram-bot and the bot load in ~0.3 s: only `run` needs them, not the `health` check each minute
    from telegram.error import InvalidToken, NetworkError

    from bot.logs import setup_logging
    from bot.telegram.app import build_application

    settings, config = cli_base.load()
    assert config is not None
    if not settings.token:
        raise Fail("TELEGRAM_BOT_TOKEN is not set: get a token from @BotFather, or try `outreach-bot sandbox`")
    cli_base.refuse_shredded(settings)
    key, _, created = cli_keys.key_for_init(settings, None)  # once: a key command runs at start only
    if created:  # `run` initialises as `init` does, paper copy included
        cli_keys.print_paper(key)
    secret = [settings.token, settings.key_b64 or "", base64.b64encode(key).decode()]
    setup_logging(logging.DEBUG if args.debug else logging.INFO, secrets=secret)
    if _hold_data_dir(settings) is None:
        raise Fail(f"another outreach-bot is already running on {settings.data_dir}")
    asyncio.run(cli_init.cmd_init(args, key))
    app = build_application(settings, config, key=key)
    api_base_url = settings.api_base_url
    # The Application holds the key (and OUTREACH_KEY's text) now, and a shred from the chat drops its
    # references: none may stay in this frame for as long as the bot runs.
    del key, secret, settings
    try:
        app.run_polling(stop_signals=(signal.SIGINT, signal.SIGTERM), drop_pending_updates=False, bootstrap_retries=3)
    except InvalidToken:
        raise Fail("TELEGRAM_BOT_TOKEN was refused by the Bot API; check the token") from None
    except NetworkError as exc:
        raise Fail(
            f"cannot reach the Bot API at {api_base_url} (TELEGRAM_API_BASE_URL): {type(exc).__name__}"
        ) from None
    shredder = app.bot_data.shredder
    if shredder is not None and shredder.shredded is not None:  # from the chat: say what was, and was not, destroyed
        print(shred_report(shredder.shredded))
        raise SystemExit(1 if shredder.shredded.left else 0)
    log.info("Stopped cleanly.")


async def cmd_shred_phrase(args: argparse.Namespace) -> None:
    """Set, change or clear the shred phrase (bot/flows/shred.py)."""
    settings, _ = cli_base.load(require_config=False)
    storage = await cli_base.open_storage(settings)
    try:
        await cli_keys.cmd_shred_phrase(args, storage)
    finally:
        await storage.close()


async def cmd_people(args: argparse.Namespace) -> None:
    """`outreach-bot people|invites ...` and `revoke CODE` (bot/cli_people.py)."""
    async with cli_base.organization() as (storage, org, config, clock):
        await cli_people.cmd(args, storage, org, config, clock)


def _heartbeat_age(settings: Settings) -> float | None:
    """Seconds since the running bot last wrote its heartbeat; None if it never did."""
    try:
        return time.time() - float(settings.heartbeat_path.read_text().strip())
    except (OSError, ValueError):
        return None


def cmd_health(args: argparse.Namespace) -> None:
    """Exit 0 if the bot and its scheduler wrote a heartbeat in the last two minutes, else 1."""
    settings, _ = cli_base.load(require_config=False)
    age = _heartbeat_age(settings)
    if age is None:
        print("unhealthy: no heartbeat yet (is `outreach-bot run` running?)")
        raise SystemExit(1)
    if age > args.max_age:
        print(f"unhealthy: last heartbeat {age:.0f} s ago")
        raise SystemExit(1)
    print(f"healthy: last heartbeat {age:.0f} s ago")


def cmd_sandbox(args: argparse.Namespace) -> None:
    """A local chat in the terminal: same Application, stand-in Bot API, separate database."""
    from bot.sandbox_terminal import run_sandbox  # loads python-telegram-bot and the bot (~0.3 s), as `run` does

    settings, _ = cli_base.load(require_config=False)
    run_sandbox(settings, reason=args.reason)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="outreach-bot", description="Safety check-ins and alerts for outreach workers."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    init = sub.add_parser("init", help="create the key (where told), ./data and the organisation from the config")
    init.add_argument("--key-file", help="create the key in this file, outside the data and config dirs")
    init.add_argument("--name", help="the organisation's name, kept sealed in the database (or a new one)")
    init.add_argument("--import-lists", metavar="FILE", help="places, code words, contacts from FILE (then delete it)")
    rename = sub.add_parser("rename", help="give the organisation a new name (sealed in the database)")
    rename.add_argument("name")
    invite = sub.add_parser("invite", help="print a single-use invite code")
    invite.add_argument("--role", required=True, choices=ROLES)
    invite.add_argument("--team", help="team name (workers and supervisors; default: main)")
    invite.add_argument("--ttl", default="72h", help="how long the code is valid (default 72h)")
    invite.add_argument("--qr", action="store_true", help="also draw the t.me link as a QR code")
    run = sub.add_parser("run", help="run the bot (long polling)")
    run.add_argument("--debug", action="store_true", help="debug logging (still without tokens or message texts)")
    exp = sub.add_parser("export", help="write incidents for a period to a CSV file")
    exp.add_argument("--from", dest="start", required=True, help="first day, like 2026-09-01")
    exp.add_argument("--to", dest="end", required=True, help="last day, like 2026-11-30")
    exp.add_argument("--accounts", action="store_true", help="include the accounts in people's own words")
    exp.add_argument("--lang", choices=("en", "es", "fr", "pt", "ar"), default="en", help="language of its words")
    exp.add_argument("file", help="the CSV file to write")
    cli_people.add_parsers(sub)
    cli_plans.add_parsers(sub)
    rotate_key = sub.add_parser("rotate-key", help="re-seal all data under a new key (stop the bot first)")
    rotate_key.add_argument("--new-key-file", help="where the new key goes when the key comes from a command or env")
    rotate_key.add_argument("--stop-after", type=int, default=None, help=argparse.SUPPRESS)
    shred = sub.add_parser("shred", help="destroy the key: the data becomes unreadable at once")
    shred.add_argument("--yes-i-am-sure", action="store_true", help=argparse.SUPPRESS)
    phrase = sub.add_parser("shred-phrase", help="set | clear: the phrase an admin types after /shred in the chat")
    phrase.add_argument("action", choices=("set", "clear"))
    key = sub.add_parser("key", help="new FILE | paper | restore FILE | shred-file FILE: the key's file and paper copy")
    key.add_argument("action", choices=("new", "paper", "restore", "shred-file"))
    key.add_argument("file", nargs="?", help="the key file to write (new, restore) or to destroy (shred-file)")
    backup = sub.add_parser("backup", help="a consistent, sealed copy of the database (while the bot runs)")
    backup.add_argument("file", help="the backup file to write")
    restore = sub.add_parser("restore", help="check a backup, show what it holds, then put it in place")
    restore.add_argument("file", help="the backup file")
    restore.add_argument("--yes", action="store_true", help="do not ask (scripts)")
    cli_lists.add_parsers(sub)
    cli_drill.add_parser(sub)
    cli_risk.add_parser(sub)
    health = sub.add_parser("health", help="exit non-zero when the bot or its scheduler has been silent")
    health.add_argument("--max-age", type=float, default=120.0, help=argparse.SUPPRESS)
    sandbox = sub.add_parser("sandbox", help="chat with the bot locally in this terminal, no network")
    sandbox.add_argument("--reason", default="", help=argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "init":
            asyncio.run(cli_init.cmd_init(args))
        elif args.command == "rename":
            asyncio.run(cli_init.cmd_rename(args))
        elif args.command == "invite":
            asyncio.run(cmd_invite(args))
        elif args.command == "export":
            asyncio.run(cmd_export(args))
        elif args.command == "run":
            cmd_run(args)
        elif args.command in cli_people.GROUPS:
            asyncio.run(cmd_people(args))
        elif args.command in cli_plans.GROUPS:
            asyncio.run(cli_base.run_in_org(cli_plans.cmd, args))
        elif args.command in cli_risk.GROUPS:
            asyncio.run(cli_risk.cmd(args))
        elif args.command == "rotate-key":
            settings, _ = cli_base.load(require_config=False)
            if _hold_data_dir(settings) is None:  # held until the rotation ends: no bot starts meanwhile
                raise Fail(f"the bot is running on {settings.data_dir}: stop it first, then rotate the key")
            asyncio.run(cli_keys.cmd_rotate_key(args, settings))
        elif args.command == "shred":
            settings, _ = cli_base.load(require_config=False)
            cli_keys.cmd_shred(args, settings)
            if _hold_data_dir(settings) is None:
                print(
                    "The bot is still running and holds the key in memory: stop it now (docker stop / systemctl stop)."
                )
        elif args.command == "shred-phrase":
            asyncio.run(cmd_shred_phrase(args))
        elif args.command == "backup":
            cli_backup.cmd_backup(args, cli_base.load(require_config=False)[0])
        elif args.command == "restore":
            settings, _ = cli_base.load(require_config=False)
            lock = _hold_data_dir(settings)  # held until the restore ends: no bot starts meanwhile
            cli_backup.cmd_restore(args, settings, stopped=lock is not None)
        elif args.command == "key":
            cli_keys.cmd_key(args, cli_base.load(require_config=False)[0])
        elif args.command in cli_lists.GROUPS:
            asyncio.run(cmd_lists(args))
        elif args.command == "drill":
            asyncio.run(cli_drill.cmd_drill(args, cli_base.organization))
        elif args.command == "health":
            cmd_health(args)
        elif args.command == "sandbox":
            cmd_sandbox(args)
    except Fail as exc:
        print(f"outreach-bot: {exc}", file=sys.stderr)
        return 2
    except SealError as exc:  # the key file or OUTREACH_KEY belongs to another database
        where = str(exc).split(":")[0] or "a value"
        print(
            f"outreach-bot: the key does not open this database ({where} is sealed under another key): restore"
            " the right key where OUTREACH_KEY_FILE, OUTREACH_KEY_COMMAND or OUTREACH_KEY finds it,"
            " or move outreach.db away",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
