"""Two nodes share agents through the Redis ledger: no agent is offered two calls."""

from __future__ import annotations

import uuid

import pytest
import redis

from lendline.calls.redis_ledger import RedisLedger
from lendline.domain.agent import Agent, AgentState
from lendline.domain.call import Call, CallState
from tests.unit.routing.helpers import make_engine


@pytest.fixture
def client() -> redis.Redis:
    c = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    c.ping()
    return c


def test_two_nodes_never_offer_one_agent_twice(client: redis.Redis) -> None:
    prefix = f"lendline:test:{uuid.uuid4().hex}:"
    ledger_a = RedisLedger(client, prefix=prefix)
    ledger_b = RedisLedger(client, prefix=prefix)
    nodes = []
    for ledger in (ledger_a, ledger_b):
        engine, _clock = make_engine()
        engine.ledger = ledger
        for i in range(5):
            engine.add_agent(Agent(agent_id=f"a{i}", name="", skills={"general": 5}))
            engine.set_agent_state(f"a{i}", AgentState.AVAILABLE)
        nodes.append(engine)
    try:
        calls = []
        for n in range(12):  # calls land alternately on the two nodes
            engine = nodes[n % 2]
            call = Call(call_id=f"n{n % 2}-c{n}")
            engine.arrive(call, {"reason": ""})
            calls.append((engine, call))
        offered = [(c.agent_id, c.call_id) for _e, c in calls if c.state is CallState.RINGING]
        agents = [a for a, _c in offered]
        assert len(agents) == len(set(agents)) == 5  # each agent exactly once, across nodes
        for agent_id, call_id in offered:
            assert ledger_a.holder(agent_id or "") == call_id
        for engine, call in calls:  # the others wait in their node's queue: none lost
            if call.state is not CallState.RINGING:
                assert call.state is CallState.QUEUED
                assert call.call_id in engine.queues["general"].call_ids()
        # a release by a call that no longer holds the agent changes nothing
        agent_id, call_id = offered[0]
        ledger_b.release(agent_id or "", "someone-else")
        assert ledger_a.holder(agent_id or "") == call_id
        owner = next(e for e, c in calls if c.call_id == call_id)
        owner.accept(call_id, agent_id or "")
        owner.hangup(call_id)
        assert ledger_a.holder(agent_id or "") is None
    finally:
        ledger_a.clear([f"a{i}" for i in range(5)])
