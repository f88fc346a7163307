"""/plan import: a manager sends a plan's YAML file back in the chat (as `/plan export` gave it, edited
on a laptop). The file is checked exactly as `outreach-bot plans import` checks it (bot/services/plans.py's
`import_file`): a bad one gets one line, nothing changes, and the question stays. The file's message
leaves the chat with the conversation at clean-up.
"""

from __future__ import annotations

from bot.flows.model import FILE, MAX_FILE, Ctx, Done, Input, Next, Result, Screen, Stay, Unfetched, rows
from bot.i18n import N_
from bot.services import plans as service

IMPORT = "import"
ASK = N_("Send the plan's file (YAML), as exported.")
UNFETCHED = N_("Could not get that file. Please send it again.")


def ask(c: Ctx) -> Next:
    """The question: a file, or Close."""
    return Next(IMPORT, Screen(c.t(ASK), rows([(c.t("Close"), "pln:close")]), takes=FILE))


async def take(c: Ctx, inp: Input) -> Result:
    """The file: small, a plan in the documented form, its places and people known; then saved."""
    assert c.person is not None
    if inp.value == "pln:close":
        return Done(c.t("Closed."))
    upload = inp.upload
    if inp.kind != FILE or upload is None:
        return Stay(c.t(ASK))
    if upload.size is not None and upload.size > MAX_FILE:  # never fetched: the messenger said its size
        return Stay(c.t(service.TOO_BIG, kib=MAX_FILE // 1024))
    try:
        data = await upload.fetch()
    except Unfetched:
        return Stay(c.t(UNFETCHED))
    try:
        plan = await service.import_file(c.storage, c.person.org_id, data, c.config, c.person.id, c.now())
    except service.PlanError as exc:
        return Stay(c.t(exc.text, **exc.values))
    return Done(c.t("Saved: plan {id}. See it with /plan {id}.", id=plan.id))
