"""``lendline bench routing``: the cost of one routing decision at scale.

Set-up (seeded): ``skills`` skills, one queue each; ``agents`` agents with 3 skills at
levels 1..10; 6 profile rules and one rule per reason (so a decision evaluates ~30
conditions on average); ``waiting`` calls already queued. The last fifth of the skills is
over-staffed (agents free), the rest fully busy, so a fifth of new calls find an agent at
once and the others are inserted into a queue of hundreds.

Measured per decision (``time.perf_counter_ns``):

* call side: ``engine.arrive`` = rule evaluation + queue insert + agent selection;
* agent side: an agent finishes wrap-up and is offered the best queue head
  (``engine.finish_wrap_up``).

Each decision is timed on the thread's CPU clock (``time.thread_time_ns``; two reads back
to back differ by ~0.6 µs here, the bias included in every figure): what a decision costs,
whether or not other processes on this shared 2-core machine pre-empt it. Decisions per
second = decisions / CPU time spent inside them (one core, no I/O). The wall clock
(``perf_counter_ns``, read around the CPU clock reads, so +~2 µs) is reported beside it:
``wall_p50_us`` and ``preempted_share`` (decisions that took over 1 ms of wall time).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any

from lendline.clock import ManualClock
from lendline.domain.agent import Agent, AgentState
from lendline.domain.call import Call, CallState
from lendline.routing.agents import LongestIdle
from lendline.routing.config import QueueSpec, RoutingConfig, Rule, Target
from lendline.routing.engine import RoutingEngine
from lendline.routing.expr import compile_expression

PROFILE_RULES = [
    ("senior_first_call", "loan_amount_yuan > 100000 and first_call", 0, 5),
    ("ai_collection", "is_overdue and days_since_last_contact > 30", 1, 3),
    ("vip_night", "vip and time_between('22:00', '08:00')", 2, 4),
    ("fraud", "'fraud_suspected' in risk_flags", 3, 6),
    ("low_score", "credit_score < 420 and product in ['car', 'mortgage']", 4, 2),
    ("complaint", "reason == 'complaint' and not first_call", 5, 4),
]


@dataclass
class BenchResult:
    agents: int
    skills: int
    waiting_start: int
    waiting_end: int
    decisions: int
    decisions_per_s: float
    p50_us: float
    p99_us: float
    call_side_p50_us: float
    call_side_p99_us: float
    agent_side_p50_us: float
    agent_side_p99_us: float
    p999_us: float
    wall_p50_us: float
    wall_p99_us: float
    preempted_share: float
    calibration_ns: float  # CPU ns per empty Python function call during this run
    setup_s: float

    def as_dict(self) -> dict[str, Any]:
        return {k: round(v, 2) if isinstance(v, float) else v for k, v in vars(self).items()}


def _pct(sorted_ns: list[int], q: float) -> float:
    if not sorted_ns:
        return 0.0
    return sorted_ns[min(len(sorted_ns) - 1, int(q * len(sorted_ns)))] / 1000.0


def build(agents: int, skills: int, seed: int) -> tuple[RoutingEngine, ManualClock, random.Random]:
    rng = random.Random(seed)
    names = [f"skill{i:02d}" for i in range(skills)]
    queues = {n: QueueSpec(name=n, skill=n, wrap_up_s=5.0, relax=((60.0, 1),)) for n in names}
    rules = [
        Rule(name, compile_expression(expr), Target("queue", names[q % skills]), prio)
        for name, expr, q, prio in PROFILE_RULES
    ]
    rules += [
        Rule(f"reason_{n}", compile_expression(f"reason == 'r_{n}'"), Target("queue", n), 1)
        for n in names
    ]
    config = RoutingConfig(queues=queues, rules=tuple(rules), default=Target("queue", names[0]))
    clock = ManualClock()
    engine = RoutingEngine(config, clock, selector=LongestIdle())
    for i in range(agents):
        picked = rng.sample(names, 3)
        engine.add_agent(
            Agent(agent_id=f"a{i:06d}", name="", skills={s: rng.randint(1, 10) for s in picked})
        )
    return engine, clock, rng


def _env(rng: random.Random, skill: str) -> dict[str, Any]:
    return {
        "reason": f"r_{skill}",
        "loan_amount_yuan": rng.uniform(1000, 120000),
        "first_call": rng.random() < 0.3,
        "is_overdue": rng.random() < 0.2,
        "days_since_last_contact": rng.uniform(0, 10),
        "vip": False,
        "minute_of_day": rng.randint(0, 1439),
        "risk_flags": [],
        "credit_score": rng.randint(350, 800),
        "product": "consumer",
    }


def calibrate(n: int = 200_000) -> float:
    """CPU ns per call of an empty function: how fast this machine runs Python right now."""

    def nothing() -> None:
        return None

    t = time.thread_time_ns()
    for _ in range(n):
        nothing()
    return (time.thread_time_ns() - t) / n


def run(
    agents: int = 5000,
    skills: int = 50,
    waiting: int = 20000,
    decisions: int = 60000,
    seed: int = 1,
) -> BenchResult:
    t0 = time.perf_counter()
    engine, clock, rng = build(agents, skills, seed)
    names = sorted(engine.queues)
    spare = set(names[int(skills * 0.8) :])  # over-staffed skills
    busy_skills = [n for n in names if n not in spare]
    ids = iter(range(10**9))

    def arrive(skill: str) -> Call:
        call = Call(call_id=f"c{next(ids)}")
        engine.arrive(call, _env(rng, skill))
        return call

    # fill: every agent of a busy skill gets a call, then `waiting` calls queue up
    connected: list[str] = []
    for agent_id, a in list(engine.index.agents.items()):
        if any(s in spare for s in a.skills):
            engine.set_agent_state(agent_id, AgentState.AVAILABLE)
            continue
        call = arrive(rng.choice(list(a.skills)))
        engine.set_agent_state(agent_id, AgentState.AVAILABLE)
        if call.state is CallState.RINGING and call.agent_id:
            engine.accept(call.call_id, call.agent_id)
            connected.append(call.call_id)
    for c in list(engine.calls.values()):
        if c.state is CallState.RINGING and c.agent_id:
            engine.accept(c.call_id, c.agent_id)
            connected.append(c.call_id)
    while sum(len(q) for q in engine.queues.values()) < waiting:
        arrive(rng.choice(busy_skills))
    waiting_start = sum(len(q) for q in engine.queues.values())
    setup_s = time.perf_counter() - t0

    call_ns: list[int] = []
    agent_ns: list[int] = []
    wall_ns: list[int] = []
    perf = time.perf_counter_ns
    cpu = time.thread_time_ns
    for i in range(decisions // 2):
        clock.advance(0.01)
        skill = rng.choice(names) if rng.random() < 0.25 else rng.choice(busy_skills)
        env = _env(rng, skill)
        call = Call(call_id=f"c{next(ids)}")
        w = perf()
        t = cpu()
        engine.arrive(call, env)
        t = cpu() - t
        wall_ns.append(perf() - w)
        call_ns.append(t)
        if call.state is CallState.RINGING and call.agent_id:
            engine.accept(call.call_id, call.agent_id)
            connected.append(call.call_id)
        # an agent finishes a call and is offered the next one
        if connected:
            j = rng.randrange(len(connected))
            connected[j], connected[-1] = connected[-1], connected[j]
            done = connected.pop()
            agent_id = engine.calls[done].agent_id or ""
            engine.hangup(done)
            w = perf()
            t = cpu()
            engine.finish_wrap_up(agent_id)
            t = cpu() - t
            wall_ns.append(perf() - w)
            agent_ns.append(t)
            held = engine.ledger.holder(agent_id)
            if held is not None:
                engine.accept(held, agent_id)
                connected.append(held)
        if i % 5000 == 0:
            engine.run_due()
    every = sorted(call_ns + agent_ns)
    call_ns.sort()
    agent_ns.sort()
    wall_ns.sort()
    total_s = sum(every) / 1e9
    calibration = calibrate()
    return BenchResult(
        agents=agents,
        skills=skills,
        waiting_start=waiting_start,
        waiting_end=sum(len(q) for q in engine.queues.values()),
        decisions=len(every),
        decisions_per_s=len(every) / total_s if total_s else 0.0,
        p50_us=_pct(every, 0.50),
        p99_us=_pct(every, 0.99),
        call_side_p50_us=_pct(call_ns, 0.50),
        call_side_p99_us=_pct(call_ns, 0.99),
        agent_side_p50_us=_pct(agent_ns, 0.50),
        agent_side_p99_us=_pct(agent_ns, 0.99),
        p999_us=_pct(every, 0.999),
        wall_p50_us=_pct(wall_ns, 0.50),
        wall_p99_us=_pct(wall_ns, 0.99),
        preempted_share=sum(1 for x in wall_ns if x > 1_000_000) / max(len(wall_ns), 1),
        calibration_ns=calibration,
        setup_s=setup_s,
    )
