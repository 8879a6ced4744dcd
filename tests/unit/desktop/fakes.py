"""Small working fakes for the desktop unit tests (never MagicMock).

``FakeCallCenter`` is an in-memory CallCenter: one FIFO queue per name, the first
available agent is reserved at once, and every change is published on the bus like the
real one does. ``FakeCustomers``/``FakeLoans``/``FakeRisk`` stand in for the lender's
systems with an optional delay or failure per call.
"""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, date, datetime
from typing import Any

from lendline.bus import InProcessBus
from lendline.calls.api import AgentSnapshot, QueueSnapshot
from lendline.domain.agent import AgentState
from lendline.domain.call import Call, CallEvent, CallState, Disposition
from lendline.domain.events import (
    AgentReserved,
    AgentStateChanged,
    CallAnswered,
    CallEnded,
    CallQueued,
)
from lendline.errors import NotFound, UpstreamError
from lendline.integration.api import (
    Contact,
    CustomerProfile,
    Loan,
    Repayment,
    RiskFlagEntry,
    RiskReport,
)


class FakeCallCenter:
    def __init__(self, bus: InProcessBus, agents: list[str], queue: str = "general") -> None:
        self.bus = bus
        self.queue = queue
        self.calls: dict[str, Call] = {}
        self.states = {a: AgentState.OFFLINE for a in agents}
        self.agent_call: dict[str, str | None] = dict.fromkeys(agents)
        self.waiting: list[str] = []
        self._ids = itertools.count(1)

    def inbound_call(self, *, caller: str = "", customer_id: str | None = None, **kw: Any) -> Call:
        call = Call(
            call_id=kw.get("call_id") or f"call-{next(self._ids)}",
            caller=caller,
            customer_id=customer_id,
            rule=kw.get("rule", "overdue_to_collections"),
            routing_reason=kw.get("routing_reason", "逾期客户 → 催收队列"),
            context=dict(kw.get("context") or {}),
        )
        call.apply(CallEvent.ROUTE)
        call.apply(CallEvent.ENQUEUE)
        call.queue = self.queue
        self.calls[call.call_id] = call
        self.waiting.append(call.call_id)
        self.bus.publish(CallQueued(call_id=call.call_id, queue=self.queue, position=1))
        self._dispatch()
        return call

    def _dispatch(self) -> None:
        while self.waiting:
            free = [a for a, s in self.states.items() if s is AgentState.AVAILABLE]
            if not free:
                return
            call = self.calls[self.waiting.pop(0)]
            agent = free[0]
            call.apply(CallEvent.RESERVE)
            call.agent_id = agent
            self.agent_call[agent] = call.call_id
            self._set(agent, AgentState.RESERVED)
            self.bus.publish(
                AgentReserved(
                    call_id=call.call_id,
                    agent_id=agent,
                    queue=self.queue,
                    customer_id=call.customer_id,
                    timeout_s=15.0,
                )
            )

    def _set(self, agent: str, state: AgentState) -> None:
        old = self.states[agent]
        self.states[agent] = state
        self.bus.publish(AgentStateChanged(agent_id=agent, old=str(old), new=str(state)))

    def get_call(self, call_id: str) -> Call:
        try:
            return self.calls[call_id]
        except KeyError:
            raise NotFound(f"no call {call_id!r}", code="call_not_found") from None

    def accept(self, call_id: str, agent_id: str) -> Call:
        call = self.get_call(call_id)
        call.apply(CallEvent.ANSWER)
        self._set(agent_id, AgentState.ON_CALL)
        self.bus.publish(CallAnswered(call_id=call_id, agent_id=agent_id, wait_s=1.0))
        return call

    def decline(self, call_id: str, agent_id: str) -> Call:
        call = self.get_call(call_id)
        call.apply(CallEvent.DECLINE)
        call.agent_id = None
        self.agent_call[agent_id] = None
        self._set(agent_id, AgentState.AVAILABLE)
        self.waiting.insert(0, call_id)
        return call

    def hangup(self, call_id: str) -> Call:
        call = self.get_call(call_id)
        call.apply(CallEvent.HANGUP)
        if call.agent_id:
            self._set(call.agent_id, AgentState.WRAP_UP)
        self.bus.publish(CallEnded(call_id=call_id, reason="answered", agent_id=call.agent_id))
        return call

    def transfer(
        self, call_id: str, *, queue: str | None = None, agent_id: str | None = None
    ) -> Call:
        call = self.get_call(call_id)
        call.apply(CallEvent.TRANSFER)
        return call

    def set_disposition(
        self, call_id: str, agent_id: str, code: str, note: str = "", resolved: bool = True
    ) -> Call:
        call = self.get_call(call_id)
        call.disposition = Disposition(code, note, resolved)
        return call

    def set_agent_state(self, agent_id: str, state: AgentState) -> AgentSnapshot:
        self._set(agent_id, state)
        if state is AgentState.AVAILABLE:
            self.agent_call[agent_id] = None
            self._dispatch()
        return self.agent(agent_id)

    def agent(self, agent_id: str) -> AgentSnapshot:
        if agent_id not in self.states:
            raise NotFound(agent_id)
        return AgentSnapshot(
            agent_id,
            agent_id,
            self.states[agent_id],
            datetime(2026, 11, 27, tzinfo=UTC),
            call_id=self.agent_call[agent_id],
        )

    def agents(self) -> list[AgentSnapshot]:
        return [self.agent(a) for a in self.states]

    def queues(self) -> list[QueueSnapshot]:
        by_state: dict[str, int] = {}
        for s in self.states.values():
            by_state[str(s)] = by_state.get(str(s), 0) + 1
        answered = sum(1 for c in self.calls.values() if c.state is CallState.CONNECTED)
        return [QueueSnapshot(self.queue, len(self.waiting), 0.0, 0.0, by_state, answered)]


