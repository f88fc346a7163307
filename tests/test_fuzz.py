"""Fuzzing the whole Application: hypothesis-generated updates of every kind, from everyone, in every
state, with the state invariants checked after each one; and a state machine over check-in, extend,
check-out, alerts, acknowledgement, time and restarts, compared with a model after every step.

A failure prints hypothesis' falsifying example (the list of actions, or the state machine's steps) and a
@reproduce_failure blob; .hypothesis/ keeps it, so the next run tries it first. A whole run replays with
`pytest tests/test_fuzz.py --hypothesis-seed=N`. A long run: `OUTREACH_FUZZ_EXAMPLES=5000 pytest ...`."""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from bot.jobs import drafts
from bot.services.ladder import MAX_CHECKIN
from bot.telegram import jobs
from storage.timefmt import from_db
from tests.auxil.fuzz import (
    FUZZ_CONFIG,
    MEDIA_KINDS,
    Cast,
    Chatter,
    Harness,
    Loop,
    all_problems,
    blocked_update,
    callback_update,
    group_update,
    last_button,
    location_update,
    media_update,
    start_with_cast,
    tap_update,
    text_update,
    with_buttons,
)

# More examples for a long run: OUTREACH_FUZZ_EXAMPLES=5000 pytest tests/test_fuzz.py
SCALE = max(1, int(os.environ.get("OUTREACH_FUZZ_EXAMPLES", "250"))) / 250

# -- what people type ------------------------------------------------------------------------------

ARABIC = st.characters(min_codepoint=0x0600, max_codepoint=0x06FF)
EMOJI = st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF)
CONTROL = st.characters(min_codepoint=0, max_codepoint=0x1F) | st.sampled_from("\x7f\x85\u200b\u200f\u2028\u3000\ufeff")
ANY_CHAR = st.characters(codec="utf-8")  # everything JSON can carry: no lone surrogates
INTERESTING = st.sampled_from(
    [
        "buy bread",
        "BUY   Bread!!",
        "call aunt",
        "Call aunt.",
        "all good here",
        "45",
        "1h30",
        "0",
        "13h",
        "99999999999999999999",
        "²",
        "٣٠",
        "20/11",
        "31/02/2026",
        "29/02/2028",
        "01/01/0001",
        "4821",
        "1379",
        "12345678",
        "R-AAAAA",
        " ",
        "\u3000",
        "\x1c",
        "/",
        "//",
        "@",
        "-",
        "Mercado central",
    ]
)
TEXT = st.one_of(
    INTERESTING,
    st.text(ANY_CHAR, min_size=1, max_size=40),
    st.text(ARABIC | EMOJI | CONTROL | st.sampled_from(" \n"), min_size=1, max_size=60),
    st.builds(
        lambda piece, n: (piece * n)[:4096],
        st.sampled_from(["x", "ش", "😀", "a\u200f", "\x00", "ab "]),
        st.integers(3490, 4096),
    ),
)
COMMANDS = [
    "start",
    "checkin",
    "checkout",
    "extend",
    "status",
    "alert",
    "report",
    "support",
    "language",
    "help",
    "team",
    "timeline",
    "summary",
    "export",
    "incident",
    "pin",
    "cancel",
    "alerts",
    "people",
    "invites",
]
COMMAND = st.sampled_from(COMMANDS).map(lambda c: "/" + c) | st.sampled_from(
    ["/checkin@outreach_demo_bot", "/checkin@other_bot", "/Checkin", "/nosuchcommand", "/start@outreach_demo_bot"]
)
ARGS = st.one_of(
    st.just(""),
    st.sampled_from(
        [
            "4w",
            "12w 52w",
            "all theft",
            "arrest Parque",
            "bar",
            "2026-W47",
            "2026-W99",
            "9999-W52",
            "0001-W01",
            "2026-11-16",
            "0001-01-01",
            "9999-12-31",
            "2026-09-01 2026-11-30 accounts",
            "2026-11-30 2026-09-01",
            "R-AAAAA",
            "aaaaaaaaaaaaaaaaaaaaaaaa",
            "--accounts",
            "¹²³",
        ]
    ),
    st.text(ANY_CHAR, max_size=30),
)
PREFIXES = ["ci:", "co:", "ext:", "ack:", "safe:", "rp:", "tl:", "fu:", "alert:", "lang:", "ppl:", ""]
SUFFIXES = st.one_of(
    st.sampled_from(
        [
            "",
            "place:0",
            "place:9",
            "place:-1",
            "place:²",
            "place:other",
            "partner:alone",
            "partner:x",
            "alone:yes",
            "alone:back",
            "dur:30",
            "dur:0",
            "dur:²",
            "dur:99999999999999",
            "loc:skip",
            "cancel",
            "fine:deadbeef",
            "issue:",
            "ask:",
            "30:",
            "0:x",
            "99999999999999:x",
            "٣:x",
            "send",
            "change",
            "edit:when",
            "edit:nope",
            "skip:category",
            "where:h²",
            "where:h99",
            "where:other",
            "alert:nope",
            "acc:done",
            "0:12w:-:-",
            "²:12w:-:-",
            "0:12w:-:²",
            "99999999999999999999:all:theft:0",
            "R-AAAAA:closed",
            "note:skip",
            "red",
            "yellow",
            "green",
            "purple",
            "es",
            "xx",
        ]
    ),
    st.text(ANY_CHAR, max_size=20),
)
FORGED = st.builds(lambda p, s: (p + s).encode()[:64].decode("utf-8", "ignore"), st.sampled_from(PREFIXES), SUFFIXES)
COORD = st.one_of(
    st.floats(-90, 90),
    st.sampled_from([90.0, -90.0, 90.000001, 91.0, -91.0, 180.0, -180.0, 181.0, -181.0, 1e308, -1e308, 0.0]),
    st.floats(allow_nan=False, allow_infinity=False),
)
WHO = st.sampled_from([0, 0, 0, 1, 1, 2, 3, 3, 4, 4, 5, 6, 7, 8])  # index into Cast.everyone: workers most often
EDITED = st.sampled_from([False, False, True])

