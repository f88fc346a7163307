"""Runs one input through the person's conversation: the rules that hold at any moment first (code
words, the duress PIN), then the current step, or the flow the input starts; then stores the
conversation, and queues the clean-up of a conversation that ended, in one transaction.

See bot/flows/model.py for the vocabulary. One person has one conversation at a time: a command,
or a button that starts another flow, ends the one before (its messages are cleaned up as if it
had ended); an input older than its flow's timeout finds no conversation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.flows.model import (
    CANCELLED,
    CHOICE,
    CLEANUP,
    COMMAND,
    FILE,
    LOCATION,
    OTHER,
    STALE,
    TAP_A_BUTTON,
    TEXT,
    Aside,
    Conversation,
    Ctx,
    Done,
    Flow,
    Input,
    Next,
    Output,
    Result,
    Rule,
    Screen,
    Stay,
)
from bot.services.alerts import SAME_UPDATE_WITHIN
from config import OrgConfig
from storage import Storage, Tx

TAKES = "_takes"  # the answers' key for what the current step takes besides its choices


@dataclass
class Turn:
    """One input's handling: who, what, where it is shown, and the clean-ups it queues."""

    ctx: Ctx
    inp: Input
    out: Output
    conv: Conversation
    cleanups: list[dict[str, Any]] = field(default_factory=list)
    handled: bool = True


