"""`outreach-bot plans list|export ID FILE|import FILE|archive ID`: security plans as files a person
edits on a laptop (YAML, README shows the form) and brings back (here, or in the chat with
`/plan import`: both through bot/services/plans.py's `import_file`).

Bad input (a missing field, a bad date, an action with no person responsible, a place not on the list,
an unknown plan) gets one line, exit 2, and changes nothing. Files are written 0600 and never overwritten.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from bot.clock import Clock
from bot.failure import Fail
from bot.i18n import LANGUAGES, tr
from bot.services import plan_pdf
from bot.services import plans as service
from config import OrgConfig
from storage import Storage
from storage.orgs import Organization

GROUPS = ("plans",)


def add_parsers(sub: Any) -> None:
    """`plans ...` on the main parser's subparsers."""
    plans = sub.add_parser("plans", help="list|export|import|archive: security plans as YAML files")
    actions = plans.add_subparsers(dest="action", required=True, metavar="{list,export,pdf,import,archive}")
    actions.add_parser("list", help="id, place or activity, owner, review date, open actions")
    export = actions.add_parser("export", help="write one plan to a YAML file (0600): export ID FILE")
    export.add_argument("id")
    export.add_argument("file", type=Path)
    pdf = actions.add_parser("pdf", help="one plan as a printable PDF (0600): pdf ID FILE [--lang ar]")
    pdf.add_argument("id")
    pdf.add_argument("file", type=Path)
    pdf.add_argument("--lang", default=None, help="es, en, fr, pt or ar (default: the organisation's)")
    imp = actions.add_parser("import", help="a new plan, or an edited one (its id: line), from a YAML file")
    imp.add_argument("file", type=Path)
    actions.add_parser("archive", help="archive a plan (purged after [retention] plans_archived)").add_argument("id")


def write_private(path: Path, data: bytes) -> None:
    """A new file readable by its owner only (a plan names places, people and weaknesses)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise Fail(f"{path} exists: give a new file name") from None
    except OSError as exc:
        raise Fail(f"cannot write {path}: {exc.strerror}") from None
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


async def cmd(args: argparse.Namespace, storage: Storage, org: Organization, config: OrgConfig, clock: Clock) -> None:
    """Run one `plans` command."""
    try:
        if args.action == "list":
            async with storage.db.read() as tx:
                stored = await storage.plans.all(tx, org.id)
            for plan in (service.from_json(s) for s in stored):
                open_actions = sum(1 for a in plan.actions if a.status != "done")
                flag = " · early review" if plan.early_review else ""
                print(f"{plan.id} · {plan.subject} · {plan.owner} · review {plan.review} · {open_actions} open{flag}")
            if not stored:
                print("No plans yet.")
        elif args.action == "export":
            found = await service.get(storage, org.id, args.id)
            if found is None:
                raise service.PlanError(service.NO_SUCH_PLAN, id=args.id[:20])
            write_private(args.file, service.to_yaml(found).encode("utf-8"))
            async with storage.db.tx() as tx:
                await storage.audit.record(
                    tx, clock.now(), "plan.export", org_id=org.id, actor_id=None, subject_id=found.id
                )
            print(f"Wrote {args.file}")
        elif args.action == "pdf":
            found = await service.get(storage, org.id, args.id)
            if found is None:
                raise service.PlanError(service.NO_SUCH_PLAN, id=args.id[:20])
            lang = args.lang or config.language
            if lang not in LANGUAGES:
                raise Fail(f"--lang: one of {', '.join(LANGUAGES)}")
            write_private(args.file, plan_pdf.render(found, lang))
            print(f"Wrote {args.file}")
        elif args.action == "import":
            try:
                data = args.file.read_bytes()
            except OSError:
                raise Fail(f"cannot read {args.file}") from None
            plan = await service.import_file(storage, org.id, data, config, None, clock.now())
            print(f"Saved plan {plan.id}")
        elif args.action == "archive":
            await service.archive(storage, org.id, args.id, None, clock.now())
            print(f"Archived plan {args.id.upper()}")
    except service.PlanError as exc:
        raise Fail(tr("en", exc.text, **exc.values)) from None