class Behaviour:
    """How a fake lender system answers: after ``delay_s``, or by raising ``fail``."""

    def __init__(self, delay_s: float = 0.0, fail: Exception | None = None) -> None:
        self.delay_s = delay_s
        self.fail = fail
        self.calls = 0
        self.finished = 0  # calls that got to the end of their delay

    async def __call__(self) -> None:
        self.calls += 1
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        self.finished += 1
        if self.fail is not None:
            raise self.fail


CUSTOMER = CustomerProfile(
    customer_id="C000001",
    name="张三丰",
    phone="+8613812345678",
    id_number="11010519491231002X",
    segment="retail",
    credit_score=612,
)


class FakeCustomers:
    def __init__(self, b: Behaviour | None = None) -> None:
        self.b = b or Behaviour()

    async def profile(self, customer_id: str) -> CustomerProfile:
        await self.b()
        if customer_id != CUSTOMER.customer_id:
            raise NotFound(customer_id, code="customer_not_found")
        return CUSTOMER

    async def contacts(self, customer_id: str, limit: int = 5) -> list[Contact]:
        await self.b()
        return [
            Contact(
                at=datetime(2026, 11, 20, tzinfo=UTC),
                channel="call",
                summary="询问还款日期 13812345678",
            )
        ]


class FakeLoans:
    def __init__(self, b: Behaviour | None = None) -> None:
        self.b = b or Behaviour()

    async def loans(self, customer_id: str) -> list[Loan]:
        await self.b()
        return [
            Loan(
                loan_id="L1",
                product="consumer",
                principal_fen=5_000_000,
                status="overdue",
                overdue_days=12,
            ),
            Loan(loan_id="L2", product="car", principal_fen=12_000_000, status="reviewing"),
        ]

    async def repayments(self, customer_id: str, limit: int = 12) -> list[Repayment]:
        await self.b()
        return [
            Repayment(
                loan_id="L1", due_date=date(2026, 11, 15), amount_fen=450_000, status="missed"
            )
        ]


class FakeRisk:
    def __init__(self, b: Behaviour | None = None) -> None:
        self.b = b or Behaviour()

    async def risk(self, customer_id: str) -> RiskReport:
        await self.b()
        return RiskReport(
            customer_id=customer_id,
            flags=[RiskFlagEntry(flag="multi_borrowing"), RiskFlagEntry(flag="fraud_suspected")],
        )


def dead() -> Behaviour:
    return Behaviour(fail=UpstreamError("down", code="upstream_unavailable"))
