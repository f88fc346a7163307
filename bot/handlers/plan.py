"""/plan: security plans. Managers and admins see all, make and update them step by step (place or
activity, risk, threats, vulnerabilities, capacities, actions one by one, owner, review date), and get a
plan as a YAML file to edit, and send it back with `/plan import` (bot/handlers/plan_import.py; or
`outreach-bot plans import`).
Supervisors see the plans of the places their team checked in at (bot/services/plans.py). Anyone can
have a plan they see as a PDF in their language. Workers get what an unknown command gets.

`/plan` lists, `/plan P-XXXXX` shows one, `/plan export P-XXXXX` and `/plan pdf P-XXXXX` send the file,
`/plan import` takes one back (managers and admins).
Files and answers leave the chat at clean-up, like every conversation: save a file meanwhile.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from bot.flows.model import TEXT, Attachment, Ctx, Done, Flow, Input, Next, Result, Screen, Stay, rows
from bot.handlers import plan_import
from bot.i18n import N_
from bot.services import plan_pdf
from bot.services import plans as service

LIST, SHOW, PLACE, RISK, THREATS, VULNS, EXISTING, REQUIRED, ACTIONS, OWNER, REVIEW = (
    "list", "show", "place", "risk", "threats", "vulnerabilities", "existing", "required", "actions", "owner",
    "review",
)  # fmt: skip
MAX_LISTED = 20
KEEP = "-"
KEEP_HINT = N_("Now: {value}. Send - to keep it.")
BAD_TEXT = N_("Please type a short text (up to 500 characters).")
STATUS_LINE = re.compile(r"^\s*(\d{1,2})\s+(todo|doing|done)\s*$", re.IGNORECASE)
STATUS_WORDS = {"todo": N_("to do"), "doing": N_("under way"), "done": N_("done")}
ASK_ACTION = N_(
    "Type one action as: measure; person responsible (a code like W-7KQ2, or a role); cost; deadline"
    " (like 2027-01-31). Tap Finished when there are no more."
)
LIST_STEPS = {
    THREATS: ("threats", N_("What are the threats? Separate several with ;")),
    VULNS: ("vulnerabilities", N_("What are the vulnerabilities? Separate several with ;")),
    EXISTING: ("existing_capacity", N_("What capacity exists already? Separate several with ;")),
    REQUIRED: ("required_capacity", N_("What capacity is still required? Separate several with ;")),
}
ORDER = (THREATS, VULNS, EXISTING, REQUIRED)


def is_manager(c: Ctx) -> bool:
    return c.person is not None and c.person.role in ("manager", "admin")


async def admits(c: Ctx) -> bool:
    """Managers, admins and supervisors; a worker learns nothing of plans."""
    return c.person is not None and c.person.role in ("manager", "admin", "supervisor")


def _error(c: Ctx, exc: service.PlanError) -> str:
    return c.t(exc.text, **exc.values)


def describe(c: Ctx, plan: service.Plan) -> str:
    """The plan as text in the reader's language."""
    lines = [c.t("Plan {id}: {subject}", id=plan.id, subject=plan.subject)]
    if plan.early_review:
        lines.append(c.t("To be reviewed early: a critical incident was reported at this place."))
    lines.append(c.t("Risk: {risk}", risk=plan.risk))
    for name, label in plan_pdf.SECTIONS:
        lines.append(c.t(label) + " " + "; ".join(getattr(plan, name)))
    lines.append(c.t("Actions:"))
    for n, a in enumerate(plan.actions, 1):
        lines.append(
            f"{n}. {a.measure} · {a.responsible} · {a.cost or '–'} · {a.deadline.isoformat()} · "
            + c.t(STATUS_WORDS[a.status])
        )
    lines.append(c.t("Owner: {code}. Review: {date}.", code=plan.owner, date=plan.review.isoformat()))
    return "\n".join(lines)


