"""The engine's state and the small steps every part of it uses.

``EngineState`` holds the queues, the agent index, live calls, waiting records, timers and
the outgoing events; ``Matching`` (routing/matching.py) and ``EngineViews``
(routing/views.py) build on it and ``RoutingEngine`` (routing/engine.py) puts them together.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field

from lendline.calls.api import RoutingDecision
from lendline.clock import Clock
from lendline.domain.agent import Agent, AgentEvent
from lendline.domain.call import Call, EndReason
from lendline.domain.events import (
    AgentStateChanged,
    CallEnded,
    DomainEvent,
)
from lendline.errors import NotFound
from lendline.routing.agents import AgentIndex, AgentSelector, LongestIdle
from lendline.routing.config import QueueSpec, RoutingConfig
from lendline.routing.ewt import live_wait_s
from lendline.routing.ledger import InMemoryLedger, ReservationLedger
from lendline.routing.queue import Entry, SkillQueue

MAX_OVERFLOW_HOPS = 3
DECLINE_LOOKAHEAD = 8  # how far past calls an agent declined it looks for the next one


@dataclass(slots=True)
class Waiting:
    """Routing state of a call that is queued, held for its last agent, or ringing."""

    call_id: str
    queue: str
    key: float
    seq: int
    entered_s: float  # entered the queue system (kept across overflow)
    queue_entered_s: float  # entered this queue
    preferred: str | None = None
    entry: Entry | None = None  # set while in the queue's list
    pinned_to: str | None = None
    token: int = 0  # unique over the engine; a timer whose token differs is stale
    hops: int = 0
    predicted_wait_s: float | None = None
    declined: set[str] = field(default_factory=set)  # agents that declined it


class EngineState:
    def __init__(
        self,
        config: RoutingConfig,
        clock: Clock,
        *,
        selector: AgentSelector | None = None,
        ledger: ReservationLedger | None = None,
        reservation_timeout_s: float = 15.0,
    ) -> None:
        self.config = config
        self.clock = clock
        self.selector: AgentSelector = selector or LongestIdle()
        self.ledger: ReservationLedger = ledger or InMemoryLedger()
        self.reservation_timeout_s = reservation_timeout_s
        self.index = AgentIndex()
        self.queues: dict[str, SkillQueue] = {}
        self._queues_by_skill: dict[str, list[SkillQueue]] = {}
        self.calls: dict[str, Call] = {}
        self.decisions: dict[str, RoutingDecision] = {}
        self.waiting: dict[str, Waiting] = {}
        self._pinned: dict[str, list[str]] = {}
        self._wrap_call: dict[str, str] = {}  # agent -> call it is wrapping up
        self._agent_epoch: dict[str, int] = {}
        self._timers: list[tuple[float, int, str, str, int]] = []
        self._seq = itertools.count(1)
        self._out: list[DomainEvent] = []
        self.decisions_made = 0
        for spec in config.queues.values():
            self._add_queue(spec)

    def _add_queue(self, spec: QueueSpec) -> SkillQueue:
        if spec.required_skill == "any":
            self.index.enable_pool()
        elif spec.required_skill.startswith("agent:"):
            self.index.add_skill(spec.required_skill[6:], spec.required_skill, 10)
        q = SkillQueue(spec)
        self.queues[spec.name] = q
        self._queues_by_skill.setdefault(spec.required_skill, []).append(q)
        return q

    def queue(self, name: str) -> SkillQueue:
        q = self.queues.get(name)
        if q is None:
            if name.startswith(("team:", "agent:")):
                return self._add_queue(QueueSpec(name=name, skill=name))
            raise NotFound(f"no queue {name!r}", code="queue_not_found")
        return q

    def _agent_event(self, agent: Agent, event: AgentEvent) -> None:
        old = agent.state
        now = self.clock.monotonic()
        self.index.transition(agent, lambda: agent.apply(event, now))
        self._agent_epoch[agent.agent_id] = self._agent_epoch.get(agent.agent_id, 0) + 1
        if agent.state is not old:
            self._emit(AgentStateChanged(agent_id=agent.agent_id, old=old.value, new=agent.state))

    def _emit(self, event: DomainEvent) -> None:
        self._out.append(event)

    def _drain(self) -> list[DomainEvent]:
        out, self._out = self._out, []
        return out

    def _timer(self, due_s: float, kind: str, subject: str, token: int) -> None:
        heapq.heappush(self._timers, (due_s, next(self._seq), kind, subject, token))

    def _unqueue(self, call_id: str) -> Waiting:
        """Take a call out of its queue or sticky hold (it stays a live call)."""
        w = self.waiting.pop(call_id)
        w.token = next(self._seq)
        if w.entry is not None:
            self.queues[w.queue].remove(w.entry)
            w.entry = None
        if w.pinned_to is not None:
            pins = self._pinned.get(w.pinned_to, [])
            if call_id in pins:
                pins.remove(call_id)
            w.pinned_to = None
        return w

    def _reservation_timeout(self, w: Waiting) -> float:
        spec = self.queues[w.queue].spec
        return spec.reservation_timeout_s or self.reservation_timeout_s

    def _finish(self, call: Call, reason: EndReason) -> None:
        call.ended_s = self.clock.monotonic()
        call.end_reason = reason
        self.calls.pop(call.call_id, None)
        self.decisions.pop(call.call_id, None)
        self.waiting.pop(call.call_id, None)
        self._emit(
            CallEnded(
                at_s=call.ended_s, call_id=call.call_id, reason=reason, agent_id=call.agent_id
            )
        )

    def ewt(self, queue: str, position: int) -> float:
        """Estimated wait (s) of the call at 1-based ``position`` of ``queue``."""
        q = self.queues[queue]
        skill = q.skill
        free = self.index.available_count(skill, q.floor)
        return live_wait_s(position, free, self.index.serving_count(skill), q.stats.aht_s)

    def get_agent(self, agent_id: str) -> Agent:
        a = self.index.agents.get(agent_id)
        if a is None:
            raise NotFound(f"no agent {agent_id!r}", code="agent_not_found")
        return a