# Scripted paths into every state of every flow; an action plays the first k steps, then fuzzing goes on.
LONG_ACCOUNT = ("😀 ش " * 2000)[:4096]
CHECKED_IN = [
    ("say", "/checkin"),
    ("tap", "ci:place:1"),
    ("tap", "ci:partner:alone"),
    ("tap", "ci:dur:30"),
    ("tap", "ci:loc:skip"),
]
FLOWS: dict[str, list[tuple[Any, ...]]] = {
    "checkin": [
        ("say", "/checkin"),
        ("tap", "ci:place:1"),
        ("tap", "ci:partner:alone"),
        ("tap", "ci:dur:30"),
        ("tap", "ci:loc:skip"),
    ],
    "checkin_pairs": [
        ("say", "/checkin"),
        ("tap", "ci:place:0"),
        ("tap", "ci:partner:alone"),
        ("tap", "ci:alone:back"),
        ("tap", "ci:partner:alone"),
        ("tap", "ci:alone:yes"),
        ("say", "1h30"),
        ("loc", 14.6, -90.5),
    ],
    "checkin_partner": [
        ("say", "/checkin"),
        ("tap", "ci:place:0"),
        ("tap", "ci:partner:"),
        ("tap", "ci:dur:60"),
        ("loc", 91.0, 0.0),
        ("tap", "ci:loc:skip"),
    ],
    "checkin_other": [
        ("say", "/checkin"),
        ("tap", "ci:place:other"),
        ("say", "Mercado 😀 سوق"),
        ("tap", "ci:partner:alone"),
        ("say", "45"),
        ("tap", "ci:loc:skip"),
    ],
    "checkout_fine": [*CHECKED_IN, ("say", "/checkout"), ("tap", "co:fine:")],
    "checkout_issue": [
        *CHECKED_IN,
        ("say", "/checkout"),
        ("tap", "co:issue:"),
        ("tap", "rp:category:"),
        ("tap", "rp:affected:"),
        ("tap", "rp:send"),
    ],
    "status": [*CHECKED_IN, ("say", "/status"), ("tap", "co:ask:"), ("tap", "co:fine:")],
    "extend": [*CHECKED_IN, ("say", "/extend"), ("tap", "ext:30:"), ("say", "/extend"), ("say", "1h")],
    "status_extend": [*CHECKED_IN, ("say", "/status"), ("tap", "ext:ask:"), ("tap", "ext:60:")],
    "overdue": [
        *CHECKED_IN,
        ("advance", 36),
        ("say", "buy bread"),
        ("advance", 16),
        ("as", 3, ("tap", "safe:")),
        ("advance", 5),
        ("as", 3, ("tap", "ack:")),
        ("say", "/extend"),
        ("tap", "ext:30:"),
    ],
    "report": [
        ("say", "/report"),
        ("tap", "rp:category:theft"),
        ("tap", "rp:affected:me"),
        ("tap", "rp:when:date"),
        ("say", "20/11"),
        ("tap", "rp:where:other"),
        ("say", "behind the market"),
        ("tap", "rp:perpetrator:client"),
        ("tap", "rp:severity:2"),
        ("say", LONG_ACCOUNT),
        ("say", LONG_ACCOUNT),
        ("tap", "rp:acc:done"),
        ("tap", "rp:support:legal"),
        ("tap", "rp:authorities:no"),
        ("tap", "rp:change"),
        ("tap", "rp:edit:severity"),
        ("tap", "rp:severity:3"),
        ("tap", "rp:send"),
    ],
    "report_skips": [("say", "/report"), ("tap", "rp:category:other"), *[("tap", "rp:skip:")] * 8, ("tap", "rp:send")],
    "pin": [("say", "/pin"), ("say", "12"), ("say", "4821"), ("say", "4821"), ("say", "1379")],
    "alert_menu": [("say", "/alert"), ("tap", "alert:")],
    "code_red": [("say", "buy bread")],
    "code_yellow": [("say", "Call aunt.")],
    "code_green": [("say", "all good here")],
    "team": [("say", "/team"), ("tap", "ack:"), ("say", "/team"), ("tap", "safe:")],
    "ack_latest": [("tap", "ack:")],
    "open_alerts": [("say", "/alerts"), ("tap", "ack:"), ("say", "/alerts"), ("tap", "safe:")],
    "safe_latest": [("tap", "safe:")],
    "incident": [
        ("incident",),
        ("tap", "fu:"),
        ("say", "called the lawyer 📞"),
        ("incident",),
        ("tap", "fu:"),
        ("tap", "fu:note:skip"),
    ],
    "timeline": [("say", "/timeline all"), ("tap", "tl:"), ("tap", "tl:")],
    "language": [("say", "/language"), ("tap", "lang:")],
    "report_old": [
        ("say", "/report"),
        ("tap", "rp:category:threat"),
        ("tap", "rp:skip:affected"),
        ("tap", "rp:when:date"),
        ("say", "01/01/0001"),
        ("say", "1/1/1970"),
        *[("tap", "rp:skip:")] * 6,
        ("tap", "rp:send"),
    ],
    # A plan file asked for; then random documents (unknown to the Bot API: a neutral line) and updates.
    "plan_import": [("say", "/plan import"), ("file", b"risk: [unclosed"), ("file", b"- not a plan")],
    "managers": [
        ("say", "/summary 2026-W47"),
        ("say", "/timeline all"),
        ("say", "/export accounts"),
        ("say", "/export 0001-01-01 9999-12-31"),
    ],
}
FLOW = st.sampled_from(sorted(FLOWS))