async def start(c: Ctx, inp: Input) -> Result:
    """/plan, /plan ID, /plan export ID, /plan pdf ID."""
    assert c.person is not None
    args = [a for a in inp.args if a]
    if not args:
        return await _list(c)
    if args[0].lower() == "import" and is_manager(c):  # for a supervisor, "import" stays an unknown plan id
        return plan_import.ask(c)
    what, plan_id = (args[0].lower(), args[1] if len(args) > 1 else "") if len(args) > 1 else ("show", args[0])
    plan = await _visible(c, plan_id)
    if plan is None:
        return Done(c.t(service.NO_SUCH_PLAN, id=plan_id[:20]))
    if what == "pdf":
        return _pdf(c, plan)
    if what == "export" and is_manager(c):
        return await _file(c, plan)
    if what != "show":
        return Done(c.t("Write it like /plan P-7KQ2M, /plan pdf P-7KQ2M or /plan export P-7KQ2M."))
    return _show(c, plan)


async def _visible(c: Ctx, plan_id: str) -> service.Plan | None:
    assert c.person is not None
    for plan in await service.visible(c.storage, c.person, c.now()):
        if plan.id == plan_id.strip().upper():
            return plan
    return None


async def _list(c: Ctx) -> Result:
    assert c.person is not None
    plans = await service.visible(c.storage, c.person, c.now())
    lines = [c.t("Plans: {n}", n=len(plans))]
    for plan in plans[:MAX_LISTED]:
        flag = " · " + c.t("review early") if plan.early_review else ""
        lines.append(f"• {plan.id} · {plan.subject} · {c.t('review')} {plan.review.isoformat()}{flag}")
    buttons = [[(f"{p.id} · {p.subject}"[:60], f"pln:show:{p.id}")] for p in plans[:MAX_LISTED]]
    if is_manager(c):
        buttons.append([(c.t("New plan"), "pln:new")])
    buttons.append([(c.t("Close"), "pln:close")])
    return Next(LIST, Screen("\n".join(lines), rows(*buttons)))


def _show(c: Ctx, plan: service.Plan) -> Result:
    c.answers["id"] = plan.id
    buttons = [[(c.t("PDF"), "pln:pdf")]]
    if is_manager(c):
        buttons.append([(c.t("File to edit (YAML)"), "pln:file"), (c.t("Update"), "pln:edit")])
    buttons.append([(c.t("Close"), "pln:close")])
    return Next(SHOW, Screen(describe(c, plan), rows(*buttons)))


def _pdf(c: Ctx, plan: service.Plan) -> Result:
    data = plan_pdf.render(plan, c.locale)
    return Done(files=(Attachment("document", data, f"plan_{plan.id}.pdf"),))


async def _file(c: Ctx, plan: service.Plan) -> Result:
    assert c.person is not None
    async with c.storage.db.tx() as tx:  # a plan names weaknesses: who took it as a file is on record
        await c.storage.audit.record(
            tx, c.now(), "plan.export", org_id=c.person.org_id, actor_id=c.person.id, subject_id=plan.id
        )
    data = service.to_yaml(plan).encode("utf-8")
    caption = c.t("Edit it, then send it back after /plan import.")
    return Done(files=(Attachment("document", data, f"plan_{plan.id}.yaml", caption=caption),))


async def listed(c: Ctx, inp: Input) -> Result:
    """A plan picked, a new one, or close."""
    if inp.value == "pln:close":
        return Done(c.t("Closed."))
    if inp.value == "pln:new" and is_manager(c):
        c.answers["plan"] = {"actions": []}
        return _ask_place(c)
    plan = await _visible(c, inp.value.removeprefix("pln:show:")) if inp.value.startswith("pln:show:") else None
    if plan is None:
        return Stay(c.t("This button is no longer current."))
    return _show(c, plan)


