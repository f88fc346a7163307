"""/report: what happened (required) -> who was affected -> when -> where -> who did it -> how serious
-> own words -> support needed -> told the authorities -> summary with send / change.

The answers are the conversation's, stored sealed like any flow's, so a report survives restarts;
the question asked next is whatever the answers do not hold yet.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.flows.model import TEXT, Choice, Ctx, Done, Flow, Input, Next, Result, Rows, Screen, Stay
from bot.i18n import N_
from bot.services import incidents as inc

STEPS = ("category", "affected", "when", "where", "perpetrator", "severity", "account", "support", "authorities")
ASK, TYPED, SUMMARY, CHANGE = "ask", "typed", "summary", "change"
CHOICES: dict[str, dict[str, str]] = {
    "category": inc.CATEGORIES,
    "affected": inc.AFFECTED,
    "when": inc.WHEN,
    "perpetrator": inc.PERPETRATORS,
    "severity": inc.SEVERITIES,
    "support": inc.SUPPORT,
    "authorities": inc.AUTHORITIES,
}
QUESTIONS = {
    "category": N_("What happened?"),
    "affected": N_("Who was affected?"),
    "when": N_("When?"),
    "where": N_("Where?"),
    "perpetrator": N_("Who did it?"),
    "severity": N_("How serious is it?"),
    "account": N_("Tell what happened in your own words, or tap Skip. Only managers can read it."),
    "support": N_("Do you need support?"),
    "authorities": N_("Did you tell the police or authorities?"),
}
LABELS = {
    "category": N_("What"),
    "affected": N_("Who was affected"),
    "when": N_("When"),
    "where": N_("Where"),
    "perpetrator": N_("Who did it"),
    "severity": N_("How serious"),
    "account": N_("Your words"),
    "support": N_("Support"),
    "authorities": N_("Told authorities"),
}
DATE_EXAMPLE = N_("Write the date like 20/11 or 20/11/2026. It cannot be in the future.")
LONG_TEXT = 3500  # Telegram splits long texts: past this, more parts may follow
KEPT = N_("Thank you. Reference {ref}.")


def _answered(a: dict[str, Any], step: str) -> bool:
    return {"when": "when", "where": "place_kind"}.get(step, step) in a


def _choices(*lines: list[tuple[str, str]]) -> Rows:
    return tuple(tuple(Choice(code, label) for label, code in line) for line in lines)


async def start(c: Ctx, inp: Input) -> Result:
    """/report (answers may come filled in: from a check-out, with place and day)."""
    return ask(c)


def ask(c: Ctx) -> Result:
    """The next unanswered question, or the summary."""
    a = c.answers
    step = None if a.get("returning") else next((s for s in STEPS if not _answered(a, s)), None)
    if step is None:
        return summary(c)
    a["asking"] = step
    if step == "where":
        a["places"] = [h.name for h in c.config.hotspots]  # an admin may change the list before the tap
        lines = [[(h.label(c.locale), f"rp:where:h{i}")] for i, h in enumerate(c.config.hotspots)]
        lines += [[(c.t(label), f"rp:where:{code}")] for code, label in inc.PLACE_KINDS.items()]
    elif step == "account":
        lines = []
    else:
        lines = [[(c.t(label), f"rp:{step}:{code}")] for code, label in CHOICES[step].items()]
    if step != "category":
        lines.append([(c.t("Skip"), f"rp:skip:{step}")])
    lines.append([(c.t("Cancel"), "rp:cancel")])
    takes = TEXT if step == "account" else "choice"
    return Next(ASK, Screen(c.t(QUESTIONS[step]), _choices(*lines), takes=takes))


def _describe(c: Ctx, step: str) -> str:
    a = c.answers
    if step == "where":
        return a.get("place") or c.t(inc.PLACE_KINDS.get(a.get("place_kind") or "", "–"))
    if step == "when":
        return a.get("date") or c.t(inc.WHEN.get(a.get("when") or "", "–"))
    if step == "account":
        return c.t("{n} characters", n=len(a["account"])) if a.get("account") else "–"
    value = a.get(step)
    return c.t(CHOICES[step][value]) if value in CHOICES[step] else "–"


def summary(c: Ctx) -> Next:
    """Everything on one screen, with send and change."""
    lines = [c.t("Your report:")] + [f"• {c.t(LABELS[s])}: {_describe(c, s)}" for s in STEPS]
    choices = _choices([(c.t("Send"), "rp:send")], [(c.t("Change"), "rp:change"), (c.t("Cancel"), "rp:cancel")])
    return Next(SUMMARY, Screen("\n".join(lines), choices))


async def answered(c: Ctx, inp: Input) -> Result:
    """A choice for the question asked (rp:<step>:<code>, rp:skip:<step>), or the account typed."""
    a = c.answers
    step = a.get("asking", "")
    if inp.value == "rp:cancel":
        return Done(c.t("Cancelled. Nothing was saved."))
    if inp.kind == TEXT:
        return _account(c, inp.value)
    _, action, value = (inp.value + "::").split(":")[:3]
    if action == "skip" and value == step and step != "category":
        _set(a, step, None)
    elif action == "where" and step == "where":
        shown = a.get("places") or [h.name for h in c.config.hotspots]  # the names the buttons showed
        if value.startswith("h") and value[1:].isdecimal() and int(value[1:]) < len(shown):
            a["place_kind"], a["place"] = "hotspot", shown[int(value[1:])]
        elif value == "other":
            a["place_kind"] = "other"
            return Next(TYPED, Screen(c.t("Write the name of the place."), takes=TEXT))
        elif value in inc.PLACE_KINDS:
            a["place_kind"], a["place"] = value, None
        else:
            return Stay(c.t("This button is no longer current."))
    elif action == "when" and value == "date":
        a["typing"] = "date"
        return Next(TYPED, Screen(c.t(DATE_EXAMPLE), takes=TEXT))
    elif action == step and value in CHOICES.get(step, {}):
        _set(a, step, value)
    elif action == "acc" and value == "done":
        a.pop("more", None)
    else:
        return Stay(c.t("This button is no longer current."))
    return _advance(c)


def _set(a: dict[str, Any], step: str, value: Any) -> None:
    if step == "where":
        a["place_kind"], a["place"] = value, None
    else:
        a[step] = value


def _advance(c: Ctx) -> Result:
    if c.answers.pop("editing", False):
        c.answers["returning"] = True
    return ask(c)


def _account(c: Ctx, text: str) -> Result:
    """The person's own words; a long account may come in several messages."""
    a = c.answers
    a["account"] = (a["account"] + "\n" + text) if a.get("more") and a.get("account") else text
    if len(text) >= LONG_TEXT:
        a["more"] = True
        more = c.t("Saved: {n} characters. Send the rest if there is more, or tap Continue.", n=len(a["account"]))
        return Next(ASK, Screen(more, _choices([(c.t("Continue"), "rp:acc:done")]), takes=TEXT))
    a.pop("more", None)
    return _advance(c)


