"""One half-finished conversation per person, its state kept in their user_data with its time.

python-telegram-bot's ConversationHandler keeps a state per handler and times each one out with a
scheduler job. Two flows could then wait for typed text at once (a check-in left at "how long?"
took the account typed for /report), and adding and removing those jobs on every step was about a
seventh of the cost of handling an update. Here a flow's step callbacks keep ConversationHandler's
contract (return the next state, END, or None to stay), but a person has one slot: a new flow
replaces the one before, any command ends it (`end_on_command`), and a state older than its flow's
timeout is ignored when the next update comes, so no job is needed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from telegram import Update
from telegram.ext import Application, BaseHandler, ConversationHandler

from bot.context import BotContext

END = ConversationHandler.END
SLOT = "flow"  # user_data key: {"flow": name, "state": state, "at": datetime}
Handler = BaseHandler[Update, BotContext, Any]


@dataclass(frozen=True)
class Flow:
    """A conversation: how it starts, what each state accepts, what it accepts in every state."""

    name: str
    entry_points: list[Handler]
    states: dict[str, list[Handler]]
    fallbacks: list[Handler] = field(default_factory=list)
    timeout: timedelta = timedelta(minutes=30)


@dataclass(frozen=True)
class _Match:
    flow: Flow
    handler: Handler
    check: object


def _first(handlers: list[Handler], update: Update) -> tuple[Handler, object] | None:
    for handler in handlers:
        check = handler.check_update(update)
        if check is not None and check is not False:
            return handler, check
    return None


class FlowRouter(BaseHandler[Update, BotContext, None]):
    """Routes an update to the current flow's state, its fallbacks, or any flow's entry point."""

    def __init__(self, flows: list[Flow], application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        super().__init__(self._unused)
        self.flows = flows
        self._by_name = {flow.name: flow for flow in flows}
        self._app = application

    @staticmethod
    async def _unused(update: Update, context: BotContext) -> None:  # handle_update is overridden
        raise NotImplementedError

    def current(self, user_data: dict[Any, Any] | None, now: datetime) -> tuple[Flow, str] | None:
        """The person's flow and state, unless there is none or it has timed out."""
        slot = (user_data or {}).get(SLOT)
        if not slot:
            return None
        flow = self._by_name.get(slot["flow"])
        if flow is None or now - slot["at"] > flow.timeout:
            return None
        return flow, slot["state"]

    def check_update(self, update: object) -> _Match | None:
        if not isinstance(update, Update) or update.effective_user is None:
            return None
        # .get: reading the application's user_data by key would create an entry for every stranger
        current = self.current(self._app.user_data.get(update.effective_user.id), self._app.bot_data.clock.now())
        if current is not None:
            flow, state = current
            found = _first(flow.entry_points, update) or _first(flow.states.get(state, []), update)
            found = found or _first(flow.fallbacks, update)
            if found is not None:
                return _Match(flow, *found)
        for flow in self.flows:
            found = _first(flow.entry_points, update)
            if found is not None:
                return _Match(flow, *found)
        return None

    async def handle_update(
        self,
        update: Update,
        application: Application[Any, Any, Any, Any, Any, Any],
        check_result: object,
        context: BotContext,
    ) -> None:
        assert isinstance(check_result, _Match)
        state = await check_result.handler.handle_update(update, application, check_result.check, context)
        user_data = context.user_data
        assert user_data is not None
        if state == END:
            user_data.pop(SLOT, None)
        elif state is not None:
            user_data[SLOT] = {"flow": check_result.flow.name, "state": state, "at": context.clock.now()}
        elif user_data.get(SLOT, {}).get("flow") == check_result.flow.name:  # None: stay; that is activity
            user_data[SLOT]["at"] = context.clock.now()


async def end_on_command(update: Update, context: BotContext) -> None:
    """Any command but /cancel ends a half-finished flow (a flow's own commands then start it anew)."""
    if context.user_data is not None:
        context.user_data.pop(SLOT, None)
