"""``EngineCallCenter``: the ``CallCenter`` service around the pure routing engine.

It adds what the engine must not do: a lock (HTTP handlers run in a thread pool, SIP in
the event loop), customer lookup in the store, publishing events on the bus, and call
records written behind (``CallRecordWriter``) so the database is off the routing path.
Ended calls stay readable from memory (the most recent ``keep_ended``), then from the
``calls`` table.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select

from lendline.bus import InProcessBus
from lendline.calls.api import AgentSnapshot, QueueSnapshot, RoutingDecision
from lendline.calls.records import CallRecordWriter, snapshot
from lendline.clock import Clock
from lendline.compliance.fieldcrypt import FieldCipher
from lendline.domain.agent import Agent, AgentState
from lendline.domain.call import DISPOSITION_CODES, Call, CallState, Disposition, EndReason
from lendline.domain.customer import Customer
from lendline.domain.events import AgentStateChanged, CallEnded, CallRouted, DomainEvent
from lendline.domain.identity import normalize_phone
from lendline.errors import Conflict, LendlineError, NotFound, ValidationError
from lendline.routing.agents import AgentSelector
from lendline.routing.config import RoutingConfig
from lendline.routing.engine import RoutingEngine
from lendline.routing.ledger import ReservationLedger
from lendline.routing.rules import time_fields
from lendline.store.base import Database
from lendline.store.customers import CustomerRepository
from lendline.store.models import AgentRow, CallRow


class EngineCallCenter:
    def __init__(
        self,
        *,
        config: RoutingConfig,
        clock: Clock,
        db: Database,
        bus: InProcessBus,
        cipher: FieldCipher,
        selector: AgentSelector | None = None,
        ledger: ReservationLedger | None = None,
        reservation_timeout_s: float = 15.0,
        timezone: str = "Asia/Shanghai",
        node_id: str = "node-1",
        keep_ended: int = 50_000,
    ) -> None:
        self.clock = clock
        self.db = db
        self.bus = bus
        self.cipher = cipher
        self.timezone = timezone
        self.node_id = node_id
        self.engine = RoutingEngine(
            config,
            clock,
            selector=selector,
            ledger=ledger,
            reservation_timeout_s=reservation_timeout_s,
        )
        self.writer = CallRecordWriter(db)
        self._lock = threading.RLock()
        self._calls: OrderedDict[str, Call] = OrderedDict()
        self._decisions: dict[str, RoutingDecision] = {}
        self._agent_since: dict[str, datetime] = {}
        self._keep_ended = keep_ended
        self._ended: deque[str] = deque()
        self._agents_loaded = False

    # ------------------------------------------------------------------ plumbing
    def _publish(self, events: Iterable[DomainEvent], touched: Iterable[Call] = ()) -> None:
        calls = {c.call_id: c for c in touched}
        for ev in events:
            call_id = getattr(ev, "call_id", None)
            if call_id and call_id in self._calls:
                calls[call_id] = self._calls[call_id]
            if isinstance(ev, CallEnded):
                self._ended.append(ev.call_id)
            if isinstance(ev, AgentStateChanged):
                self._agent_since[ev.agent_id] = self.clock.now()
            if isinstance(ev, CallRouted):
                d = self.engine.decisions.get(ev.call_id)
                if d is not None:
                    self._decisions[ev.call_id] = d
        for call in calls.values():
            self.writer.put(snapshot(call, self.cipher, self.node_id))
        for ev in events:
            self.bus.publish(ev)
        self._evict()

    def _evict(self) -> None:
        while len(self._ended) > self._keep_ended:
            old = self._ended.popleft()
            self._calls.pop(old, None)
            self._decisions.pop(old, None)

    def _run(self, op: Callable[[], Sequence[DomainEvent]], *touched: Call) -> None:
        with self._lock:
            self._publish(op(), touched)

    def ensure_agents(self) -> None:
        if not self._agents_loaded:
            self.load_agents()

    def close_interrupted(self) -> list[str]:
        """Close the records this node left open when it last stopped uncleanly.

        Run at start-up, before this node takes calls: a record of this node (``node_id``)
        that never ended belongs to a call whose media died with the process (a crash, a
        kill, a power cut). It is kept and closed as ``ended`` / ``interrupted`` at the
        time of the restart, its talk time left unknown; calls this process carries are
        never touched, nor records of other nodes sharing the database.
        """
        now = self.clock.now()
        closed: list[str] = []
        with self.db.session() as s:
            rows = s.scalars(
                select(CallRow).where(
                    CallRow.node_id == self.node_id,
                    CallRow.ended_at.is_(None),
                )
            ).all()
            for row in rows:
                if row.call_id in self.engine.calls:
                    continue
                row.state = CallState.ENDED.value
                row.ended_at = now
                row.end_reason = EndReason.INTERRUPTED.value
                closed.append(row.call_id)
        return closed

    def load_agents(self) -> int:
        """(Re)load agents and skills from the store; live states are kept."""
        with self.db.session() as s:
            rows = s.scalars(select(AgentRow).where(AgentRow.active.is_(True))).all()
            agents = [
                Agent(
                    agent_id=r.agent_id,
                    name=r.name,
                    skills={k.skill: k.proficiency for k in r.skills},
                    languages=frozenset(r.languages.split(",")),
                    team=r.team_id,
                    sip_user=r.sip_user,
                )
                for r in rows
            ]
        with self._lock:
            for a in agents:
                live = self.engine.index.agents.get(a.agent_id)
                if live is not None:
                    if live.skills == a.skills and live.team == a.team:
                        continue
                    a.state, a.state_since_s = live.state, live.state_since_s
                else:
                    a.state_since_s = self.clock.monotonic()
                    self._agent_since[a.agent_id] = self.clock.now()
                self.engine.add_agent(a)
            self._agents_loaded = True
            return len(agents)

    def add_agent(self, agent: Agent) -> None:
        """Add an agent that is not in the store (simulations, tests)."""
        with self._lock:
            self._agent_since[agent.agent_id] = self.clock.now()
            self.engine.add_agent(agent)
            self._agents_loaded = True

    def apply_config(self, config: RoutingConfig) -> None:
        with self._lock:
            self.engine.apply_config(config)

    @property
    def config(self) -> RoutingConfig:
        return self.engine.config

    # ------------------------------------------------------------------ calls
    def _customer(self, customer_id: str | None, caller: str) -> Customer | None:
        with self.db.session() as s:
            repo = CustomerRepository(s, self.cipher)
            if customer_id:
                try:
                    return repo.get(customer_id)
                except NotFound:
                    raise ValidationError(
                        f"no customer {customer_id!r}",
                        field="customer_id",
                        code="customer_not_found",
                    ) from None
            if caller:
                try:
                    phone = normalize_phone(caller, field="caller")
                except LendlineError:
                    return None
                return repo.by_phone(phone)
        return None

    def profile_env(self, call: Call, customer: Customer | None) -> dict[str, Any]:
        now = self.clock.now()
        env: dict[str, Any] = customer.profile(now) if customer else {}
        env["known_customer"] = customer is not None
        env["last_agent_id"] = customer.last_agent_id if customer else None
        env.update(
            reason=call.reason,
            caller=call.caller,
            dialed=call.dialed,
            channel=call.context.get("channel", ""),
            context=call.context,
        )
        env.update(time_fields(now, self.timezone))
        return env

    def inbound_call(
        self,
        *,
        caller: str = "",
        customer_id: str | None = None,
        dialed: str = "",
        reason: str = "",
        channel: str = "api",
        call_id: str | None = None,
    ) -> Call:
        self.ensure_agents()
        customer = self._customer(customer_id, caller)
        if customer is not None and not caller:
            caller = customer.phone_e164
        call = Call(
            call_id=call_id or uuid.uuid4().hex,
            caller=caller,
            dialed=dialed,
            customer_id=customer.customer_id if customer else None,
            reason=reason,
            started_at=self.clock.now(),
            context={"channel": channel},
        )
        env = self.profile_env(call, customer)
        with self._lock:
            if call.call_id in self._calls:
                raise Conflict(f"call {call.call_id!r} exists", code="call_exists")
            self._calls[call.call_id] = call
            try:
                events = self.engine.arrive(call, env)
            except Exception:
                del self._calls[call.call_id]
                raise
            self._publish(events, [call])
        return call

    def get_call(self, call_id: str) -> Call:
        with self._lock:
            call = self._calls.get(call_id)
        if call is not None:
            return call
        with self.db.session() as s:
            row = s.get(CallRow, call_id)
            if row is None:
                raise NotFound(f"no call {call_id!r}", code="call_not_found")
            return _call_from_row(row)

    def decision(self, call_id: str) -> RoutingDecision:
        with self._lock:
            d = self._decisions.get(call_id)
        if d is not None:
            return d
        call = self.get_call(call_id)
        if call.rule is None and not call.routing_reason:
            raise NotFound(f"call {call_id!r} has no routing decision", code="call_not_found")
        return RoutingDecision(
            target_kind="queue",
            target=call.queue or "",
            priority=call.priority,
            rule=call.rule,
            reason=call.routing_reason,
        )

    def _live(self, call_id: str) -> Call:
        call = self._calls.get(call_id)
        if call is None:
            self.get_call(call_id)  # NotFound if it never existed
            raise Conflict(f"call {call_id!r} has ended", code="call_ended")
        return call

    def enqueue(
        self,
        call_id: str,
        queue: str,
        *,
        priority: int | None = None,
        context: dict[str, Any] | None = None,
    ) -> Call:
        with self._lock:
            call = self._live(call_id)
            self._run(
                lambda: self.engine.enqueue(call_id, queue, priority=priority, context=context),
                call,
            )
            return call

    def position(self, call_id: str) -> tuple[int, float]:
        with self._lock:
            self._live(call_id)
            return self.engine.position(call_id)

    def request_callback(self, call_id: str, phone: str | None = None) -> Call:
        with self._lock:
            call = self._live(call_id)
            if phone:
                phone = normalize_phone(phone)
            cb, events = self.engine.request_callback(call_id, phone)
            self._calls[cb.call_id] = cb
            self._publish(events, [call, cb])
            return cb

    def abandon(self, call_id: str, *, interrupted: bool = False) -> Call:
        with self._lock:
            call = self._live(call_id)
            self._run(lambda: self.engine.abandon(call_id, interrupted=interrupted), call)
            return call

    def accept(self, call_id: str, agent_id: str) -> Call:
        with self._lock:
            call = self._live(call_id)
            self._run(lambda: self.engine.accept(call_id, agent_id), call)
            return call

    def decline(self, call_id: str, agent_id: str) -> Call:
        with self._lock:
            call = self._live(call_id)
            self._run(lambda: self.engine.decline(call_id, agent_id), call)
            return call

    def hangup(self, call_id: str) -> Call:
        with self._lock:
            call = self._calls.get(call_id)
            if call is not None and call.state is CallState.ENDED:
                return call  # a second BYE is harmless
            call = self._live(call_id)
            self._run(lambda: self.engine.hangup(call_id), call)
            return call

    def transfer(
        self, call_id: str, *, queue: str | None = None, agent_id: str | None = None
    ) -> Call:
        with self._lock:
            call = self._live(call_id)
            self._run(lambda: self.engine.transfer(call_id, queue=queue, agent_id=agent_id), call)
            return call

    def set_disposition(
        self, call_id: str, agent_id: str, code: str, note: str = "", resolved: bool = True
    ) -> Call:
        if code not in DISPOSITION_CODES:
            known = ", ".join(DISPOSITION_CODES)
            raise ValidationError(f"unknown disposition {code!r} ({known})", field="code")
        with self._lock:
            call = self._calls.get(call_id)
            if call is None:
                raise NotFound(f"no recent call {call_id!r}", code="call_not_found")
            if call.agent_id != agent_id:
                raise Conflict(f"call {call_id!r} is not {agent_id!r}'s", code="not_agents_call")
            if call.answered_s is None:
                raise Conflict("the call was never answered", code="call_not_answered")
            call.disposition = Disposition(code=code, note=note, resolved=resolved)
            events = self.engine.finish_wrap_up(agent_id) if call.state is CallState.ENDED else []
            self._publish(events, [call])
            return call

    def attach_media(
        self,
        call_id: str,
        *,
        recording_id: str | None = None,
        quality: dict[str, Any] | None = None,
        supervision: dict[str, Any] | None = None,
    ) -> None:
        with self._lock:
            call = self._calls.get(call_id)
            if call is None:
                raise NotFound(f"no recent call {call_id!r}", code="call_not_found")
            if recording_id is not None:
                call.context["recording_id"] = recording_id
            if quality:
                call.context["quality"] = dict(quality)
            if supervision:
                steps = list(call.context.get("supervision", []))
                call.context["supervision"] = [*steps, dict(supervision)]
            rec = snapshot(call, self.cipher, self.node_id)
            if recording_id is not None:
                rec.values["recording_id"] = recording_id
            if quality:
                rec.values["quality"] = dict(quality)
            self.writer.put(rec)

    # ------------------------------------------------------------------ agents and queues
    def set_agent_state(self, agent_id: str, state: AgentState) -> AgentSnapshot:
        self._known_agent(agent_id)
        with self._lock:
            self._run(lambda: self.engine.set_agent_state(agent_id, state))
            return self._agent(agent_id)

    def _known_agent(self, agent_id: str) -> None:
        self.ensure_agents()
        if agent_id not in self.engine.index.agents:
            self.load_agents()  # an agent added to the store since
        if agent_id not in self.engine.index.agents:
            raise NotFound(f"no agent {agent_id!r}", code="agent_not_found")

    def _agent(self, agent_id: str) -> AgentSnapshot:
        since = self._agent_since.get(agent_id) or self.clock.now()
        return self.engine.agent_snapshot(agent_id, since)

    def agent(self, agent_id: str) -> AgentSnapshot:
        self._known_agent(agent_id)
        with self._lock:
            return self._agent(agent_id)

    def agents(self) -> list[AgentSnapshot]:
        self.ensure_agents()
        with self._lock:
            return [self._agent(a) for a in sorted(self.engine.index.agents)]

    def queues(self) -> list[QueueSnapshot]:
        self.ensure_agents()
        with self._lock:
            return [self.engine.queue_snapshot(q) for q in sorted(self.engine.queues)]

    def queue(self, name: str) -> QueueSnapshot:
        with self._lock:
            self.engine.queue(name)
            return self.engine.queue_snapshot(name)

    def ewt_erlang(self, queue: str) -> float:
        with self._lock:
            return self.engine.ewt_erlang(queue)

    def tick(self) -> None:
        with self._lock:
            self._publish(self.engine.run_due())

    def flush(self) -> int:
        return self.writer.flush()

    @property
    def decisions_made(self) -> int:
        return self.engine.decisions_made


def _call_from_row(row: CallRow) -> Call:
    from lendline.domain.call import CallDirection, EndReason

    call = Call(
        call_id=row.call_id,
        direction=CallDirection(row.direction),
        caller=row.caller_masked,
        dialed=row.dialed,
        customer_id=row.customer_id,
        reason=row.reason,
        state=CallState(row.state),
        queue=row.queue,
        agent_id=row.agent_id,
        priority=row.priority,
        rule=row.rule,
        routing_reason=row.routing_reason,
        started_at=row.started_at,
        end_reason=EndReason(row.end_reason) if row.end_reason else None,
        context=dict(row.context or {}),
    )
    if row.disposition_code:
        call.disposition = Disposition(
            row.disposition_code, row.disposition_note, bool(row.resolved)
        )
    return call
