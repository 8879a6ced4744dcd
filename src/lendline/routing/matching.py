"""Matching calls and agents: queueing a call, offering it, the head of each queue, timers.

Part of the engine (see routing/engine.py): a call is offered to its customer's last agent
(sticky), else to an agent free now (the selector), else waits in its skill queue, ranked
by aging priority; an agent who becomes free takes the best-ranked call it qualifies for
across its queues. Timers: reservation timeout, overflow, proficiency relaxation, sticky
hold, wrap-up.
"""

from __future__ import annotations

import heapq
from functools import partial

from lendline.domain.agent import Agent, AgentEvent, AgentState
from lendline.domain.call import Call, CallEvent, CallState, EndReason
from lendline.domain.events import (
    AgentReserved,
    CallOverflowed,
    CallQueued,
    ReservationTimedOut,
)
from lendline.routing.config import VOICEMAIL
from lendline.routing.queue import Entry, SkillQueue
from lendline.routing.state import (
    DECLINE_LOOKAHEAD,
    MAX_OVERFLOW_HOPS,
    EngineState,
    EventBatch,
    Waiting,
)


class Matching(EngineState):
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
        w = Waiting(call.call_id, qname, key, seq, entered, now, preferred, hops=hops, token=seq)
        self.waiting[call.call_id] = w
        q.counters.offered += 1
        q.stats.add_arrival(now)
        skill = q.spec.required_skill
        level = q.min_level_at(now - entered)
        # 1. sticky: the customer's last agent, now or (held) within sticky_wait_s
        hold_s = self.selector.sticky_wait_s
        if preferred and hold_s > 0 and self.index.level(preferred, skill) > 0:
            agent = self.index.agents.get(preferred)
            if agent is not None and agent.state is AgentState.AVAILABLE:
                self._emit_queued(call, w, 0, 0.0)
                if self._reserve(call, w, preferred):
                    return
            elif agent is not None and agent.state in (
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
            if self._reserve(call, w, agent_id):
                return
        # 3. wait: maybe overflow at once when the wait is too long
        at = q.insertion_index(key, seq)  # one bisect for the position and the insert
        position = len(q) - at + 1
        model = self._model_wait(q, position, now - entered)
        ewt = q.calibration.estimate(model)
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
        w.entry = q.insert_at(at, key, seq, call.call_id)
        w.model_wait_s = model
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
            partial(
                CallQueued,
                at_s=self.clock.monotonic(),
                call_id=call.call_id,
                queue=w.queue,
                position=position,
                ewt_s=round(ewt, 1),
            )
        )

    def _reserve(self, call: Call, w: Waiting, agent_id: str) -> bool:
        """Offer ``call`` to ``agent_id``; False (nothing changed) if the ledger refuses."""
        timeout = self._reservation_timeout(w)
        if not self.ledger.reserve(agent_id, call.call_id, timeout):
            return False  # another node holds the agent; the call stays where it is
        if w.entry is not None:
            self.queues[w.queue].remove(w.entry)
            w.entry = None
        if w.pinned_to is not None:
            pins = self._pinned.get(w.pinned_to, [])
            if call.call_id in pins:
                pins.remove(call.call_id)
            w.pinned_to = None
        self.waiting[call.call_id] = w
        w.token = next(self._seq)
        agent = self.index.agents[agent_id]
        self._agent_event(agent, AgentEvent.RESERVE)
        call.apply(CallEvent.RESERVE)
        call.agent_id = agent_id
        now = self.clock.monotonic()
        self._timer(now + timeout, "reservation", call.call_id, w.token)
        self._emit(
            partial(
                AgentReserved,
                at_s=now,
                call_id=call.call_id,
                agent_id=agent_id,
                queue=w.queue,
                customer_id=call.customer_id,
                timeout_s=timeout,
            )
        )
        return True

    def _requeue_head(self, call: Call, w: Waiting, exclude: str | None) -> None:
        """A declined or missed offer: back to the head of its queue, then try others."""
        q = self.queues[w.queue]
        w.token = next(self._seq)
        call.agent_id = None
        now = self.clock.monotonic()
        level = q.min_level_at(now - w.entered_s)
        agent_id = self.selector.pick(self.index, q.spec.required_skill, level, exclude=exclude)
        if agent_id is not None and agent_id not in w.declined and self._reserve(call, w, agent_id):
            return
        w.entry = q.push_head(w.seq, call.call_id, w.key)
        w.key = -w.entry[0]  # its rank is now the head's
        if q.spec.overflow_after_s is not None and q.spec.overflow_to:
            due = max(now, w.queue_entered_s + q.spec.overflow_after_s)
            self._timer(due, "overflow", call.call_id, w.token)
        for after_s, _lvl in q.spec.relax:
            if w.entered_s + after_s > now:
                self._timer(w.entered_s + after_s, "relax", call.call_id, w.token)

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
        waiting = self.waiting
        for skill, level in self.index.skills_of[agent_id].items():
            for q in self._queues_by_skill.get(skill, ()):
                entry = q.peek()
                if entry is None:
                    continue
                if agent_id in waiting[entry[2]].declined:  # rare: look a little further
                    entry = next(
                        (
                            e
                            for e in q.from_head(DECLINE_LOOKAHEAD)
                            if agent_id not in waiting[e[2]].declined
                        ),
                        None,
                    )
                    if entry is None:
                        continue
                if level >= q.min_level_at(now - waiting[entry[2]].entered_s) and (
                    best is None or entry > best[0]
                ):
                    best = (entry, q)
        if best is not None:
            call_id = best[0][2]
            self._reserve(self.calls[call_id], self.waiting[call_id], agent_id)

    def _try_match(self, call_id: str) -> None:
        w = self.waiting.get(call_id)
        call = self.calls.get(call_id)
        if w is None or call is None or w.entry is None:
            return
        q = self.queues[w.queue]
        level = q.min_level_at(self.clock.monotonic() - w.entered_s)
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
            partial(
                CallOverflowed,
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

    def next_timer_s(self) -> float | None:
        return self._timers[0][0] if self._timers else None

    def run_due(self) -> EventBatch:
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
            if kind == "undecline":
                # a decline's cool-off ended: the agent may be offered the call again
                if w is not None:
                    for agent_id, until in list(w.declined.items()):
                        if until <= now:
                            del w.declined[agent_id]
                    if w.entry is not None:
                        self._try_match(subject)
                continue
            if w is None or w.token != token:
                continue  # stale: the call moved on since the timer was set
            call = self.calls[subject]
            if kind == "reservation" and call.state is CallState.RINGING:
                agent = self.index.agents[call.agent_id or ""]
                self._emit(
                    partial(ReservationTimedOut, at_s=now, call_id=subject, agent_id=agent.agent_id)
                )
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
                w.token = next(self._seq)
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
