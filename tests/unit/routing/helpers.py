"""Small builders for engine tests (a ManualClock, agents, calls)."""

from __future__ import annotations

import itertools
from typing import Any

from lendline.clock import ManualClock
from lendline.domain.agent import Agent, AgentState
from lendline.domain.call import Call
from lendline.routing.agents import AgentSelector
from lendline.routing.config import parse_config
from lendline.routing.engine import RoutingEngine

BASIC = """
queues:
  general: {aging_s: 30, wrap_up_s: 5}
  vip:
    skill: senior_loans
    min_proficiency: 8
    relax: [[30, 5], [60, 1]]
    overflow_after_s: 120
    overflow_to: general
  collections:
    overflow_ewt_s: 100
    overflow_to: voicemail
    default_aht_s: 200
  complaints:
    callback_offer_ewt_s: 50
    default_aht_s: 300
rules:
  - name: big
    when: loan_amount_yuan > 100000 and first_call
    target: queue:vip
    priority: 5
  - name: bot
    when: reason == "bot"
    target: bot:collection
  - name: coll
    when: reason == "repayment"
    target: queue:collections
  - name: compl
    when: reason == "complaint"
    target: queue:complaints
  - name: urgent
    when: reason == "urgent"
    target: queue:general
    priority: 2
default: queue:general
"""

_ids = itertools.count(1)


def make_engine(
    text: str = BASIC, selector: AgentSelector | None = None, timeout_s: float = 15.0
) -> tuple[RoutingEngine, ManualClock]:
    clock = ManualClock()
    return (
        RoutingEngine(
            parse_config(text), clock, selector=selector, reservation_timeout_s=timeout_s
        ),
        clock,
    )


def agent(
    engine: RoutingEngine,
    agent_id: str,
    skills: dict[str, int],
    *,
    available: bool = True,
    team: str | None = None,
) -> Agent:
    a = Agent(agent_id=agent_id, name=agent_id, skills=skills, team=team)
    engine.add_agent(a)
    if available:
        engine.set_agent_state(agent_id, AgentState.AVAILABLE)
    return a


def arrive(engine: RoutingEngine, reason: str = "", **env: Any) -> Call:
    call = Call(call_id=f"c{next(_ids)}", reason=reason)
    engine.arrive(call, {"reason": reason, **env})
    return call
