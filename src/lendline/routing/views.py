"""Read-only views of the engine: estimated waits, positions, snapshots, invariants."""

from __future__ import annotations

from typing import Any

from lendline.calls.api import AgentSnapshot, QueueSnapshot
from lendline.domain.agent import AgentState
from lendline.domain.call import CallState
from lendline.errors import Conflict
from lendline.routing.ewt import erlang_c_wait_s
from lendline.routing.state import EngineState


class EngineViews(EngineState):
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
