"""/alert (the levels as neutral buttons) and /support."""

from __future__ import annotations

from bot.flows.anytime import DEFAULT_REPLY as DEFAULT_REPLY
from bot.flows.anytime import discreet_reply
from bot.flows.common import is_worker
from bot.flows.model import CHOICE, STALE, Ctx, Done, Flow, Input, Next, Result, Screen, rows
from bot.i18n import N_
from bot.services.alerts import raise_code_alert
from bot.support import directory_text

DEFAULT_LABELS = {"red": N_("Pick me up"), "yellow": N_("Call me"), "green": N_("All good")}
LEVELS = ("red", "yellow", "green")
CHOOSE = "choose"


async def alert(c: Ctx, inp: Input) -> Result:
    """/alert: the levels as neutral buttons; a level's button (on this menu or an older one) alerts."""
    if inp.kind == CHOICE:
        return await alert_tapped(c, inp)
    if not is_worker(c):
        return Done(c.t("This is for outreach workers."))
    labels = c.config.alerts.labels
    choices = rows(*([(labels.get(level) or c.t(DEFAULT_LABELS[level]), f"alert:{level}")] for level in LEVELS))
    return Next(CHOOSE, Screen(c.t("Choose:"), choices))


async def alert_tapped(c: Ctx, inp: Input) -> Result:
    """A level button: raise the worker's alert for this update (once, however often the messenger
    sends it), and put the discreet answer in place of the buttons; it goes with the clean-up."""
    level = inp.value.removeprefix("alert:")
    if level not in LEVELS or not is_worker(c):
        return Done(c.t(STALE))
    assert c.person is not None
    await raise_code_alert(c.storage, c.config.escalation, c.person, level, c.now(), update_id=c.update_id)
    return Done(discreet_reply(c))


async def support(c: Ctx, inp: Input) -> Result:
    """/support: every contact of the directory, only when asked; cleaned up after the delay."""
    return Done(directory_text(c.config, c.locale))


ALERT = Flow(
    name="alert",
    start=alert,
    steps={CHOOSE: alert_tapped},
    commands=("alert",),
    codes=("alert:",),
)
SUPPORT = Flow(name="support", start=support, commands=("support",))