class Engine:
    """The flows by name, by command and by the codes of the buttons that start them."""

    def __init__(
        self,
        flows: Sequence[Flow],
        *,
        rules: Sequence[Rule] = (),
        on_location: Flow | None = None,
        fallback: Flow | None = None,
    ) -> None:
        self.flows = {flow.name: flow for flow in (*flows, *([fallback] if fallback else []))}
        self.commands = {command: flow for flow in flows for command in flow.commands}
        self.codes = sorted(((code, flow) for flow in flows for code in flow.codes), key=lambda c: -len(c[0]))
        self.rules = list(rules)
        self.on_location = on_location  # a location with no question asking for one
        self.fallback = fallback  # typed text (or a photo...) with no question asking for it; unknown commands

    async def handle(
        self,
        ctx: Ctx,
        inp: Input,
        out: Output,
        flush: Callable[[], None] | None = None,
        conv: Conversation | None = None,
    ) -> bool:
        """Handle one input and store what became of the conversation. What no flow takes is answered
        here too (a command we do not have: the fallback's line; a stale button: a notice). False
        only for a stranger's input that no flow for strangers takes: the adapter decides what they get."""
        queued = ctx.storage.outbox.enqueued
        if conv is None:  # else the adapter read it just now, with the person
            conv = await self.load(ctx)
        if inp.update_id is not None and inp.update_id <= conv.last_update and self._recent(conv, ctx.now()):
            return True  # the messenger sent it again (it was not told in time that it was handled)
        turn = Turn(ctx, inp, out, conv)
        if conv.flow is not None and self._expired(conv, ctx.now()):
            self.end(turn, pause=False)
        if inp.message_id is not None:
            conv.got.append(inp.message_id)
        for rule in self.rules:
            result = await rule(ctx, inp, out, conv)
            if result is not None:
                await self.apply(turn, self.flows.get(conv.flow or ""), result)
                break
        else:
            await self._route(turn)
        if inp.update_id is not None:
            conv.last_update = inp.update_id
        later = await self.store(turn)
        if flush is not None and ctx.storage.outbox.enqueued - queued > later:  # clean-ups wait for the tick
            flush()
        return turn.handled

    async def _route(self, turn: Turn) -> None:
        conv, inp = turn.conv, turn.inp
        flow = self.flows.get(conv.flow or "")
        if inp.kind == COMMAND:
            if inp.value == "cancel" and flow is not None:
                result = await flow.cancel(self._ctx(turn), inp) if flow.cancel else Done(turn.ctx.t(CANCELLED))
                await self.apply(turn, flow, result)
            elif flow is not None and flow.resume and self.commands.get(inp.value) is flow:
                await self.apply(turn, flow, await flow.start(self._ctx(turn), inp))
            elif inp.value in self.commands and await self._admits(turn, self.commands[inp.value]):
                await self.begin(turn, self.commands[inp.value])
            elif self.fallback is not None:  # a command we do not have: one neutral line; the conversation waits
                await self.begin(turn, self.fallback)
            else:
                turn.handled = False
        elif inp.kind == CHOICE:
            on_current = inp.on_screen is None or inp.on_screen == conv.screen
            starts = next((f for code, f in self.codes if inp.value.startswith(code)), None)
            if flow is not None and conv.step is not None and on_current and inp.value in conv.codes:
                await self.apply(turn, flow, await flow.steps[conv.step](self._ctx(turn), inp))
            elif starts is not None:
                await self.begin(turn, starts)
            else:
                await self._stale(turn)
        elif flow is not None and conv.step is not None:
            if inp.kind in (TEXT, LOCATION, FILE) and conv.answers.get(TAKES) == inp.kind:
                await self.apply(turn, flow, await flow.steps[conv.step](self._ctx(turn), inp))
            else:
                await self.apply(turn, flow, Stay(turn.ctx.t(TAP_A_BUTTON)))
        elif inp.kind == LOCATION and self.on_location is not None:
            await self.begin(turn, self.on_location)
        elif self.fallback is not None:
            await self.begin(turn, self.fallback)
        else:
            turn.handled = False

    @staticmethod
    async def _admits(turn: Turn, flow: Flow) -> bool:
        """Whether this person may have the flow at all (a hidden one's command is unknown to others)."""
        return flow.admits is None or await flow.admits(turn.ctx)

    @staticmethod
    async def _stale(turn: Turn) -> None:
        """A button no flow takes, or one of a screen that is no longer current: a notice on the button
        (a line where the messenger has none), and nothing changes. Not for strangers: the adapter's
        gate decides what they get."""
        if turn.ctx.person is None:
            turn.handled = False
            return
        await turn.out.toast(turn.ctx.t(STALE))

    @staticmethod
    def _ctx(turn: Turn) -> Ctx:
        """The step's context: its answers are the conversation's (a step changes them in place)."""
        turn.ctx.answers = turn.conv.answers
        return turn.ctx

    async def begin(self, turn: Turn, flow: Flow, answers: dict[str, Any] | None = None) -> None:
        """Start `flow`; the conversation before it (if any) ends and is cleaned up."""
        if turn.ctx.person is None and not flow.strangers:
            turn.handled = False
            return
        conv, inp = turn.conv, turn.inp
        if not flow.steps and conv.flow is not None:  # /status, /help... half-way: the conversation waits
            await self._between(turn, flow)
            return
        keep = conv.screen if inp.kind == CHOICE and inp.on_screen == conv.screen else None
        self.end(turn, keep_input=True, keep_screen=keep)
        if answers is None and flow.resume:
            answers = self._unpause(conv, flow, turn.ctx.now())
        conv.flow, conv.step, conv.answers = flow.name, None, dict(answers or {})
        await self.apply(turn, flow, await flow.start(self._ctx(turn), inp))

    async def _between(self, turn: Turn, flow: Flow) -> None:
        """A one-shot command in the middle of a conversation: answered on its own (and cleaned up on
        its own), the conversation left where it was."""
        conv, inp, out = turn.conv, turn.inp, turn.out
        saved = conv.answers
        result = await flow.start(turn.ctx, inp)
        turn.ctx.answers = conv.answers = saved
        if inp.kind == CHOICE:
            await out.toast()
        shown: list[int] = []
        if isinstance(result, Done):
            texts = [t for t in (result.text, *result.pieces) if t]
            for index, text in enumerate(texts):
                if index == len(texts) - 1 and result.rows:
                    message_id = await out.show(Screen(text, result.rows), replace=None)
                else:
                    message_id = await out.say(text)
                shown += [message_id] if message_id is not None else []
            for file in result.files:
                sent = await out.send_file(file)
                if sent is not None and not result.keep_files:
                    shown.append(sent)
        elif isinstance(result, Stay | Aside):
            message_id = await out.say(result.hint if isinstance(result, Stay) else result.text)
            shown += [message_id] if message_id is not None else []
        if inp.message_id is not None and inp.message_id in conv.got:
            conv.got.remove(inp.message_id)
            shown.append(inp.message_id)
        if shown:
            turn.cleanups.append({"delete": shown, "keep": None, "text": None, "rows": []})

    @staticmethod
    def _unpause(conv: Conversation, flow: Flow, now: datetime) -> dict[str, Any] | None:
        """The answers of this flow set aside when another one started, unless they are too old."""
        paused = conv.paused.pop(flow.name, None)
        if not paused or now - datetime.fromisoformat(paused["at"]) > flow.timeout:
            return None
        return dict(paused["a"])

    def end(self, turn: Turn, *, keep_input: bool = False, keep_screen: int | None = None, pause: bool = True) -> None:
        """Hand the conversation's messages to the clean-up (but the current input, and the screen a
        button on it starts the next flow from), and start a blank one."""
        conv = turn.conv
        flow = self.flows.get(conv.flow or "")
        answers = {k: v for k, v in conv.answers.items() if not k.startswith("_")}
        if pause and flow is not None and flow.resume and answers:  # a report half-way is set aside, not lost
            conv.paused[flow.name] = {"a": conv.answers, "at": turn.ctx.now().isoformat()}
        got = [m for m in conv.got if keep_input and m == turn.inp.message_id]
        shown = [m for m in conv.shown if m != keep_screen]
        delete = shown + [m for m in conv.got if m not in got]
        if delete:
            turn.cleanups.append({"delete": delete, "keep": None, "text": None, "rows": []})
        conv.flow, conv.step, conv.answers, conv.codes, conv.secret = None, None, {}, [], False
        conv.shown = [keep_screen] if keep_screen is not None else []
        conv.got, conv.screen = got, keep_screen

    # -- showing a result -----------------------------------------------------------------
    async def apply(self, turn: Turn, flow: Flow | None, result: Result) -> None:
        """Show the result and move the conversation on; an ended one is queued for clean-up."""
        conv, inp, out = turn.conv, turn.inp, turn.out
        on_screen = inp.kind == CHOICE and conv.screen is not None and inp.on_screen in (None, conv.screen)
        replace = conv.screen if on_screen else None
        drop = conv.answers.get(TAKES) == LOCATION
        if inp.kind == CHOICE:
            await out.toast()
        if conv.secret and inp.message_id is not None and inp.kind == TEXT and inp.message_id in conv.got:
            await out.forget(inp.message_id)  # a PIN leaves the chat at once
            conv.got.remove(inp.message_id)
        if isinstance(result, Stay):
            conv.note_shown(await out.say(result.hint))
            return
        if isinstance(result, Aside):
            delete = []
            if inp.message_id is not None and inp.message_id in conv.got:
                conv.got.remove(inp.message_id)
                if result.forget_now:
                    await out.forget(inp.message_id)
                else:
                    delete.append(inp.message_id)
            answer = await out.say(result.text)
            delete += [answer] if answer is not None else []
            turn.cleanups.append({"delete": delete, "keep": None, "text": None, "rows": []})
            return
        if isinstance(result, Next):
            assert flow is not None
            screen = result.screen
            message_id = await out.show(screen, replace=replace, drop=drop and screen.location_button is None)
            for extra in out.extra():
                conv.note_shown(extra)
            conv.note_shown(message_id)
            conv.flow, conv.step, conv.screen = flow.name, result.step, message_id
            conv.codes = [c.code for row in screen.rows for c in row]
            conv.secret = screen.secret
            conv.answers[TAKES] = screen.takes
            return
        await self._finish(turn, result, replace, drop)

    async def _finish(self, turn: Turn, done: Done, replace: int | None, drop: bool) -> None:
        conv, out = turn.conv, turn.out
        texts = [t for t in (done.text, *done.pieces) if t]
        last: int | None = None
        for index, text in enumerate(texts):
            where = replace if index == 0 else None
            if index == len(texts) - 1 and done.rows and not drop:
                last = await out.show(Screen(text, done.rows), replace=where)
            else:
                last = await out.say(text, replace=where, drop=drop)
            conv.note_shown(last)
        for file in done.files:
            sent = await out.send_file(file)
            if not done.keep_files:
                conv.note_shown(sent)
        keep = last if done.kept and last is not None else None
        # The line kept from before goes when this one takes its place ("Until 8:00." at check-out).
        replaced = [conv.kept] if done.replaces_kept and conv.kept not in (None, keep, *conv.shown) else []
        turn.cleanups.append(
            {
                "delete": [m for m in conv.shown if m != keep] + conv.got + replaced,
                "keep": keep,
                "text": done.kept,
                "rows": [[[c.code, c.label] for c in row] for row in done.rows],
            }
        )
        codes = [c.code for row in done.rows for c in row] if keep is not None else []
        conv.flow, conv.step, conv.answers, conv.secret = None, None, {}, False
        conv.shown, conv.got, conv.screen, conv.codes = [], [], keep if codes else None, codes
        if done.replaces_kept:  # the check-in cycle's line; a report's or a PIN's stays apart
            conv.kept = keep
        if done.then is not None:
            name, answers = done.then
            follow = self.flows[name]
            conv.flow, conv.answers = name, dict(answers)
            turn.inp = Input(OTHER)  # the next flow's first question comes as a new message
            await self.apply(turn, follow, await follow.start(self._ctx(turn), turn.inp))

    # -- storage --------------------------------------------------------------------------
    async def load(self, ctx: Ctx) -> Conversation:
        if ctx.person is None:
            return Conversation()
        async with ctx.storage.db.read() as tx:
            found = await ctx.storage.conversations.get(tx, ctx.person.id)
        return Conversation.load(*found) if found else Conversation()

    @staticmethod
    def _recent(conv: Conversation, now: datetime) -> bool:
        """Whether the last update is recent enough to compare numbers: Telegram numbers updates
        afresh (from a random number) after a week without any, and re-sends one within a day."""
        return conv.at is not None and now - conv.at < SAME_UPDATE_WITHIN

    def _expired(self, conv: Conversation, now: datetime) -> bool:
        flow = self.flows.get(conv.flow or "")
        return flow is None or conv.at is None or now - conv.at > flow.timeout

    async def store(self, turn: Turn) -> int:
        """Store the conversation, and queue the clean-ups, in one transaction; how many were queued
        (they fall due later: nothing to send now)."""
        ctx = turn.ctx
        if ctx.person is None:
            return 0
        now = ctx.now()
        queued = 0
        async with ctx.storage.db.tx() as tx:
            for job in turn.cleanups:
                if job["delete"] or job["keep"] is not None:
                    queued += await queue_cleanup(ctx, tx, job, now)
            await ctx.storage.conversations.put(tx, ctx.person.id, turn.conv.dump(), turn.conv.flow, now)
            await ctx.storage.people.seen(tx, ctx.person.id, now)  # "last seen" for admins: once an hour at most
        return queued