async def shown(c: Ctx, inp: Input) -> Result:
    """PDF, file, update or close."""
    if inp.value == "pln:close":
        return Done(c.t("Closed."))
    plan = await _visible(c, c.answers.get("id") or "")
    if plan is None:
        return Done(c.t(service.NO_SUCH_PLAN, id=c.answers.get("id") or "?"))
    if inp.value == "pln:pdf":
        return _pdf(c, plan)
    if inp.value == "pln:file" and is_manager(c):
        return await _file(c, plan)
    if inp.value == "pln:edit" and is_manager(c):
        c.answers["plan"] = plan.to_dict()
        return _ask_place(c)
    return Stay(c.t("This button is no longer current."))


def _ask(c: Ctx, step: str, question: str, current: str | None) -> Next:
    text = c.t(question) + ("\n" + c.t(KEEP_HINT, value=current) if current else "")
    return Next(step, Screen(text, takes=TEXT))


def _ask_place(c: Ctx) -> Next:
    plan = c.answers["plan"]
    current = plan.get("place") or plan.get("activity")
    places = [[(h.name, f"pln:place:{i}")] for i, h in enumerate(c.config.hotspots[:MAX_LISTED])]
    text = c.t("Which place is this plan for? Tap one, or type an activity (like: night outreach).")
    if current:
        text += "\n" + c.t(KEEP_HINT, value=current)
    return Next(PLACE, Screen(text, rows(*places), takes=TEXT))


def _typed(inp: Input) -> str | None:
    text = inp.value.strip() if inp.kind == TEXT else ""
    return text if text and len(text) <= service.MAX_TEXT else None


async def place(c: Ctx, inp: Input) -> Result:
    """A place from the list, or an activity typed."""
    plan = c.answers["plan"]
    if inp.value.startswith("pln:place:"):
        index = inp.value.removeprefix("pln:place:")
        if not index.isdecimal() or int(index) >= len(c.config.hotspots):
            return Stay(c.t("This button is no longer current."))
        plan["place"], plan["activity"] = c.config.hotspots[int(index)].name, None
    else:
        text = _typed(inp)
        if text is None:
            return Stay(c.t(BAD_TEXT))
        if text != KEEP or not (plan.get("place") or plan.get("activity")):
            plan["place"], plan["activity"] = None, text
    return _ask(c, RISK, N_("What risk does this plan address?"), plan.get("risk"))


async def risk(c: Ctx, inp: Input) -> Result:
    """The risk, in a line."""
    text = _typed(inp)
    if text is None:
        return Stay(c.t(BAD_TEXT))
    plan = c.answers["plan"]
    if text != KEEP or not plan.get("risk"):
        plan["risk"] = text
    return _next_list(c, THREATS)


def _next_list(c: Ctx, step: str) -> Next:
    name, question = LIST_STEPS[step]
    current = "; ".join(c.answers["plan"].get(name) or [])
    return _ask(c, step, question, current or None)


def _list_step(step: str) -> Any:
    name = LIST_STEPS[step][0]

    async def answer(c: Ctx, inp: Input) -> Result:
        """Items separated by ;"""
        text = _typed(inp)
        if text is None:
            return Stay(c.t(BAD_TEXT))
        plan = c.answers["plan"]
        if text != KEEP or not plan.get(name):
            plan[name] = [item.strip() for item in text.split(";") if item.strip()]
            if not plan[name]:
                return Stay(c.t(BAD_TEXT))
        later = ORDER.index(step) + 1
        return _next_list(c, ORDER[later]) if later < len(ORDER) else _ask_action(c)

    return answer


def _ask_action(c: Ctx) -> Next:
    actions = c.answers["plan"]["actions"]
    lines = [c.t(ASK_ACTION)]
    if actions:
        lines.append(c.t("Actions so far (to change a status, type its number and todo, doing or done: 2 done):"))
        lines += [f"{n}. {a['measure']} · {a['responsible']} · {a['deadline']} · {a['status']}" for n, a in
                  enumerate(actions, 1)]  # fmt: skip
    return Next(ACTIONS, Screen("\n".join(lines), rows([(c.t("Finished"), "pln:done")]), takes=TEXT))


