"""A follow-up on an incident (from the buttons under /incident): its new status, then a note."""

from __future__ import annotations

from datetime import timedelta

from bot.flows.model import TEXT, Ctx, Done, Flow, Input, Next, Result, Screen, rows
from bot.services import incidents as inc

NOTE = "note"


async def start(c: Ctx, inp: Input) -> Result:
    """A status button (fu:<ref>:<status>): ask for an optional note."""
    assert c.person is not None
    parts = inp.value.split(":")
    if len(parts) != 3 or parts[2] not in inc.FOLLOWUP:
        return Done(c.t("This button is no longer current."))
    async with c.storage.db.read() as tx:
        found = await c.storage.incidents.by_ref(tx, c.person.org_id, parts[1])
    if found is None or not inc.may_follow_up(c.person, found):
        return Done(c.t("This button is no longer current."))
    c.answers.update(ref=found.ref, status=parts[2])
    choices = rows([(c.t("Skip"), "fu:note:skip")])
    return Next(NOTE, Screen(c.t("Add a short note, or choose Skip."), choices, takes=TEXT))


async def note(c: Ctx, inp: Input) -> Result:
    """The note (or Skip): store the follow-up and audit it."""
    assert c.person is not None
    async with c.storage.db.read() as tx:
        found = await c.storage.incidents.by_ref(tx, c.person.org_id, c.answers.get("ref", ""))
    if found is None or not inc.may_follow_up(c.person, found):
        return Done(c.t("This button is no longer current."))
    status = c.answers["status"]
    await inc.set_followup(c.storage, c.person, found, status, inp.value if inp.kind == TEXT else None, c.now())
    return Done(c.t("Saved: {ref} is now “{status}”.", ref=found.ref, status=c.t(inc.FOLLOWUP[status])))


FLOW = Flow(name="followup", start=start, steps={NOTE: note}, codes=("fu:R-",), timeout=timedelta(minutes=30))