def personal(who: int) -> st.SearchStrategy[tuple[Any, ...]]:
    """Anything one person may send: text, commands, presses on real, old, someone else's or forged buttons,
    media, locations, edits, messages in groups; or a few steps of a flow."""
    w = st.just(who)
    return st.one_of(
        st.tuples(st.just("text"), w, TEXT, EDITED),
        st.tuples(st.just("text"), w, TEXT, EDITED),
        st.tuples(st.just("command"), w, COMMAND, ARGS, EDITED),
        st.tuples(
            st.just("command"), w, st.sampled_from(["/summary", "/export", "/timeline", "/incident"]), ARGS, EDITED
        ),
        st.tuples(
            st.just("tap"),
            w,
            st.integers(0, 5),
            st.integers(0, 20),
            st.sampled_from(["plain", "plain", "inaccessible"]),
        ),
        st.tuples(st.just("steal"), w, WHO, st.integers(0, 5), st.integers(0, 20)),
        st.tuples(
            st.just("forge"),
            w,
            FORGED | st.none(),
            st.sampled_from(["plain", "plain", "inaccessible", "inline", "group"]),
        ),
        st.tuples(st.just("media"), w, st.sampled_from(MEDIA_KINDS), st.none() | TEXT, EDITED),
        st.tuples(st.just("location"), w, COORD, COORD, EDITED),
        st.tuples(st.just("group"), w, TEXT | COMMAND, st.booleans()),
        st.tuples(st.just("blocked"), w),
        st.tuples(st.just("flow"), w, FLOW, st.integers(1, 20)),
    )


