"""Routing strategies the simulator compares; each is a routing config plus a selector.

* ``random``: one pooled queue, any free agent at random (no skills, no rules).
* ``fifo``: one pooled queue, first come first served, longest-idle agent.
* ``skills``: one queue per skill, the call's reason picks the queue; agents need the
  skill (level 5, relaxed to 1 after 30 s); longest-idle agent.
* ``skills+profile``: the profile rules (``scenario.rules`` or the built-in default:
  large first-time loans → senior agents, stale overdue → AI collection flow, …), skill
  queues with relaxation and overflow, the customer's last agent when free within 20 s,
  else the most proficient.

Add one with ``register_strategy(name, build)``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from lendline.calls.rules_source import load_builtin, load_file
from lendline.routing.agents import AgentSelector, LongestIdle, MostProficient, RandomAgent, Sticky
from lendline.routing.config import QueueSpec, RoutingConfig, Rule, Target
from lendline.routing.expr import compile_expression
from lendline.simulation.scenario import Scenario

Build = Callable[[Scenario], tuple[RoutingConfig, AgentSelector]]


def _tune(spec: QueueSpec, sc: Scenario) -> QueueSpec:
    return spec.model_copy(
        update={"wrap_up_s": sc.wrap_up_s, "service_level_s": sc.service_level_s}
    )


def _pooled(sc: Scenario) -> RoutingConfig:
    spec = _tune(QueueSpec(name="all", skill="any"), sc)
    return RoutingConfig(queues={"all": spec}, rules=(), default=Target("queue", "all"))


def random_strategy(sc: Scenario) -> tuple[RoutingConfig, AgentSelector]:
    return _pooled(sc), RandomAgent(seed=sc.seed)


def fifo_strategy(sc: Scenario) -> tuple[RoutingConfig, AgentSelector]:
    return _pooled(sc), LongestIdle()


def _skills(sc: Scenario) -> set[str]:
    out = {r.skill for r in sc.reasons.values()} | {"general"}
    for g in sc.staffing:
        out |= set(g.skills)
    return out


def skills_strategy(sc: Scenario) -> tuple[RoutingConfig, AgentSelector]:
    queues = {
        s: _tune(QueueSpec(name=s, min_proficiency=5, relax=((30.0, 1),)), sc)
        for s in sorted(_skills(sc))
    }
    rules = tuple(
        Rule(
            name=f"reason_{reason}",
            when=compile_expression(f"reason == {reason!r}"),
            target=Target("queue", spec.skill),
            reason=f"来电原因 {reason} → {spec.skill}",
        )
        for reason, spec in sc.reasons.items()
    )
    cfg = RoutingConfig(queues=queues, rules=rules, default=Target("queue", "general"))
    return cfg, LongestIdle()


def skills_profile_strategy(sc: Scenario) -> tuple[RoutingConfig, AgentSelector]:
    path = sc.rules_path()
    base = load_file(path) if path else load_builtin()
    queues = {n: _tune(q, sc) for n, q in base.queues.items()}
    for s in _skills(sc) - set(queues):
        queues[s] = _tune(QueueSpec(name=s, min_proficiency=5, relax=((30.0, 1),)), sc)
    return dataclasses.replace(base, queues=queues), Sticky(MostProficient(), wait_s=20.0)


STRATEGIES: dict[str, Build] = {
    "random": random_strategy,
    "fifo": fifo_strategy,
    "skills": skills_strategy,
    "skills+profile": skills_profile_strategy,
}


def register_strategy(name: str, build: Build) -> None:
    STRATEGIES[name] = build
