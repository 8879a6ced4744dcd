"""The discrete-event loop: the real ``RoutingEngine`` on a ``ManualClock``.

Simulated events (a heap): arrival, answer (after ``answer_delay_s``), service end, bot
done, caller patience running out. Engine timers (reservation timeout, overflow,
relaxation, sticky hold, wrap-up) are interleaved by asking ``engine.next_timer_s()``.
The simulated agents answer every offer and never take breaks.

Per call the caller's luck (resolution, repeat delay, bot outcome) is pre-drawn, so two
strategies see the same callers; what differs is who serves them, how fast (handle time ×
``model.handle_factor(level)``) and how well (``model.resolution_p(reason, level)``). An
unresolved call comes back as a repeat call ``repeat_after_s`` later.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from lendline.clock import ManualClock
from lendline.domain.agent import Agent, AgentState
from lendline.domain.call import Call, CallState, EndReason
from lendline.domain.events import AgentReserved, CallAnswered, CallEnded, CallQueued, DomainEvent
from lendline.routing.agents import AgentSelector
from lendline.routing.config import RoutingConfig
from lendline.routing.engine import RoutingEngine
from lendline.routing.rules import time_fields
from lendline.simulation.arrivals import Luck, luck_for
from lendline.simulation.scenario import Arrival, Scenario


@dataclass(slots=True)
class CallRecord:
    arrival: Arrival
    luck_key: str
    predicted_s: float | None = None
    queued_position: int = 0
    wait_s: float | None = None
    agent_id: str | None = None
    level: int = 0
    outcome: str = ""
    resolved: bool = False
    bot: bool = False
    _luck: Luck | None = None

    def luck(self, scenario: Scenario) -> Luck:
        """The caller's pre-drawn luck, drawn on first use (seeded by the caller's key)."""
        if self._luck is None:
            self._luck = luck_for(scenario, self.luck_key)
        return self._luck


@dataclass(slots=True)
class SimResult:
    strategy: str
    calls: int = 0
    first_contacts: int = 0
    repeat_calls: int = 0
    answered: int = 0
    abandoned: int = 0
    voicemail: int = 0
    bot_contained: int = 0
    still_queued: int = 0
    asa_s: float = 0.0
    p90_wait_s: float = 0.0
    service_level_20s: float = 0.0
    abandon_rate: float = 0.0
    fcr: float = 0.0
    occupancy: float = 0.0
    ewt_mae_s: float = 0.0
    ewt_p90_abs_err_s: float = 0.0
    ewt_samples: int = 0
    aht_s: float = 0.0
    simulated_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "extra"}
        d.update(self.extra)
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in d.items()}


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    k = max(0, min(len(s) - 1, math.ceil(q * len(s)) - 1))
    return s[k]


def make_agents(scenario: Scenario) -> list[Agent]:
    rng = random.Random(f"{scenario.seed}:staff")
    agents = []
    n = 0
    for g in scenario.staffing:
        for _ in range(g.count):
            n += 1
            skills = {s: rng.randint(lo, hi) for s, (lo, hi) in g.skills.items()}
            agents.append(Agent(agent_id=f"sim{n:05d}", name=f"sim{n}", skills=skills, team=g.team))
    return agents


class Simulation:
    def __init__(
        self,
        scenario: Scenario,
        arrivals: Iterable[Arrival],
        config: RoutingConfig,
        selector: AgentSelector,
        *,
        strategy: str = "",
        progress: Callable[[float], None] | None = None,
        horizon_s: float | None = None,
    ) -> None:
        self.sc = scenario
        self.clock = ManualClock()
        self.engine = RoutingEngine(config, self.clock, selector=selector)
        self.strategy = strategy
        self.progress = progress
        self.agents = make_agents(scenario)
        for a in self.agents:
            self.engine.add_agent(a)
            self.engine.set_agent_state(a.agent_id, AgentState.AVAILABLE)
        self._heap: list[tuple[float, int, str, Any]] = []
        self._seq = itertools.count()
        self.records: dict[str, CallRecord] = {}
        self._last_agent: dict[str, str] = {}
        self._busy_s = 0.0
        self._ids = itertools.count(1)
        self._agg = _Aggregate(scenario.service_level_s)
        if horizon_s is None:
            arrivals = list(arrivals)
            horizon_s = max((x.at_s for x in arrivals), default=0.0)
        self.horizon_s = horizon_s
        self._arrivals: Iterator[Arrival] = iter(arrivals)
        self._next_arrival()

    def _next_arrival(self) -> None:
        """Keep exactly one future first-contact arrival on the heap (arrivals are sorted)."""
        nxt = next(self._arrivals, None)
        if nxt is not None:
            self._push(nxt.at_s, "first_arrival", nxt)

    def _push(self, at_s: float, kind: str, data: Any) -> None:
        heapq.heappush(self._heap, (at_s, next(self._seq), kind, data))

    def run(self) -> SimResult:
        engine = self.engine
        steps = 0
        while True:
            timer = engine.next_timer_s()
            nxt = self._heap[0][0] if self._heap else None
            if timer is None and nxt is None:
                break
            if timer is not None and (nxt is None or timer <= nxt):
                self.clock.set(max(timer, self.clock.monotonic()))
                self._handle(engine.run_due())
                continue
            at, _s, kind, data = heapq.heappop(self._heap)
            self.clock.set(max(at, self.clock.monotonic()))
            getattr(self, f"_on_{kind}")(data)
            steps += 1
            if self.progress is not None and steps % 2000 == 0 and self.horizon_s:
                self.progress(min(1.0, self.clock.monotonic() / self.horizon_s))
        return self._result()

    # --- simulated events ---
    def _on_first_arrival(self, a: Arrival) -> None:
        self._next_arrival()
        self._on_arrival(a)

    def _on_arrival(self, a: Arrival) -> None:
        call_id = f"s{next(self._ids)}"
        rec = CallRecord(a, f"{a.customer_id}:{a.repeat_of or ''}:{a.at_s:.3f}")
        self.records[call_id] = rec
        call = Call(call_id=call_id, customer_id=a.customer_id, reason=a.reason)
        env = dict(a.profile)
        env.update(
            reason=a.reason,
            customer_id=a.customer_id,
            known_customer=True,
            last_agent_id=self._last_agent.get(a.customer_id),
        )
        env.update(time_fields(self.clock.now()))
        self._handle(self.engine.arrive(call, env))
        if call.state is CallState.IN_BOT:
            self.records[call_id].bot = True
            self._push(self.clock.monotonic() + rec.luck(self.sc).bot_s, "bot_done", call_id)
        else:
            self._patience(call_id, a)

    def _patience(self, call_id: str, a: Arrival) -> None:
        if a.patience_s is not None:
            self._push(self.clock.monotonic() + a.patience_s, "patience", call_id)

    def _on_bot_done(self, call_id: str) -> None:
        rec = self.records[call_id]
        bot_name, bot = next(iter(self.sc.bot.items()), ("", None))
        call = self.engine.calls.get(call_id)
        if call is None or call.state is not CallState.IN_BOT:
            return
        if bot is not None and rec.luck(self.sc).u_bot < bot.containment:
            rec.resolved = True
            self._handle(self.engine.hangup(call_id))
            self._fold(call_id)
            return
        queue = bot.handoff_queue if bot is not None else "general"
        self._handle(self.engine.enqueue(call_id, queue, context={"bot": bot_name}))
        self._patience(call_id, rec.arrival)

    def _on_patience(self, call_id: str) -> None:
        call = self.engine.calls.get(call_id)
        if call is not None and call.state in (CallState.QUEUED, CallState.RINGING):
            self._handle(self.engine.abandon(call_id))

    def _on_answer(self, data: tuple[str, str]) -> None:
        call_id, agent_id = data
        call = self.engine.calls.get(call_id)
        if call is not None and call.state is CallState.RINGING and call.agent_id == agent_id:
            self._handle(self.engine.accept(call_id, agent_id))

    def _on_end(self, call_id: str) -> None:
        rec = self.records[call_id]
        self._handle(self.engine.hangup(call_id))
        p = self.sc.model.resolution_p(rec.arrival.reason, rec.level)
        rec.resolved = p >= 1.0 or rec.luck(self.sc).u_resolve < p
        a = rec.arrival
        if rec.agent_id:
            self._last_agent[a.customer_id] = rec.agent_id
        self._fold(call_id)
        if not rec.resolved:
            at = self.clock.monotonic() + rec.luck(self.sc).repeat_after_s
            if at < self.horizon_s:
                profile = dict(a.profile, first_call=False, days_since_last_contact=0.0)
                self._push(
                    at,
                    "arrival",
                    Arrival(
                        at_s=at,
                        customer_id=a.customer_id,
                        reason=a.reason,
                        service_s=a.service_s,
                        patience_s=a.patience_s,
                        profile=profile,
                        skill=a.skill,
                        first_call=False,
                        repeat_of=call_id,
                    ),
                )

    # --- engine events ---
    def _handle(self, events: list[DomainEvent]) -> None:
        todo = list(events)
        while todo:
            ev = todo.pop(0)
            if isinstance(ev, AgentReserved):
                delay = self.sc.model.answer_delay_s
                if delay > 0:
                    self._push(self.clock.monotonic() + delay, "answer", (ev.call_id, ev.agent_id))
                else:
                    todo.extend(self.engine.accept(ev.call_id, ev.agent_id))
            elif isinstance(ev, CallAnswered):
                rec = self.records[ev.call_id]
                rec.wait_s = ev.wait_s
                rec.agent_id = ev.agent_id
                rec.level = self.engine.index.level(ev.agent_id, rec.arrival.skill)
                service = rec.arrival.service_s * self.sc.model.handle_factor(rec.level)
                self._busy_s += service + self._wrap_s(ev.call_id)
                self._push(self.clock.monotonic() + service, "end", ev.call_id)
            elif isinstance(ev, CallQueued):
                rec = self.records[ev.call_id]
                if rec.predicted_s is None:
                    rec.predicted_s, rec.queued_position = ev.ewt_s, ev.position
            elif isinstance(ev, CallEnded):
                self.records[ev.call_id].outcome = ev.reason
                if ev.reason in (EndReason.ABANDONED, EndReason.VOICEMAIL, EndReason.CALLBACK):
                    self._fold(ev.call_id)

    def _wrap_s(self, call_id: str) -> float:
        call = self.engine.calls.get(call_id)
        q = self.engine.queues.get(call.queue or "") if call else None
        return q.spec.wrap_up_s if q else 0.0

    def _fold(self, call_id: str) -> None:
        """A call is over: add it to the figures and forget it."""
        self._agg.add(self.records.pop(call_id))

    def _result(self) -> SimResult:
        for rec in list(self.records.values()):  # still waiting when the run ended
            self._agg.add(rec)
        self.records.clear()
        return self._agg.result(
            self.strategy, self.clock.monotonic(), len(self.agents), self._busy_s
        )


class _Aggregate:
    """Running figures over finished calls (so long runs keep no per-call records)."""

    def __init__(self, service_level_s: float) -> None:
        self.r = SimResult(strategy="")
        self.sl_s = service_level_s
        self.waits: list[float] = []
        self.errors: list[float] = []
        self.in_sl = 0
        self.first_handled = 0
        self.first_resolved = 0

    def add(self, rec: CallRecord) -> None:
        r = self.r
        r.calls += 1
        if rec.arrival.repeat_of:
            r.repeat_calls += 1
        else:
            r.first_contacts += 1
        if rec.outcome == EndReason.ANSWERED:
            r.answered += 1
            assert rec.wait_s is not None
            self.waits.append(rec.wait_s)
            self.in_sl += rec.wait_s <= self.sl_s
            if rec.predicted_s is not None and rec.queued_position >= 1:
                self.errors.append(abs(rec.predicted_s - rec.wait_s))
        elif rec.outcome == EndReason.ABANDONED:
            r.abandoned += 1
        elif rec.outcome == EndReason.VOICEMAIL:
            r.voicemail += 1
        elif rec.outcome == EndReason.BOT_COMPLETED:
            r.bot_contained += 1
        else:
            r.still_queued += 1
        if not rec.arrival.repeat_of and rec.outcome in (
            EndReason.ANSWERED,
            EndReason.BOT_COMPLETED,
        ):
            self.first_handled += 1
            self.first_resolved += rec.resolved

    def result(self, strategy: str, simulated_s: float, agents: int, busy_s: float) -> SimResult:
        r = self.r
        r.strategy = strategy
        waits, errors = self.waits, self.errors
        offered = r.answered + r.abandoned + r.voicemail
        r.asa_s = sum(waits) / len(waits) if waits else 0.0
        r.p90_wait_s = percentile(waits, 0.9)
        done = r.answered + r.abandoned
        r.service_level_20s = self.in_sl / done if done else 1.0
        r.abandon_rate = r.abandoned / offered if offered else 0.0
        r.fcr = self.first_resolved / self.first_handled if self.first_handled else 0.0
        r.simulated_s = simulated_s
        r.occupancy = min(1.0, busy_s / (agents * max(simulated_s, 1.0)))
        r.aht_s = busy_s / r.answered if r.answered else 0.0
        r.ewt_mae_s = sum(errors) / len(errors) if errors else 0.0
        r.ewt_p90_abs_err_s = percentile(errors, 0.9)
        r.ewt_samples = len(errors)
        return r
