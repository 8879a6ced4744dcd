"""Domain events. Every step of a call emits one on the bus; subscribers never poll.

Events are frozen dataclasses; ``name`` is the stable wire name used on Redis Streams,
WebSocket pushes and webhooks.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class DomainEvent:
    name: ClassVar[str] = "event"
    at_s: float = 0.0  # monotonic seconds on the emitter's clock

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["event"] = self.name
        return d


@dataclass(frozen=True, slots=True)
class CallArrived(DomainEvent):
    name: ClassVar[str] = "call.arrived"
    call_id: str = ""
    caller: str = ""
    customer_id: str | None = None


@dataclass(frozen=True, slots=True)
class CallRouted(DomainEvent):
    name: ClassVar[str] = "call.routed"
    call_id: str = ""
    rule: str | None = None
    target_kind: str = ""  # queue | bot | team
    target: str = ""
    priority: int = 0
    reason: str = ""


@dataclass(frozen=True, slots=True)
class CallQueued(DomainEvent):
    name: ClassVar[str] = "call.queued"
    call_id: str = ""
    queue: str = ""
    position: int = 0
    ewt_s: float = 0.0


@dataclass(frozen=True, slots=True)
class CallOverflowed(DomainEvent):
    name: ClassVar[str] = "call.overflowed"
    call_id: str = ""
    from_queue: str = ""
    to_queue: str = ""


@dataclass(frozen=True, slots=True)
class AgentReserved(DomainEvent):
    name: ClassVar[str] = "agent.reserved"
    call_id: str = ""
    agent_id: str = ""
    queue: str = ""
    customer_id: str | None = None
    timeout_s: float = 0.0


@dataclass(frozen=True, slots=True)
class ReservationTimedOut(DomainEvent):
    name: ClassVar[str] = "agent.reservation_timed_out"
    call_id: str = ""
    agent_id: str = ""


@dataclass(frozen=True, slots=True)
class CallAnswered(DomainEvent):
    name: ClassVar[str] = "call.answered"
    call_id: str = ""
    agent_id: str = ""
    wait_s: float = 0.0


@dataclass(frozen=True, slots=True)
class CallEnded(DomainEvent):
    name: ClassVar[str] = "call.ended"
    call_id: str = ""
    reason: str = ""
    agent_id: str | None = None


@dataclass(frozen=True, slots=True)
class AgentStateChanged(DomainEvent):
    name: ClassVar[str] = "agent.state_changed"
    agent_id: str = ""
    old: str = ""
    new: str = ""


@dataclass(frozen=True, slots=True)
class BotTurn(DomainEvent):
    name: ClassVar[str] = "bot.turn"
    conversation_id: str = ""
    call_id: str | None = None
    user_text: str = ""
    reply: str = ""
    intent: str = ""
    confidence: float = 0.0
    slots: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BotHandoff(DomainEvent):
    name: ClassVar[str] = "bot.handoff"
    conversation_id: str = ""
    call_id: str | None = None
    queue: str = ""
    context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CallbackRequested(DomainEvent):
    name: ClassVar[str] = "call.callback_requested"
    call_id: str = ""
    queue: str = ""
    phone: str = ""


@dataclass(frozen=True, slots=True)
class ComplianceAlert(DomainEvent):
    name: ClassVar[str] = "compliance.alert"
    kind: str = ""
    detail: str = ""
    subject_id: str = ""


@dataclass(frozen=True, slots=True)
class CallSupervisionChanged(DomainEvent):
    """A supervisor's leg on a call changed: ringing, active (in ``mode``) or ended.

    ``reason`` says why it ended: ``stopped`` (from the browser), ``supervisor_hung_up``,
    ``not_answered``, ``call_ended``.
    """

    name: ClassVar[str] = "call.supervision_changed"
    call_id: str = ""
    agent_id: str | None = None
    supervisor: str = ""
    mode: str = ""  # listen | whisper | barge
    state: str = ""  # ringing | active | ended
    reason: str = ""


def _all_event_types() -> dict[str, type[DomainEvent]]:
    found: dict[str, type[DomainEvent]] = {}
    todo: list[type[DomainEvent]] = [DomainEvent]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            found[sub.name] = sub
            todo.append(sub)
    return found


def event_from_dict(data: dict[str, Any]) -> DomainEvent:
    """Rebuild an event from ``to_dict()`` output; KeyError for an unknown wire name."""
    cls = _all_event_types()[data["event"]]
    fields = {k: v for k, v in data.items() if k != "event"}
    return cls(**fields)
