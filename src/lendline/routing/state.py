"""The engine's state and the small steps every part of it uses.

``EngineState`` holds the queues, the agent index, live calls, waiting records, timers and
the outgoing events; ``Matching`` (routing/matching.py) and ``EngineViews``
(routing/views.py) build on it and ``RoutingEngine`` (routing/engine.py) puts them together.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import overload

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
# a decline keeps the agent away from that call this long; then, if nobody else took it,
# the call may be offered to them again (with one agent staffed it would otherwise wait
# for ever while that agent sits available)
DECLINE_COOLOFF_S = 30.0


PendingEvent = Callable[[], DomainEvent]


class EventBatch(Sequence[DomainEvent]):
    """The domain events of one engine operation, built when first read.

    The engine records each event as a ``functools.partial`` of its class with the field
    values bound at the time (≈0.3 µs) and builds the frozen dataclasses (≈1.5 µs each)
    only when the batch is read — by the ``CallCenter`` publishing them on the bus, by the
    simulator — so a routing decision does not pay for events nobody reads. The values
    are bound when emitted, so reading later gives the same events as building at once.
    """

    __slots__ = ("_built", "_pending")

    def __init__(self, pending: list[PendingEvent]) -> None:
        self._pending = pending
        self._built: list[DomainEvent] | None = None

    def _events(self) -> list[DomainEvent]:
        built = self._built
        if built is None:
            built = self._built = [make() for make in self._pending]
            self._pending = []
        return built

    @overload
    def __getitem__(self, i: int) -> DomainEvent: ...
    @overload
    def __getitem__(self, i: slice) -> list[DomainEvent]: ...
    def __getitem__(self, i: int | slice) -> DomainEvent | list[DomainEvent]:
        return self._events()[i]

    def __len__(self) -> int:
        return len(self._pending) if self._built is None else len(self._built)

    def __iter__(self) -> Iterator[DomainEvent]:
        return iter(self._events())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, EventBatch):
            return self._events() == other._events()
        return isinstance(other, list) and self._events() == other

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"EventBatch({self._events()!r})"


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
    model_wait_s: float | None = None  # uncorrected live EWT when it entered the queue
    # agents that declined it → until when (monotonic seconds) they are not offered it again
    declined: dict[str, float] = field(default_factory=dict)


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
        self._out: list[PendingEvent] = []
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
        agent.apply(event, self.clock.monotonic())  # raises (state unchanged) if not allowed
        self.index.moved(agent, old)
        self._agent_epoch[agent.agent_id] = self._agent_epoch.get(agent.agent_id, 0) + 1
        if agent.state is not old:
            self._emit(
                partial(AgentStateChanged, agent_id=agent.agent_id, old=old.value, new=agent.state)
            )

    def _emit(self, event: PendingEvent) -> None:
        """Record an event: ``partial(EventClass, field=value, …)``, built when read."""
        self._out.append(event)

    def _drain(self) -> EventBatch:
        out, self._out = self._out, []
        return EventBatch(out)

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
            partial(
                CallEnded,
                at_s=call.ended_s,
                call_id=call.call_id,
                reason=reason,
                agent_id=call.agent_id,
            )
        )

    def ewt(self, queue: str, position: int, waited_s: float = 0.0) -> float:
        """Estimated wait (s) of the call at 1-based ``position`` of ``queue``, corrected
        by the queue's recent actual waits (``WaitCalibration``)."""
        q = self.queues[queue]
        return q.calibration.estimate(self._model_wait(q, position, waited_s))

    def _model_wait(self, q: SkillQueue, position: int, waited_s: float) -> float:
        """The live estimate (routing/ewt.py) from agents eligible now; free agents not yet
        eligible take the call when a relaxation step lets them, if that comes sooner."""
        skill = q.skill
        index = self.index
        level = q.min_level_at(waited_s)
        est = live_wait_s(
            position, index.available_count(skill, level), index.serving_count(skill), q.stats.aht_s
        )
        for after_s, relaxed in q.spec.relax:
            if (
                after_s > waited_s
                and relaxed < level
                and after_s - waited_s < est
                and index.available_count(skill, relaxed) >= position
            ):
                est = after_s - waited_s
                break
        return est

    def get_agent(self, agent_id: str) -> Agent:
        a = self.index.agents.get(agent_id)
        if a is None:
            raise NotFound(f"no agent {agent_id!r}", code="agent_not_found")
        return a
