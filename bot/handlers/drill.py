"""/drill W-7KQ2: a practice alert about a worker, for supervisors (their own team) and admins.

Anyone else gets what an unknown command gets: nothing tells a worker that drills exist."""

from __future__ import annotations

from bot.flows.model import Ctx, Done, Flow, Input, Result
from bot.i18n import N_
from bot.services.drills import run_drill

NO_SUPERVISOR = N_(
    "Drill started for {worker}: their team has no supervisor, so the managers are alerted now."
    " Every message says DRILL. The worker is not told."
)
NO_SUCH = N_("No worker with this code that you can drill. Write it like /drill W-7KQ2.")


async def admits(c: Ctx) -> bool:
    """Supervisors with a team, and admins."""
    person = c.person
    return person is not None and (person.role == "admin" or (person.role == "supervisor" and bool(person.team_id)))


async def drill(c: Ctx, inp: Input) -> Result:
    """Start the drill at once; a stranger, an unknown code, another team or a non-worker: one line."""
    assert c.person is not None
    code = (inp.args or ("",))[0]
    done = await run_drill(c.storage, c.config.escalation, c.person.org_id, c.person, code, c.now())
    if done is None:
        return Done(c.t(NO_SUCH))
    if done.managers_now:
        return Done(c.t(NO_SUPERVISOR, worker=done.worker.display))
    minutes = int(c.config.escalation.ack_timeout.total_seconds() // 60)
    return Done(
        c.t(
            "Drill started for {worker}: their supervisors are alerted now, managers after {n} min if nobody"
            " acknowledges. Every message says DRILL. The worker is not told.",
            worker=done.worker.display,
            n=minutes,
        )
    )


FLOW = Flow(name="drill", start=drill, commands=("drill",), admits=admits)
