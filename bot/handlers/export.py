"""/export [from] [to] [accounts]: the incidents of a period as a CSV document, for managers;
audit-logged. The file stays in the chat; the command goes with the clean-up."""

from __future__ import annotations

from datetime import date, timedelta

from bot.flows.model import Attachment, Ctx, Done, Flow, Input, Result
from bot.services.export import export

ACCOUNTS = ("accounts", "--accounts")


async def export_command(c: Ctx, inp: Input) -> Result:
    person = c.person
    assert person is not None
    if person.role not in ("manager", "admin"):
        return Done(c.t("This command is for managers."))
    args = inp.args
    with_accounts = any(a.lower() in ACCOUNTS for a in args)
    days = [d for d in (_date(a) for a in args) if d is not None]
    today = c.now().astimezone(c.config.tz).date()
    start = days[0] if days else today - timedelta(weeks=12)
    end = days[1] if len(days) > 1 else today
    if len([a for a in args if a.lower() not in ACCOUNTS]) != len(days) or start > end:
        return Done(c.t("Write it like /export 2026-09-01 2026-11-30 (add: accounts)."))
    data, count = await export(
        c.storage, person.org_id, start, end, with_accounts=with_accounts, locale=person.locale, tz=c.config.tz
    )
    async with c.storage.db.tx() as tx:
        await c.storage.audit.record(
            tx,
            c.now(),
            "incident.export" + (":accounts" if with_accounts else ""),
            org_id=person.org_id,
            actor_id=person.id,
            subject_id=None,
        )
    csv = Attachment("document", data, f"incidents_{start}_{end}.csv", caption=c.t("Incidents: {n}.", n=count))
    return Done(files=(csv,), keep_files=True)


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


EXPORT = Flow(name="export", start=export_command, commands=("export",))