TIME = st.one_of(
    st.tuples(st.just("advance"), st.sampled_from([1, 5, 10, 15, 16, 31, 120, 60 * 25, 60 * 24 * 8])),
    st.tuples(st.just("restart")),
)
# An episode: someone goes part of the way into a flow, then sends whatever.
EPISODE = WHO.flatmap(
    lambda who: st.tuples(
        st.tuples(st.just("flow"), st.just(who), FLOW, st.integers(1, 20)),
        st.lists(personal(who), min_size=1, max_size=3),
    )
).map(lambda episode: [episode[0], *episode[1]])
ACTIONS = st.lists(
    st.one_of(EPISODE, EPISODE, WHO.flatmap(personal).map(lambda a: [a]), TIME.map(lambda a: [a])),
    min_size=1,
    max_size=10,
).map(lambda groups: [action for group in groups for action in group])


async def _incident_ref(h: Harness) -> str:
    async with h.storage.db.read() as tx:
        row = await tx.one("SELECT ref FROM incidents ORDER BY reported_at DESC, rowid DESC LIMIT 1")
    return row["ref"] if row else "R-NONE0"


async def _step(h: Harness, cast: Cast, person: Chatter, step: tuple[Any, ...]) -> None:
    kind = step[0]
    if kind == "as":  # a step by someone else (the supervisor answering the alert)
        await _step(h, cast, cast.everyone[step[1]], step[2])
    elif kind == "advance":
        await play(h, cast, ("advance", step[1]))
    elif kind == "say":
        await h.feed(text_update(person, step[1]))
    elif kind == "loc":
        await h.feed(location_update(person, step[1], step[2]))
    elif kind == "incident":
        await h.feed(text_update(person, f"/incident {await _incident_ref(h)}"))
    elif kind == "file":
        await person.send_file("plan.yaml", step[1])
    else:  # the newest real button with this prefix; a forged press if there is none
        found = last_button(h, person, step[1])
        await h.feed(tap_update(h, person, *found) if found else callback_update(person, step[1]))


async def play(h: Harness, cast: Cast, action: tuple[Any, ...]) -> None:
    kind = action[0]
    who = cast.everyone[action[1]] if kind not in ("advance", "restart") else cast.everyone[0]
    if kind == "text":
        await h.feed(text_update(who, action[2], edited=action[3]))
    elif kind == "command":
        await h.feed(text_update(who, f"{action[2]} {action[3]}".rstrip(), edited=action[4]))
    elif kind in ("tap", "steal"):
        owner = cast.everyone[action[2]] if kind == "steal" else who
        shown = with_buttons(h, owner)
        if not shown:
            return
        age, index = (action[3], action[4]) if kind == "steal" else (action[2], action[3])
        sent = shown[-1 - age % len(shown)]
        data = sent.buttons[index % len(sent.buttons)][1]
        if kind == "tap" and action[4] == "inaccessible":
            await h.feed(callback_update(who, data, where="inaccessible"))
        else:
            await h.feed(tap_update(h, who, sent, data))  # on steal: someone else's button, in their own chat
    elif kind == "forge":
        await h.feed(callback_update(who, action[2], where=action[3]))
    elif kind == "media":
        await h.feed(media_update(who, action[2], action[3], edited=action[4]))
    elif kind == "location":
        await h.feed(location_update(who, action[2], action[3], edited=action[4]))
    elif kind == "group":
        await h.feed(group_update(who, action[2], channel=action[3]))
    elif kind == "blocked":
        await h.feed(blocked_update(who))
    elif kind == "flow":
        flow = FLOWS[action[2]]
        for step in flow[: 1 + action[3] % len(flow)]:  # a prefix: every state of the flow is as likely
            await _step(h, cast, who, step)
    elif kind == "advance":
        h.clock.advance(timedelta(minutes=action[1]))
        await h.tick()
        await drafts.sweep(h.app.bot_data.engine, h.storage, h.config, h.clock.now())
        await jobs.flush(h.app, wait=True)
    elif kind == "restart":
        await h.restart()
    else:
        raise AssertionError(kind)


