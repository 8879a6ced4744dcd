"""The ACD engine: calls in, decisions and domain events out, on a given clock.

Pure and single-threaded: the caller serialises access (``CallCenter`` holds a lock; the
simulator is one loop). Every public operation returns the domain events it produced;
timers (reservation timeout, overflow, proficiency relaxation, sticky hold, wrap-up) are
asked with ``next_timer_s()`` and fired with ``run_due()``.

Life of a queued call::

    arrive → rules.decide → bot (in_bot)  ─ enqueue ─┐
                          → queue/team ──────────────┴→ _enqueue: sticky hold? agent free?
      → AgentReserved (ringing) → accept (connected) → hangup (wrap_up → ready)
                                → timeout: back to the head, agent not_ready
      queued → overflow after N s / when EWT too long → another queue or voicemail
             → callback (keeps its place as an outbound callback item)
             → abandon
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lendline.calls.api import AgentSnapshot, QueueSnapshot, RoutingDecision
from lendline.clock import Clock
from lendline.domain.agent import Agent, AgentEvent, AgentState
from lendline.domain.call import Call, CallDirection, CallEvent, CallState, EndReason
from lendline.domain.events import (
    AgentReserved,
    AgentStateChanged,
    CallAnswered,
    CallArrived,
    CallbackRequested,
    CallEnded,
    CallOverflowed,
    CallQueued,
    CallRouted,
    DomainEvent,
    ReservationTimedOut,
)
from lendline.errors import Conflict, NotFound, ValidationError
from lendline.routing.agents import AgentIndex, AgentSelector, LongestIdle
from lendline.routing.config import VOICEMAIL, QueueSpec, RoutingConfig
from lendline.routing.ewt import erlang_c_wait_s, live_wait_s
from lendline.routing.ledger import InMemoryLedger, ReservationLedger
from lendline.routing.queue import Entry, SkillQueue
from lendline.routing.rules import decide

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
    token: int = 0
    hops: int = 0
    predicted_wait_s: float | None = None
    declined: set[str] = field(default_factory=set)  # agents that declined it


class RoutingEngine:
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

    # ------------------------------------------------------------------ configuration
    def _add_queue(self, spec: QueueSpec) -> SkillQueue:
        q = SkillQueue(spec)
        self.queues[spec.name] = q
        self._queues_by_skill.setdefault(spec.required_skill, []).append(q)
        return q

    def apply_config(self, config: RoutingConfig) -> None:
        """Swap rules and queue settings; waiting calls stay where they are."""
        for name, spec in config.queues.items():
            q = self.queues.get(name)
            if q is None:
                self._add_queue(spec)
            elif q.spec.required_skill != spec.required_skill:
                self._queues_by_skill[q.spec.required_skill].remove(q)
                self._queues_by_skill.setdefault(spec.required_skill, []).append(q)
                q.spec = spec
            else:
                q.spec = spec
        self.config = config

    def queue(self, name: str) -> SkillQueue:
        q = self.queues.get(name)
        if q is None:
            if name.startswith(("team:", "agent:")):
                return self._add_queue(QueueSpec(name=name, skill=name))
            raise NotFound(f"no queue {name!r}", code="queue_not_found")
        return q

    # ------------------------------------------------------------------ agents
    def add_agent(self, agent: Agent) -> None:
        if agent.agent_id in self.index.agents:
            self.index.remove(agent.agent_id)
        self.index.add(agent)
        self._agent_epoch.setdefault(agent.agent_id, 0)
        if agent.state is AgentState.AVAILABLE:
            self._offer_agent(agent)

    def get_agent(self, agent_id: str) -> Agent:
        a = self.index.agents.get(agent_id)
        if a is None:
            raise NotFound(f"no agent {agent_id!r}", code="agent_not_found")
        return a

    def _agent_event(self, agent: Agent, event: AgentEvent) -> None:
        old = agent.state
        now = self.clock.monotonic()
        self.index.transition(agent, lambda: agent.apply(event, now))
        self._agent_epoch[agent.agent_id] = self._agent_epoch.get(agent.agent_id, 0) + 1
        if agent.state is not old:
            self._emit(AgentStateChanged(agent_id=agent.agent_id, old=old.value, new=agent.state))

    def set_agent_state(self, agent_id: str, state: AgentState) -> list[DomainEvent]:
        """An agent (or supervisor) asks for available, break or offline."""
        agent = self.get_agent(agent_id)
        if state is AgentState.AVAILABLE:
            event = AgentEvent.LOGIN if agent.state is AgentState.OFFLINE else AgentEvent.READY
        elif state is AgentState.ON_BREAK:
            event = AgentEvent.BREAK
        elif state is AgentState.OFFLINE:
            event = AgentEvent.LOGOUT
        else:
            raise Conflict(
                f"an agent cannot set itself {state.value!r} (available, break, offline)",
                code="invalid_agent_transition",
            )
        if agent.state is state and state is not AgentState.AVAILABLE:
            return self._drain()
        self._agent_event(agent, event)
        self._wrap_call.pop(agent_id, None)
        if agent.state is AgentState.AVAILABLE:
            self._offer_agent(agent)
        return self._drain()

    # ------------------------------------------------------------------ calls
    def arrive(self, call: Call, env: Mapping[str, Any]) -> list[DomainEvent]:
        """A new call: record it, run the rules and act on the decision."""
        if call.call_id in self.calls:
            raise Conflict(f"call {call.call_id!r} exists", code="call_exists")
        now = self.clock.monotonic()
        call.arrived_s = now
        self.calls[call.call_id] = call
        self._emit(
            CallArrived(at_s=now, call_id=call.call_id, caller="", customer_id=call.customer_id)
        )
        call.apply(CallEvent.ROUTE)
        d = decide(self.config, env)
        self.decisions_made += 1
        self.decisions[call.call_id] = d
        call.rule, call.routing_reason, call.priority = d.rule, d.reason, d.priority
        self._emit(
            CallRouted(
                at_s=now,
                call_id=call.call_id,
                rule=d.rule,
                target_kind=d.target_kind,
                target=d.target,
                priority=d.priority,
                reason=d.reason,
            )
        )
        if d.target_kind == "bot":
            call.apply(CallEvent.TO_BOT)
            return self._drain()
        qname = d.target if d.target_kind == "queue" else f"{d.target_kind}:{d.target}"
        preferred = env.get("last_agent_id")
        self._enqueue(call, qname, d.priority, CallEvent.ENQUEUE, preferred=preferred)
        return self._drain()

    def call(self, call_id: str) -> Call:
        c = self.calls.get(call_id)
        if c is None:
            raise NotFound(f"no live call {call_id!r}", code="call_not_found")
        return c

    def enqueue(
        self,
        call_id: str,
        queue: str,
        *,
        priority: int | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> list[DomainEvent]:
        """Hand a call from the bot (or move a waiting call) to ``queue``."""
        call = self.call(call_id)
        self.queue(queue)
        if context:
            call.context.update(context)
        prio = call.priority if priority is None else priority
        if call.state is CallState.IN_BOT:
            self._enqueue(call, queue, prio, CallEvent.ENQUEUE)
        elif call.state is CallState.QUEUED:
            w = self._unqueue(call_id)
            call.apply(CallEvent.OVERFLOW)
            self._enqueue(call, queue, prio, None, entered_s=w.entered_s)
        else:
            raise Conflict(
                f"call in state {call.state.value!r} cannot be queued",
                code="invalid_call_transition",
            )
        return self._drain()

    def _enqueue(
        self,
        call: Call,
        qname: str,
        priority: int,
        event: CallEvent | None,
        *,
        preferred: str | None = None,
        entered_s: float | None = None,
        hops: int = 0,
    ) -> None:
        q = self.queue(qname)
        now = self.clock.monotonic()
        if event is not None:
            call.apply(event)
        call.queue, call.priority = qname, priority
        if call.queued_s is None:
            call.queued_s = now
        entered = now if entered_s is None else entered_s
        seq = next(self._seq)
        key = q.rank_key(entered, priority)
        w = Waiting(call.call_id, qname, key, seq, entered, now, preferred, hops=hops)
        self.waiting[call.call_id] = w
        q.counters.offered += 1
        q.stats.add_arrival(now)
        skill = q.spec.required_skill
        level = q.spec.min_proficiency_at(now - entered)
        # 1. sticky: the customer's last agent, now or (held) within sticky_wait_s
        hold_s = self.selector.sticky_wait_s
        if preferred and hold_s > 0 and self.index.level(preferred, skill) > 0:
            agent = self.index.agents.get(preferred)
            if agent is not None and agent.state is AgentState.AVAILABLE:
                self._reserve(call, w, preferred)
                self._emit_queued(call, w, 0, 0.0)
                return
            if agent is not None and agent.state in (
                AgentState.ON_CALL,
                AgentState.WRAP_UP,
                AgentState.RESERVED,
            ):
                w.pinned_to = preferred
                self._pinned.setdefault(preferred, []).append(call.call_id)
                self._timer(now + hold_s, "pin", call.call_id, w.token)
                self._emit_queued(call, w, 1, min(hold_s, self.ewt(qname, 1)))
                return
        # 2. an agent free right now
        agent_id = self.selector.pick(self.index, skill, level, preferred=preferred)
        if agent_id is not None:
            self._emit_queued(call, w, 0, 0.0)
            self._reserve(call, w, agent_id)
            return
        # 3. wait: maybe overflow at once when the wait is too long
        position = q.position_for(key, seq)
        ewt = self.ewt(qname, position)
        spec = q.spec
        if (
            spec.overflow_ewt_s is not None
            and spec.overflow_to
            and ewt > spec.overflow_ewt_s
            and hops < MAX_OVERFLOW_HOPS
        ):
            self._emit_queued(call, w, position, ewt)
            self._overflow(call, w)
            return
        w.entry = q.push(key, seq, call.call_id)
        if spec.callback_offer_ewt_s is not None and ewt > spec.callback_offer_ewt_s:
            call.context["callback_offered"] = True
        self._emit_queued(call, w, position, ewt)
        if spec.overflow_after_s is not None and spec.overflow_to and hops < MAX_OVERFLOW_HOPS:
            self._timer(now + spec.overflow_after_s, "overflow", call.call_id, w.token)
        waited = now - entered
        for after_s, _lvl in spec.relax:
            if after_s > waited:
                self._timer(entered + after_s, "relax", call.call_id, w.token)

    def _emit_queued(self, call: Call, w: Waiting, position: int, ewt: float) -> None:
        if w.predicted_wait_s is None:
            w.predicted_wait_s = ewt
            call.context.setdefault("ewt_at_queue_s", round(ewt, 1))
        self._emit(
            CallQueued(
                at_s=self.clock.monotonic(),
                call_id=call.call_id,
                queue=w.queue,
                position=position,
                ewt_s=round(ewt, 1),
            )
        )

    def _unqueue(self, call_id: str) -> Waiting:
        """Take a call out of its queue or sticky hold (it stays a live call)."""
        w = self.waiting.pop(call_id)
        w.token += 1
        if w.entry is not None:
            self.queues[w.queue].remove(w.entry)
            w.entry = None
        if w.pinned_to is not None:
            pins = self._pinned.get(w.pinned_to, [])
            if call_id in pins:
                pins.remove(call_id)
            w.pinned_to = None
        return w

    def _reserve(self, call: Call, w: Waiting, agent_id: str) -> None:
        if not self.ledger.reserve(agent_id, call.call_id, self._reservation_timeout(w)):
            return  # another node holds the agent; the call stays where it is
        if w.entry is not None:
            self.queues[w.queue].remove(w.entry)
            w.entry = None
        if w.pinned_to is not None:
            pins = self._pinned.get(w.pinned_to, [])
            if call.call_id in pins:
                pins.remove(call.call_id)
            w.pinned_to = None
        self.waiting[call.call_id] = w
        w.token += 1
        agent = self.index.agents[agent_id]
        self._agent_event(agent, AgentEvent.RESERVE)
        call.apply(CallEvent.RESERVE)
        call.agent_id = agent_id
        now = self.clock.monotonic()
        timeout = self._reservation_timeout(w)
        self._timer(now + timeout, "reservation", call.call_id, w.token)
        self._emit(
            AgentReserved(
                at_s=now,
                call_id=call.call_id,
                agent_id=agent_id,
                queue=w.queue,
                customer_id=call.customer_id,
                timeout_s=timeout,
            )
        )

    def _reservation_timeout(self, w: Waiting) -> float:
        spec = self.queues[w.queue].spec
        return spec.reservation_timeout_s or self.reservation_timeout_s

    def _requeue_head(self, call: Call, w: Waiting, exclude: str | None) -> None:
        """A declined or missed offer: back to the head of its queue, then try others."""
        q = self.queues[w.queue]
        w.token += 1
        call.agent_id = None
        now = self.clock.monotonic()
        level = q.spec.min_proficiency_at(now - w.entered_s)
        agent_id = self.selector.pick(self.index, q.spec.required_skill, level, exclude=exclude)
        if agent_id is not None:
            self._reserve(call, w, agent_id)
            return
        w.entry = q.push_head(w.seq, call.call_id, w.key)
        w.key = -w.entry[0]  # its rank is now the head's
        if q.spec.overflow_after_s is not None and q.spec.overflow_to:
            due = max(now, w.queue_entered_s + q.spec.overflow_after_s)
            self._timer(due, "overflow", call.call_id, w.token)
        for after_s, _lvl in q.spec.relax:
            if w.entered_s + after_s > now:
                self._timer(w.entered_s + after_s, "relax", call.call_id, w.token)

    def accept(self, call_id: str, agent_id: str) -> list[DomainEvent]:
        call = self.call(call_id)
        if call.state is not CallState.RINGING or call.agent_id != agent_id:
            raise Conflict(
                f"call {call_id!r} is not offered to {agent_id!r}", code="not_offered_to_agent"
            )
        now = self.clock.monotonic()
        w = self.waiting.pop(call_id)
        w.token += 1
        call.apply(CallEvent.ANSWER)
        call.answered_s = now
        self._agent_event(self.index.agents[agent_id], AgentEvent.ACCEPT)
        wait = now - w.entered_s
        q = self.queues[w.queue]
        q.counters.answered += 1
        q.counters.wait_sum_s += wait
        if wait <= q.spec.service_level_s:
            q.counters.answered_in_sl += 1
        self._emit(CallAnswered(at_s=now, call_id=call_id, agent_id=agent_id, wait_s=wait))
        return self._drain()

    def decline(self, call_id: str, agent_id: str) -> list[DomainEvent]:
        call = self.call(call_id)
        if call.state is not CallState.RINGING or call.agent_id != agent_id:
            raise Conflict(
                f"call {call_id!r} is not offered to {agent_id!r}", code="not_offered_to_agent"
            )
        agent = self.index.agents[agent_id]
        self.ledger.release(agent_id, call_id)
        self._agent_event(agent, AgentEvent.DECLINE)
        call.apply(CallEvent.DECLINE)
        w = self.waiting[call_id]
        w.declined.add(agent_id)
        self._requeue_head(call, w, exclude=agent_id)
        self._offer_agent(agent)
        return self._drain()

    def hangup(self, call_id: str) -> list[DomainEvent]:
        """Either side hung up. Before an agent answered, that is an abandon."""
        call = self.call(call_id)
        if call.state is CallState.CONNECTED:
            self._end_connected(call)
        elif call.state is CallState.IN_BOT:
            call.apply(CallEvent.HANGUP)
            self._finish(call, EndReason.BOT_COMPLETED)
        else:
            return self.abandon(call_id)
        return self._drain()

    def _end_connected(self, call: Call) -> None:
        now = self.clock.monotonic()
        call.apply(CallEvent.HANGUP)
        agent_id = call.agent_id
        assert agent_id is not None
        agent = self.index.agents[agent_id]
        self.ledger.release(agent_id, call.call_id)
        q = self.queues.get(call.queue or "")
        wrap_s = q.spec.wrap_up_s if q is not None else 0.0
        if q is not None and call.answered_s is not None:
            q.stats.add_handle(now - call.answered_s + wrap_s)
        self._agent_event(agent, AgentEvent.HANGUP)
        self._wrap_call[agent_id] = call.call_id
        self._timer(now + wrap_s, "wrap", agent_id, self._agent_epoch[agent_id])
        self._finish(call, EndReason.ANSWERED)

    def abandon(self, call_id: str) -> list[DomainEvent]:
        call = self.call(call_id)
        if call.state is CallState.CONNECTED:
            raise Conflict("a connected call is hung up, not abandoned", code="call_connected")
        w = self.waiting.get(call_id)
        agent: Agent | None = None
        if call.state is CallState.RINGING and call.agent_id is not None:
            agent = self.index.agents[call.agent_id]
            self.ledger.release(agent.agent_id, call_id)
            self._agent_event(agent, AgentEvent.DECLINE)
        if w is not None:
            self._unqueue(call_id)
            self.queues[w.queue].counters.abandoned += 1
        call.apply(CallEvent.ABANDON)
        self._finish(call, EndReason.ABANDONED)
        if agent is not None:
            self._offer_agent(agent)
        return self._drain()

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

    def finish_wrap_up(self, agent_id: str) -> list[DomainEvent]:
        """The agent filed its disposition: ready again if still wrapping up."""
        agent = self.get_agent(agent_id)
        if agent.state is AgentState.WRAP_UP:
            self._agent_event(agent, AgentEvent.READY)
            self._wrap_call.pop(agent_id, None)
            self._offer_agent(agent)
        return self._drain()

    def transfer(
        self, call_id: str, *, queue: str | None = None, agent_id: str | None = None
    ) -> list[DomainEvent]:
        call = self.call(call_id)
        if call.state is not CallState.CONNECTED:
            raise Conflict("only a connected call can be transferred", code="call_not_connected")
        if (queue is None) == (agent_id is None):
            raise ValidationError("give exactly one of queue or agent_id", field="queue")
        target = queue if queue is not None else f"agent:{agent_id}"
        if agent_id is not None:
            self.get_agent(agent_id)
        self.queue(target)
        old = call.agent_id
        assert old is not None
        self.ledger.release(old, call_id)
        self._agent_event(self.index.agents[old], AgentEvent.HANGUP)
        self._wrap_call[old] = call_id
        q_old = self.queues.get(call.queue or "")
        wrap_s = q_old.spec.wrap_up_s if q_old is not None else 0.0
        self._timer(self.clock.monotonic() + wrap_s, "wrap", old, self._agent_epoch[old])
        call.agent_id = None
        self._enqueue(call, target, call.priority, CallEvent.TRANSFER)
        return self._drain()

    def request_callback(
        self, call_id: str, phone: str | None = None
    ) -> tuple[Call, list[DomainEvent]]:
        """End the waiting call; a callback item takes its place in the queue."""
        call = self.call(call_id)
        if call.state is not CallState.QUEUED or call_id not in self.waiting:
            raise Conflict("only a waiting call can ask for a callback", code="call_not_queued")
        w = self._unqueue(call_id)
        call.apply(CallEvent.CALLBACK)
        self._finish(call, EndReason.CALLBACK)
        cb = Call(
            call_id=f"{call_id}-cb",
            direction=CallDirection.OUTBOUND,
            caller=phone or call.caller,
            customer_id=call.customer_id,
            reason=call.reason,
            priority=call.priority,
            rule=call.rule,
            routing_reason=call.routing_reason,
            arrived_s=call.arrived_s,
            queued_s=call.queued_s,
            started_at=call.started_at,
            context={**call.context, "callback_for": call_id},
        )
        cb.state = CallState.QUEUED
        cb.queue = w.queue
        self.calls[cb.call_id] = cb
        nw = Waiting(cb.call_id, w.queue, w.key, w.seq, w.entered_s, w.queue_entered_s)
        nw.predicted_wait_s = w.predicted_wait_s
        nw.declined = set(w.declined)
        nw.entry = self.queues[w.queue].push(w.key, w.seq, cb.call_id)
        self.waiting[cb.call_id] = nw
        self._emit(
            CallbackRequested(
                at_s=self.clock.monotonic(), call_id=cb.call_id, queue=w.queue, phone=cb.caller
            )
        )
        self._arm_waiting_timers(nw)
        self._try_match(cb.call_id)
        return cb, self._drain()

    # ------------------------------------------------------------------ matching
    def _offer_agent(self, agent: Agent) -> None:
        """An agent became available: its held calls first, then the best queue head.

        In each queue the agent serves, the first call (in service order) that it has not
        declined is a candidate if the agent's level meets that call's current minimum; the
        best-ranked candidate across queues is offered.
        """
        if agent.state is not AgentState.AVAILABLE:
            return
        agent_id = agent.agent_id
        pins = self._pinned.get(agent_id)
        if pins:
            call_id = pins[0]
            self._reserve(self.calls[call_id], self.waiting[call_id], agent_id)
            return
        now = self.clock.monotonic()
        best: tuple[Entry, SkillQueue] | None = None
        for skill, level in self.index.skills_of[agent_id].items():
            for q in self._queues_by_skill.get(skill, ()):
                for entry in q.from_head(DECLINE_LOOKAHEAD):
                    w = self.waiting[entry[2]]
                    if agent_id in w.declined:
                        continue
                    if level >= q.spec.min_proficiency_at(now - w.entered_s) and (
                        best is None or entry > best[0]
                    ):
                        best = (entry, q)
                    break
        if best is not None:
            call_id = best[0][2]
            self._reserve(self.calls[call_id], self.waiting[call_id], agent_id)

    def _try_match(self, call_id: str) -> None:
        w = self.waiting.get(call_id)
        call = self.calls.get(call_id)
        if w is None or call is None or w.entry is None:
            return
        q = self.queues[w.queue]
        level = q.spec.min_proficiency_at(self.clock.monotonic() - w.entered_s)
        exclude = next(iter(w.declined)) if len(w.declined) == 1 else None
        agent_id = self.selector.pick(
            self.index, q.spec.required_skill, level, preferred=w.preferred, exclude=exclude
        )
        if agent_id is not None and agent_id not in w.declined:
            self._reserve(call, w, agent_id)

    def _overflow(self, call: Call, w: Waiting) -> None:
        spec = self.queues[w.queue].spec
        target = spec.overflow_to
        assert target is not None
        self._unqueue(call.call_id)
        self.queues[w.queue].counters.overflowed += 1
        self._emit(
            CallOverflowed(
                at_s=self.clock.monotonic(),
                call_id=call.call_id,
                from_queue=w.queue,
                to_queue=target,
            )
        )
        if target == VOICEMAIL:
            call.apply(CallEvent.VOICEMAIL)
            self._finish(call, EndReason.VOICEMAIL)
            return
        call.apply(CallEvent.OVERFLOW)
        self._enqueue(call, target, call.priority, None, entered_s=w.entered_s, hops=w.hops + 1)

    # ------------------------------------------------------------------ timers
    def _timer(self, due_s: float, kind: str, subject: str, token: int) -> None:
        heapq.heappush(self._timers, (due_s, next(self._seq), kind, subject, token))

    def next_timer_s(self) -> float | None:
        return self._timers[0][0] if self._timers else None

    def run_due(self) -> list[DomainEvent]:
        """Fire every timer due at the clock's current time."""
        now = self.clock.monotonic()
        while self._timers and self._timers[0][0] <= now:
            _due, _seq, kind, subject, token = heapq.heappop(self._timers)
            if kind == "wrap":
                agent = self.index.agents.get(subject)
                if (
                    agent is not None
                    and agent.state is AgentState.WRAP_UP
                    and self._agent_epoch.get(subject) == token
                ):
                    self._agent_event(agent, AgentEvent.READY)
                    self._wrap_call.pop(subject, None)
                    self._offer_agent(agent)
                continue
            w = self.waiting.get(subject)
            if w is None or w.token != token:
                continue  # stale: the call moved on since the timer was set
            call = self.calls[subject]
            if kind == "reservation" and call.state is CallState.RINGING:
                agent = self.index.agents[call.agent_id or ""]
                self._emit(ReservationTimedOut(at_s=now, call_id=subject, agent_id=agent.agent_id))
                self.ledger.release(agent.agent_id, subject)
                self._agent_event(agent, AgentEvent.TIMEOUT)
                call.apply(CallEvent.TIMEOUT)
                self._requeue_head(call, w, exclude=agent.agent_id)
            elif kind == "overflow" and w.entry is not None:
                self._overflow(call, w)
            elif kind == "relax":
                self._try_match(subject)
            elif kind == "pin" and w.pinned_to is not None:
                pins = self._pinned.get(w.pinned_to, [])
                if subject in pins:
                    pins.remove(subject)
                w.pinned_to = None
                q = self.queues[w.queue]
                w.entry = q.push(w.key, w.seq, subject)
                w.token += 1
                self._try_match(subject)
                if w.entry is not None:
                    self._arm_waiting_timers(w)
        return self._drain()

    def _arm_waiting_timers(self, w: Waiting) -> None:
        spec = self.queues[w.queue].spec
        now = self.clock.monotonic()
        if spec.overflow_after_s is not None and spec.overflow_to and w.hops < MAX_OVERFLOW_HOPS:
            self._timer(
                max(now, w.queue_entered_s + spec.overflow_after_s), "overflow", w.call_id, w.token
            )
        for after_s, _lvl in spec.relax:
            if w.entered_s + after_s > now:
                self._timer(w.entered_s + after_s, "relax", w.call_id, w.token)

    # ------------------------------------------------------------------ estimates
    def ewt(self, queue: str, position: int) -> float:
        """Estimated wait (s) of the call at 1-based ``position`` of ``queue``."""
        q = self.queues[queue]
        skill = q.spec.required_skill
        free = self.index.available_count(skill, q.spec.floor_proficiency)
        return live_wait_s(position, free, self.index.serving_count(skill), q.stats.aht_s)

    def ewt_erlang(self, queue: str) -> float:
        q = self.queues[queue]
        now = self.clock.monotonic()
        c = self.index.serving_count(q.spec.required_skill)
        return erlang_c_wait_s(c, q.stats.arrival_rate(now), q.stats.aht_s)

    def position(self, call_id: str) -> tuple[int, float]:
        w = self.waiting.get(call_id)
        if w is None:
            raise Conflict(f"call {call_id!r} is not waiting", code="call_not_queued")
        if w.entry is None:
            return (0 if w.pinned_to is None else 1), 0.0
        pos = self.queues[w.queue].position(w.entry)
        return pos, self.ewt(w.queue, pos)

    def queue_snapshot(self, name: str) -> QueueSnapshot:
        q = self.queues[name]
        now = self.clock.monotonic()
        longest = max((now - self.waiting[cid].entered_s for cid in q.call_ids()), default=0.0)
        by_state: dict[str, int] = {}
        for agent_id in self.index.members.get(q.spec.required_skill, ()):
            st = self.index.agents[agent_id].state.value
            by_state[st] = by_state.get(st, 0) + 1
        c = q.counters
        return QueueSnapshot(
            queue=name,
            waiting=len(q),
            longest_wait_s=round(longest, 1),
            ewt_s=round(self.ewt(name, len(q) + 1), 1),
            agents_by_state=by_state,
            answered=c.answered,
            abandoned=c.abandoned,
            service_level=round(c.service_level, 4),
            abandon_rate=round(c.abandon_rate, 4),
        )

    def agent_snapshot(self, agent_id: str, wall_since: Any) -> AgentSnapshot:
        a = self.get_agent(agent_id)
        call_id = self.ledger.holder(agent_id) or self._wrap_call.get(agent_id)
        return AgentSnapshot(
            agent_id=a.agent_id,
            name=a.name,
            state=a.state,
            state_since=wall_since,
            skills=dict(a.skills),
            team=a.team,
            call_id=call_id,
        )

    # ------------------------------------------------------------------ checks
    def check_invariants(self) -> None:
        """Raise AssertionError if the engine's state is inconsistent (tests, fuzzing)."""
        holders: dict[str, str] = {}
        for call in self.calls.values():
            if call.state in (CallState.RINGING, CallState.CONNECTED):
                assert call.agent_id is not None, call
                assert call.agent_id not in holders, f"agent {call.agent_id} holds two calls"
                holders[call.agent_id] = call.call_id
                assert self.ledger.holder(call.agent_id) == call.call_id
        for agent in self.index.agents.values():
            busy = agent.state in (AgentState.RESERVED, AgentState.ON_CALL)
            assert busy == (agent.agent_id in holders), (agent, holders.get(agent.agent_id))
        queued = 0
        for q in self.queues.values():
            ids = q.call_ids()
            assert len(ids) == len(set(ids))
            for cid in ids:
                assert self.calls[cid].state is CallState.QUEUED
                assert self.waiting[cid].queue == q.name
            queued += len(ids)
        pinned = sum(len(v) for v in self._pinned.values())
        n_queued = sum(1 for c in self.calls.values() if c.state is CallState.QUEUED)
        assert n_queued == queued + pinned, (n_queued, queued, pinned)

    def _emit(self, event: DomainEvent) -> None:
        self._out.append(event)

    def _drain(self) -> list[DomainEvent]:
        out, self._out = self._out, []
        return out
