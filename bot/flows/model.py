"""The conversation engine's vocabulary: inputs, screens, results, flows, and the stored conversation.

A flow is a small step machine: its start and each of its steps take a messenger-neutral `Input`
and return the next `Screen` (`Next`), a hint that leaves the step as it is (`Stay`), or the end
(`Done`). The engine keeps one conversation per person, sealed in the database (flow, step,
answers, the message ids it showed and received), so a restart at any step continues at that step.
It knows nothing of any messenger: an adapter turns updates into inputs, and screens into messages
through the `Output` it passes in.

When a conversation ends, is replaced by another, or times out, its messages are queued for
clean-up in the outbox (so a crash never leaves them undone): once the organisation's delay has
passed they are deleted, and at most one neutral line stays.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.clock import Clock
from bot.i18n import N_, tr
from config import OrgConfig
from storage import Person, Storage
from storage.orgs import Organization

COMMAND, CHOICE, TEXT, LOCATION, FILE, OTHER = "command", "choice", "text", "location", "file", "other"
MAX_FILE = 64 * 1024  # a file a person sends (a plan's YAML is a few KiB): larger ones are never fetched
CLEANUP = "cleanup"  # the outbox kind that deletes a conversation's messages and keeps one line
STALE = N_("This button is no longer current.")
TAP_A_BUTTON = N_("Please tap one of the buttons above, or send /cancel.")
OUT_OF_ORDER = N_("I did not understand. Send /help to see what you can do.")
CANCELLED = N_("Cancelled. Nothing was saved.")
MAX_IDS = 200  # message ids remembered per conversation (a long account may take several)


class Unfetched(Exception):
    """The messenger did not give a file's bytes (gone, too big for it, unreachable): the step says so."""


@dataclass(frozen=True)
class Upload:
    """A file a person sent: its name, the size the messenger reports (None: not said), and how to
    fetch its bytes (only when a step takes it, and only once its size is known to be small)."""

    name: str
    size: int | None
    fetch: Callable[[], Awaitable[bytes]] = field(compare=False, repr=False)  # Unfetched if it cannot


@dataclass(frozen=True)
class Input:
    """What a person did, whatever the messenger: a command, a choice's code, typed text, a location, a file."""

    kind: str
    value: str = ""  # the command's name (no slash), the choice's code, or the text
    args: tuple[str, ...] = ()
    latitude: float | None = None
    longitude: float | None = None
    message_id: int | None = None  # the person's own message, deleted at clean-up
    on_screen: int | None = None  # the message whose choice was taken (None: typed, or unknown)
    update_id: int | None = None  # the messenger's number for it: the same number again is the same input
    upload: Upload | None = None  # a FILE input's file


@dataclass(frozen=True)
class Choice:
    code: str
    label: str


Rows = tuple[tuple[Choice, ...], ...]


def rows(*lines: list[tuple[str, str]]) -> Rows:
    """Rows of (label, code) pairs as choices."""
    return tuple(tuple(Choice(code, label) for label, code in line) for line in lines)


@dataclass(frozen=True)
class Screen:
    """A question: its text, its choices, and what else the step takes (typed text, a location)."""

    text: str
    rows: Rows = ()
    takes: str = CHOICE  # CHOICE: only the choices; TEXT, LOCATION or FILE: that too
    location_button: str | None = None  # a label for the phone's own "share location" button
    secret: bool = False  # what the person types here (a PIN) leaves the chat at once


@dataclass(frozen=True)
class Attachment:
    """A file sent with the end of a conversation (a chart, a CSV)."""

    kind: str  # "photo" or "document"
    content: bytes
    filename: str
    caption: str | None = None


@dataclass(frozen=True)
class Next:
    step: str
    screen: Screen


@dataclass(frozen=True)
class Stay:
    """The input did not answer the step: one short line, and the step stays as it is."""

    hint: str


@dataclass(frozen=True)
class Done:
    """The end: `text` is shown now and removed at clean-up; `kept` (with `rows`) is what stays."""

    text: str | None = None
    kept: str | None = None
    rows: Rows = ()
    files: tuple[Attachment, ...] = ()
    keep_files: bool = False  # managers' charts and exports stay; anything else goes with the clean-up
    pieces: tuple[str, ...] = ()  # more texts shown after `text` (a long list), removed alike
    then: tuple[str, dict[str, Any]] | None = None  # a flow that follows at once, with answers filled in
    replaces_kept: bool = False  # its kept line takes the place of the one before (check-out's of check-in's)


@dataclass(frozen=True)
class Aside:
    """An answer beside the conversation (to a code word, a PIN typed anywhere): the input and the
    answer are cleaned up on their own once the delay has passed; the conversation stays as it is."""

    text: str
    forget_now: bool = False  # the input leaves the chat at once (a PIN)


Result = Next | Stay | Done | Aside


