"""Two nodes on one Redis: events published on one reach the other's handlers."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import redis

from lendline.bus.redis_streams import RedisStreamsBus
from lendline.domain.events import AgentReserved, DomainEvent

REDIS_URL = "redis://127.0.0.1:6379/0"
pytestmark = pytest.mark.redis


@pytest.fixture
def stream() -> str:
    name = f"lendline:test:{uuid.uuid4().hex}"
    yield name
    redis.Redis.from_url(REDIS_URL).delete(name)


async def test_events_cross_nodes_once_and_in_order(stream: str) -> None:
    a = RedisStreamsBus(REDIS_URL, node_id="a", stream=stream)
    b = RedisStreamsBus(REDIS_URL, node_id="b", stream=stream)
    seen_a: list[DomainEvent] = []
    seen_b: list[DomainEvent] = []
    a.subscribe(seen_a.append)
    b.subscribe(seen_b.append)
    await a.start()
    await b.start()
    try:
        for i in range(20):
            a.publish(AgentReserved(at_s=float(i), call_id=f"c{i}", agent_id="agent01"))
        b.publish(AgentReserved(call_id="from-b", agent_id="agent02"))
        for _ in range(100):
            if len(seen_b) >= 21 and len(seen_a) >= 21:
                break
            await asyncio.sleep(0.02)
    finally:
        await a.stop()
        await b.stop()
    # each node sees its own events once (locally) and the other's once (from the stream)
    remote_on_b = [e.call_id for e in seen_b if isinstance(e, AgentReserved)]
    assert [c for c in remote_on_b if c != "from-b"] == [f"c{i}" for i in range(20)]
    assert len(seen_b) == 21 and len(seen_a) == 21
    assert all(isinstance(e, AgentReserved) for e in seen_a + seen_b)
    assert a.received == 1 and b.received == 20


async def test_undecodable_entries_are_skipped(stream: str) -> None:
    b = RedisStreamsBus(REDIS_URL, node_id="b", stream=stream)
    got: list[DomainEvent] = []
    b.subscribe(got.append)
    await b.start()
    try:
        raw = redis.Redis.from_url(REDIS_URL)
        raw.xadd(stream, {"node": "x", "data": "{not json"})
        raw.xadd(stream, {"node": "x", "data": '{"event": "no.such.event"}'})
        RedisStreamsBus(REDIS_URL, node_id="c", stream=stream).publish(
            AgentReserved(call_id="ok", agent_id="agent03")
        )
        for _ in range(100):
            if got:
                break
            await asyncio.sleep(0.02)
    finally:
        await b.stop()
    assert [getattr(e, "call_id", None) for e in got] == ["ok"]
