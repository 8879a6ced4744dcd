"""The CallCenter service against a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from lendline.app import Container, build_container
from lendline.calls.service import EngineCallCenter
from lendline.clock import ManualClock
from lendline.demo.seed import seed_demo_data
from lendline.domain.agent import AgentState
from lendline.domain.call import CallState, EndReason
from lendline.domain.events import AgentReserved, CallEnded, DomainEvent
from lendline.errors import Conflict, NotFound, ValidationError
from lendline.store.models import CallRow, CustomerRow
from tests.conftest import make_settings


@pytest.fixture
def container(tmp_path: Path, database_url: str) -> Container:
    c = build_container(make_settings(tmp_path, database_url), clock=ManualClock())
    seed_demo_data(c)
    return c


def test_call_flows_through_engine_bus_and_store(container: Container) -> None:
    center: EngineCallCenter = container.services["call_center"]
    seen: list[DomainEvent] = []
    container.bus.subscribe(seen.append)
    assert len(center.agents()) == 30
    center.set_agent_state("agent26", AgentState.AVAILABLE)  # a 'general' agent
    with container.db.session() as s:
        cust = s.scalars(
            select(CustomerRow)
            .where(CustomerRow.overdue_days == 0, CustomerRow.loan_amount_fen <= 10_000_000)
            .order_by(CustomerRow.customer_id)
        ).first()
        assert cust is not None
        customer_id = cust.customer_id
    call = center.inbound_call(customer_id=customer_id, reason="other")
    decision = center.decision(call.call_id)
    assert (decision.target_kind, decision.target, decision.rule) == ("queue", "general", None)
    reserved = [e for e in seen if isinstance(e, AgentReserved)]
    assert [e.call_id for e in reserved] == [call.call_id]
    agent_id = reserved[0].agent_id
    assert agent_id == "agent26"
    assert center.agent(agent_id).state is AgentState.RESERVED
    assert center.agent(agent_id).call_id == call.call_id
    center.accept(call.call_id, agent_id)
    assert call.state is CallState.CONNECTED
    center.hangup(call.call_id)
    assert call.end_reason is EndReason.ANSWERED
    assert center.agent(agent_id).state is AgentState.WRAP_UP
    center.set_disposition(call.call_id, agent_id, "resolved", note="ok")
    assert center.agent(agent_id).state is AgentState.AVAILABLE
    assert any(isinstance(e, CallEnded) for e in seen)
    assert center.flush() >= 1
    with container.db.session() as s:
        row = s.get(CallRow, call.call_id)
        assert row is not None and row.rule == decision.rule and row.customer_id == customer_id
        assert row.state == "ended" and row.disposition_code == "resolved"
        assert row.wait_s is not None and row.agent_id == agent_id
        cust_row = s.get(CustomerRow, customer_id)
        assert cust_row is not None and cust_row.last_agent_id == agent_id


def test_bad_requests_are_named_errors(container: Container) -> None:
    center: EngineCallCenter = container.services["call_center"]
    with pytest.raises(ValidationError) as e:
        center.inbound_call(customer_id="nobody")
    assert e.value.field == "customer_id"
    with pytest.raises(NotFound):
        center.set_agent_state("agent99", AgentState.AVAILABLE)
    with pytest.raises(NotFound):
        center.get_call("nope")
    call = center.inbound_call(caller="+8613800000000", reason="product")
    with pytest.raises(Conflict):
        center.accept(call.call_id, "agent01")
    center.abandon(call.call_id)
    assert call.end_reason is EndReason.ABANDONED
    center.flush()
    assert center.get_call(call.call_id).state is CallState.ENDED


def test_concurrent_threads_keep_the_invariants(container: Container) -> None:
    """HTTP handlers run in a thread pool: many threads at once, one consistent engine."""
    from concurrent.futures import ThreadPoolExecutor

    center: EngineCallCenter = container.services["call_center"]
    for a in center.agents():
        center.set_agent_state(a.agent_id, AgentState.AVAILABLE)
    reserved: list[AgentReserved] = []
    container.bus.subscribe(lambda e: reserved.append(e), AgentReserved)  # type: ignore[arg-type,func-returns-value]

    def work(n: int) -> None:
        for i in range(25):
            call = center.inbound_call(caller=f"+86139{n:02d}{i:06d}", reason="other")
            if call.state is CallState.RINGING and call.agent_id:
                center.accept(call.call_id, call.agent_id)
                center.hangup(call.call_id)
            else:
                center.abandon(call.call_id)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(work, range(8)))
    center.engine.check_invariants()
    assert center.engine.calls == {}  # every call ended
    assert len(center._calls) == 200
    assert center.flush() == 200