@dataclass
class Ctx:
    """What a step may use: the person, their organisation's settings, the storage and the clock."""

    storage: Storage
    config: OrgConfig
    clock: Clock
    org: Organization
    person: Person | None
    update_id: int | None = None
    stranger: Stranger | None = None  # for /start: who is writing, before they are a person
    answers: dict[str, Any] = field(default_factory=dict)
    shredder: Shred | None = None  # the running bot's way to destroy its key (bot/flows/shred.py)

    @property
    def locale(self) -> str:
        return self.person.locale if self.person is not None else self.config.language

    def t(self, text: str, **values: Any) -> str:
        """`text` in the reader's language."""
        return tr(self.locale, text, **values)

    def now(self) -> datetime:
        return self.clock.now()


class Shred(Protocol):
    """What bot/shredder.py's Shredder offers a flow (a Protocol: services import the engine)."""

    async def destroy(self, storage: Storage, admin_id: str | None = None) -> Any:
        """Destroy the key; what was and was not destroyed (a shred.Destroyed)."""


@dataclass(frozen=True)
class Stranger:
    """Someone not (yet) enrolled: their messenger's user and chat ids and the language it reports."""

    user_id: int
    chat_id: int
    language: str


Step = Callable[[Ctx, Input], Awaitable[Result]]


@dataclass(frozen=True)
class Flow:
    """A conversation: what starts it (commands, or codes of buttons outside it), and its steps."""

    name: str
    start: Step
    steps: Mapping[str, Step] = field(default_factory=dict)
    commands: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()  # prefixes of choice codes that start it from any message
    timeout: timedelta = timedelta(minutes=30)
    cancel: Step | None = None  # what /cancel does half-way (default: nothing is saved)
    strangers: bool = False  # may run for someone not enrolled (only /start)
    resume: bool = False  # its command, sent half-way, asks the current question again
    # Whom its command is for; anyone else gets what an unknown command gets (nothing tells it exists).
    admits: Callable[[Ctx], Awaitable[bool]] | None = None


class Output(Protocol):
    """How an adapter shows what the engine decided."""

    async def show(self, screen: Screen, *, replace: int | None, drop: bool = False) -> int | None:
        """Show a screen (in place of message `replace` where the messenger can); its message id.
        `drop`: the phone's keyboard of an earlier screen (its share-location button) goes."""

    async def say(self, text: str, *, replace: int | None = None, drop: bool = False) -> int | None:
        """A line without choices (in place of `replace` where possible); its message id."""

    async def toast(self, text: str | None = None) -> None:
        """Acknowledge a choice (a small notice where the messenger has them)."""

    async def send_file(self, file: Attachment) -> int | None:
        """Send a file; its message id."""

    async def forget(self, message_id: int) -> None:
        """Remove one message now (a PIN, say)."""

    def extra(self) -> list[int]:
        """Messages the last call showed besides the one it returned."""


Rule = Callable[[Ctx, Input, Output, "Conversation"], Awaitable["Result | None"]]


@dataclass
class Conversation:
    """One person's conversation state, as stored (sealed)."""

    flow: str | None = None
    step: str | None = None
    answers: dict[str, Any] = field(default_factory=dict)
    shown: list[int] = field(default_factory=list)  # the bot's messages
    got: list[int] = field(default_factory=list)  # the person's messages
    screen: int | None = None  # the message of the current question
    codes: list[str] = field(default_factory=list)  # the current screen's choice codes, in order
    secret: bool = False  # the current step takes a secret (a PIN)
    last_update: int = 0
    paused: dict[str, Any] = field(default_factory=dict)  # flow -> {"a": answers, "at": iso time} set aside
    kept: int | None = None  # the last kept line, which a `replaces_kept` end removes
    at: datetime | None = None

    @classmethod
    def load(cls, state: dict[str, Any] | None, at: datetime | None) -> Conversation:
        if not state:
            return cls()
        return cls(
            flow=state.get("flow"),
            step=state.get("step"),
            answers=dict(state.get("a") or {}),
            shown=list(state.get("shown") or []),
            got=list(state.get("got") or []),
            screen=state.get("screen"),
            codes=list(state.get("codes") or []),
            secret=bool(state.get("secret")),
            last_update=int(state.get("u") or 0),
            paused=dict(state.get("paused") or {}),
            kept=state.get("kept"),
            at=at,
        )

    def dump(self) -> dict[str, Any]:
        return {
            "flow": self.flow,
            "step": self.step,
            "a": self.answers,
            "shown": self.shown[-MAX_IDS:],
            "got": self.got[-MAX_IDS:],
            "screen": self.screen,
            "codes": self.codes,
            "secret": self.secret,
            "u": self.last_update,
            "paused": self.paused,
            "kept": self.kept,
        }

    def note_shown(self, message_id: int | None) -> None:
        if message_id is not None and message_id not in self.shown:
            self.shown.append(message_id)

    @property
    def messages(self) -> bool:
        return bool(self.shown or self.got)