async def queue_cleanup(ctx: Ctx, tx: Tx, job: dict[str, Any], now: datetime) -> bool:
    """Queue one clean-up in the outbox, due once the organisation's delay has passed."""
    assert ctx.person is not None
    return await queue_cleanup_for(ctx.storage, tx, ctx.person.id, job, now + ctx.config.clean_up_after, now)


async def queue_cleanup_for(
    storage: Storage, tx: Tx, person_id: str, job: dict[str, Any], due: datetime, now: datetime
) -> bool:
    """False if this very clean-up was queued before."""
    ids = ",".join(str(m) for m in job["delete"])
    return await storage.outbox.enqueue(
        tx,
        key=f"{CLEANUP}:{person_id}:{job['keep']}:{ids}",
        recipient_id=person_id,
        kind=CLEANUP,
        params=job,
        now=now,
        due=due,
    )


async def sweep(engine: Engine, storage: Storage, config: OrgConfig, now: datetime) -> list[tuple[str, str]]:
    """End the conversations idle past their flow's timeout, so that their messages are cleaned up
    even if the person never writes again. Returns (person id, flow) of each one ended."""
    ended: list[tuple[str, str]] = []
    for flow in engine.flows.values():
        async with storage.db.tx() as tx:
            for person_id, _ in await storage.conversations.idle(tx, flow.name, now - flow.timeout):
                found = await storage.conversations.get(tx, person_id)
                if found is None:
                    continue
                conv = Conversation.load(*found)
                delete = conv.shown + conv.got
                if delete:
                    job = {"delete": delete, "keep": None, "text": None, "rows": []}
                    await queue_cleanup_for(storage, tx, person_id, job, now, now)
                blank = Conversation(last_update=conv.last_update, kept=conv.kept)
                await storage.conversations.put(tx, person_id, blank.dump(), None, now)
                ended.append((person_id, flow.name))
    return ended