async def typed(c: Ctx, inp: Input) -> Result:
    """A typed date or place name."""
    a = c.answers
    if a.pop("typing", None) == "date":
        day = inc.parse_date(inp.value, c.now().astimezone(c.config.tz).date())
        if day is None:
            a["typing"] = "date"
            return Stay(c.t(DATE_EXAMPLE))
        a["when"], a["date"] = "date", day.isoformat()
    else:
        a["place"] = " ".join(inp.value.split())[:120]
    return _advance(c)


async def on_summary(c: Ctx, inp: Input) -> Result:
    """Send, change (which answer?), or cancel."""
    if inp.value == "rp:cancel":
        return Done(c.t("Cancelled. Nothing was saved."))
    if inp.value == "rp:change":
        lines = [[(c.t(LABELS[s]), f"rp:edit:{s}")] for s in STEPS]
        return Next(CHANGE, Screen(c.t("What do you want to change?"), _choices(*lines)))
    return await send(c)


async def change(c: Ctx, inp: Input) -> Result:
    """One answer to give again; then back to the summary."""
    step = inp.value.removeprefix("rp:edit:")
    keys = {"when": ("when", "date"), "where": ("place_kind", "place")}.get(step, (step,))
    for key in keys:
        c.answers.pop(key, None)
    c.answers["returning"] = False
    c.answers["editing"] = True
    return ask(c)


async def send(c: Ctx) -> Result:
    """File the report; the reporter gets a reference (support contacts come with /support)."""
    assert c.person is not None
    if not c.answers.get("category"):
        return ask(c)
    incident = await inc.file_report(c.storage, c.person, c.answers, c.now(), c.config.tz, c.config.escalation)
    text = c.t("Sent. Your reference: {ref}. Thank you.", ref=incident.ref)
    if inc.SUPPORT_KIND.get(c.answers.get("support") or ""):
        text += "\n" + c.t("Your supervisor will contact you. Contacts: /support.")
    return Done(text, kept=c.t(KEPT, ref=incident.ref))


async def from_alert(c: Ctx, inp: Input) -> Result:
    """ "Report what happened" after an alert was resolved: place and alert filled in."""
    assert c.person is not None
    alert_id = inp.value.removeprefix("rp:alert:")
    async with c.storage.db.read() as tx:
        alert = await c.storage.alerts.get(tx, alert_id)
        checkin = await c.storage.checkins.get(tx, alert.checkin_id) if alert and alert.checkin_id else None
    if alert is None or alert.person_id != c.person.id:
        return Done(c.t("This button is no longer current."))
    c.answers.update(alert_id=alert.id, when="today")
    if checkin is not None:
        kind = "other" if checkin.place_custom else "hotspot"
        c.answers.update(place_kind=kind, place=checkin.place, checkin_id=checkin.id)
    return ask(c)


FLOW = Flow(
    name="report",
    start=start,
    steps={ASK: answered, TYPED: typed, SUMMARY: on_summary, CHANGE: change},
    commands=("report",),
    timeout=timedelta(hours=24),
    resume=True,
)
FROM_ALERT = Flow(name="report_alert", start=from_alert, steps=FLOW.steps, codes=("rp:alert:",), timeout=FLOW.timeout)