async def _random_updates(pin: bool, actions: list[tuple[Any, ...]], loop: Loop) -> None:
    config = copy.deepcopy(FUZZ_CONFIG)
    if pin:
        config["checkout"] = {"pin": True}
    h = Harness(loop.tmp, config)
    cast = await start_with_cast(h)
    try:
        since = len(h.api.sent)
        for number, action in enumerate(actions):
            await play(h, cast, action)
            problems = await all_problems(h, cast, since)
            assert not problems, f"after action {number} {action!r}:\n  " + "\n  ".join(problems)
            since = len(h.api.sent)
    finally:
        await h.stop()


@settings(
    max_examples=int(250 * SCALE),
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
@given(pin=st.booleans(), actions=ACTIONS)
def test_random_updates_break_nothing(pin: bool, actions: list[tuple[Any, ...]]) -> None:
    """Any update, from anyone, in any state: no handler raises, and every invariant holds after each one."""
    loop = Loop()
    try:
        loop.run(_random_updates(pin, actions, loop))
    finally:
        loop.close()


# -- the state machine --------------------------------------------------------------------------------

ESC = {"reminder": timedelta(minutes=5), "grace": timedelta(minutes=10), "ack": timedelta(minutes=15)}


@dataclass
class ModelAlert:
    kind: str
    raised_at: datetime
    checkin: int | None  # the model's number of the check-in it is about
    status: str = "open"
    told: set[str] = field(default_factory=set)  # "supervisor", "manager"


class CheckinMachine(RuleBasedStateMachine):
    """One worker, their supervisor and a manager; the model says what the database must hold."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = Loop()
        config = copy.deepcopy(FUZZ_CONFIG)
        self.h = Harness(self.loop.tmp, config)
        self.loop.run(self.h.start())
        self.worker = self.loop.run(self.h.enrol("worker", "north"))
        self.supervisor = self.loop.run(self.h.enrol("supervisor", "north"))
        self.manager = self.loop.run(self.h.enrol("manager"))
        self.cast = Cast([self.worker], self.supervisor, self.manager, self.manager, [])
        self.since = len(self.h.api.sent)
        self.checkins = 0  # check-ins opened so far; the open one is number self.checkins
        self.open = False
        self.deadline: datetime | None = None
        self.alerted = False  # the open check-in's missed check-out alert was raised (stage ALERTED)
        self.alerts: list[ModelAlert] = []

    def teardown(self) -> None:
        self.loop.close(self.h.stop)

    # -- helpers --
    def now(self) -> datetime:
        return self.h.clock.now()

    def run(self, coro: Any) -> Any:
        return self.loop.run(coro)

    async def _open_id(self) -> str | None:
        async with self.h.storage.db.read() as tx:
            row = await tx.one("SELECT id FROM checkins WHERE status = 'open'")
        return row["id"] if row else None

    async def _alert_ids(self) -> list[str]:
        async with self.h.storage.db.read() as tx:
            return [r["id"] for r in await tx.all("SELECT id FROM alerts ORDER BY rowid")]

    def _close_missed(self) -> None:
        for alert in self.alerts:
            if alert.kind == "missed_checkout" and alert.checkin == self.checkins and alert.status != "resolved":
                alert.status = "resolved"

    def _last_text(self, person: Chatter) -> str:
        return person.last().text or ""

    # -- rules --
    @initialize()
    def nothing_yet(self) -> None:
        assert self.run(self._open_id()) is None

    @rule(minutes=st.sampled_from([30, 60, 120, 180]))
    def check_in(self, minutes: int) -> None:
        w = self.worker
        sent = self.run(w.say("/checkin"))
        if self.open:
            assert sent[-1].text.startswith("You are already checked in")
            return
        for data in ("ci:place:1", "ci:partner:alone", f"ci:dur:{minutes}", "ci:loc:skip"):
            sent = self.run(w.tap(sent[-1], data))
        assert self._last_text(w).startswith("Checked in at Bar La Luna")
        self.checkins += 1
        self.open, self.alerted = True, False
        self.deadline = self.now() + timedelta(minutes=minutes)

    @rule(plus=st.sampled_from([30, 60]))
    def extend(self, plus: int) -> None:
        sent = self.run(self.worker.say("/extend"))
        if not self.open:
            assert sent[-1].text == "You are not checked in. To start: /checkin."
            return
        checkin_id = self.run(self._open_id())
        self.run(self.worker.tap(sent[-1], f"ext:{plus}:{checkin_id}"))
        assert self._last_text(self.worker).startswith("Done. New time:")
        assert self.deadline is not None
        self.deadline = min(max(self.deadline, self.now()) + timedelta(minutes=plus), self.now() + MAX_CHECKIN)
        self.alerted = False
        self._close_missed()

    @rule(fine=st.booleans())
    def check_out(self, fine: bool) -> None:
        sent = self.run(self.worker.say("/checkout"))
        if not self.open:
            assert sent[-1].text == "You are not checked in. To start: /checkin."
            return
        checkin_id = self.run(self._open_id())
        answer = "fine" if fine else "issue"
        sent = self.run(self.worker.tap(sent[-1], f"co:{answer}:{checkin_id}"))
        shown = [s.text for s in sent if s.shows and s.chat_id == self.worker.chat_id]
        assert shown[0].startswith("Checked out."), shown
        self._close_missed()
        self.open, self.deadline = False, None
        if not fine:  # the report it opened is dropped, so that the worker's next texts are not read as its answers
            question = last_button(self.h, self.worker, "rp:cancel")
            assert question is not None and shown[-1] == "What happened?", shown
            self.run(self.worker.tap(*question))

    @rule(level=st.sampled_from(["red", "yellow", "green"]))
    def code_word(self, level: str) -> None:
        word = {"red": "buy bread", "yellow": "Call aunt.", "green": "ALL GOOD HERE!"}[level]
        sent = self.run(self.worker.say(word))
        assert [s.text for s in sent if s.chat_id == self.worker.chat_id] == ["OK, noted."]
        if level == "green":
            for alert in self.alerts:
                if alert.kind == "yellow" and alert.status != "resolved":
                    alert.status = "resolved"
            return
        told = {"supervisor", "manager"} if level == "red" else {"supervisor"}
        self.alerts.append(ModelAlert(level, self.now(), self.checkins if self.open else None, told=told))

    @rule(minutes=st.sampled_from([1, 4, 5, 6, 9, 10, 11, 15, 16, 30, 45, 61, 75, 200]))
    def time_passes(self, minutes: int) -> None:
        self.time_passes_by(timedelta(minutes=minutes))

    def time_passes_by(self, delta: timedelta) -> None:
        self.h.clock.advance(delta)
        self.run(self.h.tick())
        now = self.now()
        if self.open and not self.alerted and self.deadline is not None and now >= self.deadline + ESC["grace"]:
            self.alerted = True
            self.alerts.append(ModelAlert("missed_checkout", now, self.checkins, told={"supervisor"}))
        for alert in self.alerts:
            if alert.kind != "red" and alert.status == "open" and now >= alert.raised_at + ESC["ack"]:
                alert.told.add("manager")

    @precondition(lambda self: self.open)
    @rule(extra=st.sampled_from([0, 1, 15, 16]))
    def overdue(self, extra: int) -> None:
        """Straight to the missed check-out (and `extra` minutes past it)."""
        assert self.deadline is not None
        self.time_passes_by(max(self.deadline + ESC["grace"] - self.now(), timedelta(0)) + timedelta(minutes=extra))

    @precondition(lambda self: self.alerts)
    @rule(pick=st.integers(0, 30), by=st.sampled_from(["supervisor", "manager"]))
    def acknowledge(self, pick: int, by: str) -> None:
        index = -1 - pick % len(self.alerts)  # the newest alert first (and when shrinking)
        alert, alert_id = self.alerts[index], self.run(self._alert_ids())[index]
        person = self.supervisor if by == "supervisor" else self.manager
        shown = last_button(self.h, person, f"ack:{alert_id}")
        if shown is None:  # a manager not (yet) told has no button: the press is forged
            self.run(person.tap_forged(f"ack:{alert_id}"))
        else:
            self.run(person.tap(*shown))
        text = self._last_text(person)
        if alert.status == "open":
            assert text.startswith("Thank you. The others are told"), text
            alert.status = "acknowledged"
        elif alert.status == "acknowledged":
            assert text.endswith("is already handling it."), text
        else:
            assert text == "This alert is already closed.", text

    @precondition(lambda self: self.alerts)
    @rule(pick=st.integers(0, 30))
    def reached_safe(self, pick: int) -> None:
        index = -1 - pick % len(self.alerts)
        alert, alert_id = self.alerts[index], self.run(self._alert_ids())[index]
        shown = last_button(self.h, self.supervisor, f"safe:{alert_id}")
        assert shown is not None, "the supervisor is told of every alert of their team"
        self.run(self.supervisor.tap(*shown))
        text = self._last_text(self.supervisor)
        if alert.status == "resolved":
            assert text == "This alert is already closed.", text
            return
        assert text.startswith("Thank you. The alert is closed"), text
        alert.status = "resolved"
        if alert.checkin is not None and self.open and alert.checkin == self.checkins:
            self._close_missed()
            self.open, self.deadline = False, None

    @rule(which=st.sampled_from(["co:fine", "co:issue", "ext:30", "co:ask", "ext:ask"]))
    def stale_button(self, which: str) -> None:
        """A button of an earlier check-in (or of none) changes nothing."""

        async def closed_id() -> str:
            async with self.h.storage.db.read() as tx:
                row = await tx.one("SELECT id FROM checkins WHERE status = 'closed' ORDER BY rowid DESC LIMIT 1")
            return row["id"] if row else "0" * 24

        sent = self.run(self.worker.tap_forged(f"{which}:{self.run(closed_id())}"))
        assert sent[-1].text == "This button is no longer current.", sent[-1].text

    @rule()
    def restart(self) -> None:
        self.run(self.h.restart())

    # -- invariants --
    @invariant()
    def database_matches_the_model(self) -> None:
        async def read() -> tuple[list[Any], list[Any], dict[str, set[str]]]:
            async with self.h.storage.db.read() as tx:
                opened = await tx.all("SELECT deadline_at FROM checkins WHERE status = 'open'")
                alerts = await tx.all("SELECT id, kind, status FROM alerts ORDER BY rowid")
                told: dict[str, set[str]] = {}
                for row in await tx.all(
                    "SELECT e.alert_id, p.role FROM alert_events e JOIN people p ON p.id = e.recipient_id"
                    " WHERE e.event = 'told'"
                ):
                    told.setdefault(row["alert_id"], set()).add(row["role"])
            return opened, alerts, told

        opened, alerts, told = self.run(read())
        assert len(opened) == (1 if self.open else 0), (opened, self.open)
        if self.open:
            assert from_db(opened[0]["deadline_at"]) == self.deadline
        kinds = [self.h.storage.codes.value("alerts.kind", a["kind"]) for a in alerts]  # coded
        assert [(k, a["status"]) for k, a in zip(kinds, alerts, strict=True)] == [
            (m.kind, m.status) for m in self.alerts
        ]
        assert [told.get(a["id"], set()) for a in alerts] == [m.told for m in self.alerts]

    @invariant()
    def nothing_broken(self) -> None:
        problems = self.run(all_problems(self.h, self.cast, self.since))
        assert not problems, "\n".join(problems)
        self.since = len(self.h.api.sent)


CheckinMachine.TestCase.settings = settings(
    max_examples=int(100 * SCALE),
    stateful_step_count=30,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TestCheckinMachine = CheckinMachine.TestCase
