"""Values the dialogue engine takes and gives: user input, replies, hand-offs, the context.

``ConversationContext`` is the whole state of one conversation; the engine mutates it and
the service persists it (sealed) between turns, so the engine itself keeps nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Channel = Literal["text", "voice", "app", "web"]


@dataclass(frozen=True, slots=True)
class UserInput:
    """One caller turn: recognised or typed ``text``, DTMF ``dtmf`` digits, or neither.

    Neither (or only whitespace) means silence: the voice edge sends it when its no-input
    timer fires.
    """

    text: str = ""
    dtmf: str = ""

    @property
    def is_no_input(self) -> bool:
        return not self.text.strip() and not self.dtmf.strip()


@dataclass(frozen=True, slots=True)
class Handoff:
    """Hand the conversation to a human: skill ``queue``, ``reason`` code, ``context``."""

    queue: str
    reason: str  # customer_request | low_confidence | flow | dispute | locked | no_input
    context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class InputHint:
    """What the edge should collect next (used by the voice channel).

    ``dtmf_max_digits`` 0 means the state takes no digit strings, ``dtmf_keys`` are the
    single keys that mean something here; ``terminator`` ends a digit string.
    """

    slot: str | None = None
    dtmf_keys: tuple[str, ...] = ()
    dtmf_max_digits: int = 0
    terminator: str = "#"
    sensitive: bool = False  # identity data next: the voice edge pauses the recording


@dataclass(frozen=True, slots=True)
class Reply:
    """What the bot says and does after one turn.

    ``text`` is in the conversation's language; ``text_zh``/``text_en`` both are given so
    a channel may pick. ``state`` is ``"<flow>.<state>"``. ``action`` names the last
    action run this turn (``actions`` all of them). ``ended`` means hang up / close.
    """

    text: str
    text_zh: str
    text_en: str
    state: str
    intent: str | None = None
    confidence: float | None = None
    slots: dict[str, Any] = field(default_factory=dict)
    action: str | None = None
    actions: tuple[str, ...] = ()
    handoff: Handoff | None = None
    ended: bool = False
    expects: InputHint = field(default_factory=InputHint)


@dataclass(slots=True)
class Frame:
    """One entry of the flow stack: where we are, and where to go when this flow ends."""

    flow: str
    state: str
    return_state: str | None = None  # state of the frame below to resume at


@dataclass(slots=True)
class ConversationContext:
    """The whole state of a conversation; JSON-serialisable through ``to_dict``.

    ``slots`` hold normalised values (amount in yuan as a string, dates ISO); ``misses``
    counts consecutive misunderstood turns in the current state, ``silences`` consecutive
    no-input turns. ``transcript`` is a list of ``{"role", "text"}`` with text already masked.
    """

    conversation_id: str
    language: str = "zh-CN"
    channel: str = "text"
    customer_id: str | None = None
    caller_phone: str | None = None  # E.164, when the channel knows it
    stack: list[Frame] = field(default_factory=list)
    slots: dict[str, Any] = field(default_factory=dict)
    vars: dict[str, Any] = field(default_factory=dict)  # results of actions, for prompts
    verified: bool = False
    verify_failures: int = 0
    misses: int = 0
    silences: int = 0
    intents: list[dict[str, Any]] = field(default_factory=list)  # {"intent", "confidence"}
    transcript: list[dict[str, str]] = field(default_factory=list)
    completed: list[str] = field(default_factory=list)  # flows finished successfully
    status: str = "active"  # active | ended | handed_off
    handoff_reason: str | None = None
    call_id: str | None = None
    today: str = ""  # ISO date of the caller's local day, set by the edge each turn
    version: int = 0  # turns stored so far; the store refuses a save from a stale copy

    @property
    def zh(self) -> bool:
        return not self.language.lower().startswith("en")

    @property
    def where(self) -> str:
        if not self.stack:
            return "ended"
        top = self.stack[-1]
        return f"{top.flow}.{top.state}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ConversationContext:
        data = dict(d)
        data["stack"] = [Frame(**f) for f in data.get("stack", [])]
        return cls(**data)