async def action(c: Ctx, inp: Input) -> Result:
    """One action a line (or a status change); Finished goes on to the owner."""
    assert c.person is not None
    actions = c.answers["plan"]["actions"]
    if inp.value == "pln:done":
        current = c.answers["plan"].get("owner")
        ask = c.t("Who owns this plan? Type their code, or tap Me.")
        if current:
            ask += "\n" + c.t(KEEP_HINT, value=current)
        return Next(OWNER, Screen(ask, rows([(c.t("Me"), "pln:me")]), takes=TEXT))
    text = _typed(inp)
    if text is None:
        return Stay(c.t(BAD_TEXT))
    status = STATUS_LINE.match(text)
    if status is not None:
        n = int(status.group(1))
        if not 1 <= n <= len(actions):
            return Stay(c.t("There is no action {n}.", n=n))
        actions[n - 1]["status"] = status.group(2).lower()
        return _ask_action(c)
    parts = [p.strip() for p in text.split(";")]
    if len(parts) < 4:
        return Stay(c.t(ASK_ACTION))
    doc = {"measure": parts[0], "responsible": parts[1], "cost": parts[2], "deadline": parts[3]}
    if len(parts) > 4 and parts[4]:
        doc["status"] = parts[4]
    try:
        parsed = service.parse_action(doc, len(actions) + 1)
        await service.check_person(c.storage, c.person.org_id, "responsible", parsed.responsible)
    except service.PlanError as exc:
        return Stay(_error(c, exc))
    if len(actions) >= service.MAX_ITEMS:
        return Stay(c.t(BAD_TEXT))
    actions.append(parsed.__dict__ | {"deadline": parsed.deadline.isoformat()})
    return _ask_action(c)


async def owner(c: Ctx, inp: Input) -> Result:
    """The owner's code (Me: the person typing)."""
    assert c.person is not None
    plan = c.answers["plan"]
    if inp.value == "pln:me":
        plan["owner"] = c.person.code
    else:
        text = _typed(inp)
        if text is None:
            return Stay(c.t(BAD_TEXT))
        if text != KEEP or not plan.get("owner"):
            try:
                await service.check_person(c.storage, c.person.org_id, "owner", text)
            except service.PlanError as exc:
                return Stay(_error(c, exc))
            plan["owner"] = text.upper()
    return _ask(c, REVIEW, N_("When will the plan be reviewed? A date like 2027-01-31."), plan.get("review"))


async def review(c: Ctx, inp: Input) -> Result:
    """The review date; then the plan is checked whole and saved."""
    assert c.person is not None
    text = _typed(inp)
    if text is None:
        return Stay(c.t(BAD_TEXT))
    plan = dict(c.answers["plan"])
    if text != KEEP or not plan.get("review"):
        plan["review"] = text
    plan.pop("early_review", None)  # a plan updated is a plan reviewed
    try:
        parsed = service.parse(plan, c.config)
        saved = await service.save(c.storage, c.person.org_id, parsed, c.person.id, c.now())
    except service.PlanError as exc:
        return Stay(_error(c, exc))
    return Done(c.t("Saved: plan {id}. See it with /plan {id}.", id=saved.id))


FLOW = Flow(
    name="plan",
    start=start,
    steps={
        LIST: listed,
        SHOW: shown,
        PLACE: place,
        RISK: risk,
        THREATS: _list_step(THREATS),
        VULNS: _list_step(VULNS),
        EXISTING: _list_step(EXISTING),
        REQUIRED: _list_step(REQUIRED),
        ACTIONS: action,
        OWNER: owner,
        REVIEW: review,
        plan_import.IMPORT: plan_import.take,
    },
    commands=("plan",),
    timeout=timedelta(minutes=30),
    admits=admits,
)
