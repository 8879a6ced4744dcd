"""The ``CallCenter`` contract: one service through which every edge moves calls.

The SIP call controller, the REST API, the voicebot hand-off and the agent desktop all use
it; the routing feature implements it (``container.services["call_center"]``). Every
change is published on ``container.bus`` as a domain event (``lendline.domain.events``):
CallArrived, CallRouted, CallQueued, CallOverflowed, AgentReserved, ReservationTimedOut,
CallAnswered, CallEnded, AgentStateChanged, CallbackRequested. Implementations are
thread-safe (HTTP handlers run in a thread pool, SIP in the event loop).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from lendline.domain.agent import AgentState
from lendline.domain.call import Call

TargetKind = Literal["queue", "bot", "team", "agent"]


@dataclass(frozen=True, slots=True)
class RoutingDecision:
    target_kind: TargetKind
    target: str  # queue name, bot flow name, team id or agent id
    priority: int = 0
    rule: str | None = None  # name of the rule that matched (None = default)
    reason: str = ""  # human-readable: why this target (zh-CN first)


@dataclass(frozen=True, slots=True)
class QueueSnapshot:
    queue: str
    waiting: int
    longest_wait_s: float
    ewt_s: float
    agents_by_state: dict[str, int] = field(default_factory=dict)
    answered: int = 0
    abandoned: int = 0
    service_level: float = 1.0  # share answered within the queue's target (20 s default)
    abandon_rate: float = 0.0


@dataclass(frozen=True, slots=True)
class AgentSnapshot:
    agent_id: str
    name: str
    state: AgentState
    state_since: datetime
    skills: dict[str, int] = field(default_factory=dict)
    team: str | None = None
    call_id: str | None = None  # the call reserved for / connected to the agent


class CallCenter(Protocol):
    # --- calls ---
    def inbound_call(
        self,
        *,
        caller: str = "",
        customer_id: str | None = None,
        dialed: str = "",
        reason: str = "",
        channel: str = "api",
        call_id: str | None = None,
    ) -> Call:
        """Create the call record, find the customer (by id, else by caller number), route it.

        A queue decision enqueues the call (and may reserve an agent at once); a bot
        decision leaves it ``in_bot`` until the voicebot calls ``enqueue`` or ``hangup``.
        """
        ...

    def get_call(self, call_id: str) -> Call: ...

    def decision(self, call_id: str) -> RoutingDecision: ...

    def enqueue(
        self,
        call_id: str,
        queue: str,
        *,
        priority: int | None = None,
        context: dict[str, Any] | None = None,
    ) -> Call:
        """Hand a call (from the bot, the IVR or a transfer) to a skill queue."""
        ...

    def position(self, call_id: str) -> tuple[int, float]:
        """(1-based position in its queue, estimated wait in seconds)."""
        ...

    def request_callback(self, call_id: str, phone: str | None = None) -> Call: ...

    def abandon(self, call_id: str, *, interrupted: bool = False) -> Call: ...

    def accept(self, call_id: str, agent_id: str) -> Call: ...

    def decline(self, call_id: str, agent_id: str) -> Call: ...

    def hangup(self, call_id: str) -> Call: ...

    def transfer(
        self, call_id: str, *, queue: str | None = None, agent_id: str | None = None
    ) -> Call: ...

    def set_disposition(
        self, call_id: str, agent_id: str, code: str, note: str = "", resolved: bool = True
    ) -> Call: ...

    def attach_media(
        self,
        call_id: str,
        *,
        recording_id: str | None = None,
        quality: dict[str, Any] | None = None,
        supervision: dict[str, Any] | None = None,
    ) -> None:
        """Record the recording id and RTCP quality figures on the call record;
        ``supervision`` appends one listen-in/whisper/barge step to
        ``context["supervision"]`` (supervisor, mode, event, at)."""
        ...

    # --- agents and queues ---
    def set_agent_state(self, agent_id: str, state: AgentState) -> AgentSnapshot: ...

    def agent(self, agent_id: str) -> AgentSnapshot: ...

    def agents(self) -> list[AgentSnapshot]: ...

    def queues(self) -> list[QueueSnapshot]: ...

    def tick(self) -> None:
        """Fire due timers (reservation timeouts, overflow, aging, relaxation)."""
        ...
