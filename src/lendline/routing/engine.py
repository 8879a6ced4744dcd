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

from collections.abc import Mapping
from functools import partial
from typing import Any

from lendline.domain.agent import Agent, AgentEvent, AgentState
from lendline.domain.call import Call, CallDirection, CallEvent, CallState, EndReason
from lendline.domain.events import (
    CallAnswered,
    CallArrived,
    CallbackRequested,
    CallRouted,
)
from lendline.errors import Conflict, NotFound, ValidationError
from lendline.routing.config import RoutingConfig
from lendline.routing.matching import Matching
from lendline.routing.rules import decide
from lendline.routing.state import DECLINE_COOLOFF_S, MAX_OVERFLOW_HOPS, EventBatch, Waiting
from lendline.routing.views import EngineViews

__all__ = ["MAX_OVERFLOW_HOPS", "RoutingEngine", "Waiting"]


class RoutingEngine(Matching, EngineViews):
    """The ACD engine (see the module docstring). Not thread-safe: callers serialise."""

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

    def add_agent(self, agent: Agent) -> None:
        if agent.agent_id in self.index.agents:
            self.index.remove(agent.agent_id)
        self.index.add(agent)
        direct = f"agent:{agent.agent_id}"
        if direct in self.queues:
            self.index.add_skill(agent.agent_id, direct, 10)
        self._agent_epoch.setdefault(agent.agent_id, 0)
        if agent.state is AgentState.AVAILABLE:
            self._offer_agent(agent)

    def set_agent_state(self, agent_id: str, state: AgentState) -> EventBatch:
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

    def arrive(self, call: Call, env: Mapping[str, Any]) -> EventBatch:
        """A new call: record it, run the rules and act on the decision."""
        if call.call_id in self.calls:
            raise Conflict(f"call {call.call_id!r} exists", code="call_exists")
        now = self.clock.monotonic()
        call.arrived_s = now
        self.calls[call.call_id] = call
        self._emit(
            partial(
                CallArrived, at_s=now, call_id=call.call_id, caller="", customer_id=call.customer_id
            )
        )
        call.apply(CallEvent.ROUTE)
        d = decide(self.config, env)
        self.decisions_made += 1
        self.decisions[call.call_id] = d
        call.rule, call.routing_reason, call.priority = d.rule, d.reason, d.priority
        self._emit(
            partial(
                CallRouted,
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
    ) -> EventBatch:
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

    def accept(self, call_id: str, agent_id: str) -> EventBatch:
        call = self.call(call_id)
        if call.state is not CallState.RINGING or call.agent_id != agent_id:
            raise Conflict(
                f"call {call_id!r} is not offered to {agent_id!r}", code="not_offered_to_agent"
            )
        now = self.clock.monotonic()
        w = self.waiting.pop(call_id)
        w.token = next(self._seq)
        call.apply(CallEvent.ANSWER)
        call.answered_s = now
        self._agent_event(self.index.agents[agent_id], AgentEvent.ACCEPT)
        wait = now - w.entered_s
        q = self.queues[w.queue]
        q.counters.answered += 1
        q.counters.wait_sum_s += wait
        if wait <= q.spec.service_level_s:
            q.counters.answered_in_sl += 1
        if w.model_wait_s is not None:  # it waited in this queue: teach its EWT
            q.calibration.add(w.model_wait_s, now - w.queue_entered_s)
        self._emit(partial(CallAnswered, at_s=now, call_id=call_id, agent_id=agent_id, wait_s=wait))
        return self._drain()

    def decline(self, call_id: str, agent_id: str) -> EventBatch:
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
        until = self.clock.monotonic() + DECLINE_COOLOFF_S
        w.declined[agent_id] = until
        self._requeue_head(call, w, exclude=agent_id)
        self._timer(until, "undecline", call_id, 0)
        self._offer_agent(agent)
        return self._drain()

    def hangup(self, call_id: str) -> EventBatch:
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
        self._finish(call, EndReason.ANSWERED)
        if wrap_s > 0:
            self._timer(now + wrap_s, "wrap", agent_id, self._agent_epoch[agent_id])
        else:  # no after-call work: ready at once
            self._agent_event(agent, AgentEvent.READY)
            self._wrap_call.pop(agent_id, None)
            self._offer_agent(agent)

    def abandon(self, call_id: str, *, interrupted: bool = False) -> EventBatch:
        """The caller is gone before talking to an agent. ``interrupted``: lendline cut
        the call (a node stopping), not the caller: ended ``interrupted`` and not counted
        in the queue's abandonment."""
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
            if not interrupted:
                self.queues[w.queue].counters.abandoned += 1
        call.apply(CallEvent.ABANDON)
        self._finish(call, EndReason.INTERRUPTED if interrupted else EndReason.ABANDONED)
        if agent is not None:
            self._offer_agent(agent)
        return self._drain()

    def finish_wrap_up(self, agent_id: str) -> EventBatch:
        """The agent filed its disposition: ready again if still wrapping up."""
        agent = self.get_agent(agent_id)
        if agent.state is AgentState.WRAP_UP:
            self._agent_event(agent, AgentEvent.READY)
            self._wrap_call.pop(agent_id, None)
            self._offer_agent(agent)
        return self._drain()

    def transfer(
        self, call_id: str, *, queue: str | None = None, agent_id: str | None = None
    ) -> EventBatch:
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

    def request_callback(self, call_id: str, phone: str | None = None) -> tuple[Call, EventBatch]:
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
        nw.token = next(self._seq)
        nw.predicted_wait_s = w.predicted_wait_s
        nw.declined = dict(w.declined)
        nw.entry = self.queues[w.queue].push(w.key, w.seq, cb.call_id)
        self.waiting[cb.call_id] = nw
        self._emit(
            partial(
                CallbackRequested,
                at_s=self.clock.monotonic(),
                call_id=cb.call_id,
                queue=w.queue,
                phone=cb.caller,
            )
        )
        self._arm_waiting_timers(nw)
        self._try_match(cb.call_id)
        return cb, self._drain()
