"""Agents indexed by skill, proficiency and state; pluggable agent-selection strategies.

The index keeps, for every skill and proficiency level 0..10, the *available* agents in
the order they became available (an ``OrderedDict``: its head is the longest idle). So a
strategy looks at no more than 11 buckets whatever the number of agents: selection costs
O(levels), not O(agents).

Strategies (``SELECTORS``): ``longest_idle`` (default), ``most_proficient`` (highest level
first, longest idle within it), ``random`` (a baseline), ``sticky`` (the customer's last
agent when available — the engine also holds the call up to ``sticky_wait_s`` for that
agent when busy — else longest idle). Register more with ``register_selector``.
"""

from __future__ import annotations

import random
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Protocol

from lendline.domain.agent import Agent, AgentState

LEVELS = 11  # proficiency 0..10
SERVING = frozenset(
    {AgentState.AVAILABLE, AgentState.RESERVED, AgentState.ON_CALL, AgentState.WRAP_UP}
)


class AgentIndex:
    """Available agents by (skill, level), and serving counts per skill."""

    def __init__(self) -> None:
        self.agents: dict[str, Agent] = {}
        self.skills_of: dict[str, dict[str, int]] = {}  # incl. pseudo skills any/team:/agent:
        self._avail: dict[str, list[OrderedDict[str, None]]] = {}
        self._serving: dict[str, int] = {}
        self.members: dict[str, set[str]] = {}  # skill -> agent ids (for snapshots)
        self.pooled = False  # whether every agent also has the pseudo skill "any"

    def add_skill(self, agent_id: str, skill: str, level: int) -> None:
        """Give one agent a (pseudo) skill, e.g. ``agent:<id>`` for a direct transfer."""
        agent = self.agents.get(agent_id)
        if agent is None or self.skills_of[agent_id].get(skill) == level:
            return
        self._leave(agent)
        self.skills_of[agent_id][skill] = level
        self.members.setdefault(skill, set()).add(agent_id)
        self._enter(agent)

    def enable_pool(self) -> None:
        """Every agent, present and future, gets the pseudo skill ``any`` (pooled queues)."""
        if not self.pooled:
            self.pooled = True
            for agent_id in list(self.agents):
                self.add_skill(agent_id, "any", 10)

    def add(self, agent: Agent) -> None:
        skills = dict(agent.skills)
        if self.pooled:
            skills["any"] = 10
        if agent.team:
            skills[f"team:{agent.team}"] = 10
        self.agents[agent.agent_id] = agent
        self.skills_of[agent.agent_id] = skills
        for skill in skills:
            self.members.setdefault(skill, set()).add(agent.agent_id)
        self._enter(agent)

    def remove(self, agent_id: str) -> None:
        agent = self.agents.get(agent_id)
        if agent is None:
            return
        self._leave(agent)
        for skill in self.skills_of.pop(agent_id):
            self.members[skill].discard(agent_id)
        del self.agents[agent_id]

    def _buckets(self, skill: str) -> list[OrderedDict[str, None]]:
        b = self._avail.get(skill)
        if b is None:
            b = self._avail[skill] = [OrderedDict() for _ in range(LEVELS)]
        return b

    def _enter(self, agent: Agent) -> None:
        self._update(agent.agent_id, agent.state, +1)

    def _leave(self, agent: Agent) -> None:
        self._update(agent.agent_id, agent.state, -1)

    def _update(
        self, agent_id: str, state: AgentState, sign: int, *, avail: bool = True, serve: bool = True
    ) -> None:
        skills = self.skills_of[agent_id]
        if avail and state is AgentState.AVAILABLE:
            if sign > 0:
                for skill, level in skills.items():
                    self._buckets(skill)[min(max(level, 0), 10)][agent_id] = None
            else:
                for skill, level in skills.items():
                    self._buckets(skill)[min(max(level, 0), 10)].pop(agent_id, None)
        if serve and state in SERVING:
            serving = self._serving
            for skill in skills:
                serving[skill] = serving.get(skill, 0) + sign

    def transition(self, agent: Agent, apply: Callable[[], object]) -> None:
        """Run ``apply`` (which changes ``agent.state``) keeping the index in step.

        Only what changes is touched: e.g. wrap_up → available adds the agent to the
        availability buckets but leaves the serving counts alone.
        """
        old = agent.state
        try:
            apply()
        finally:
            new = agent.state
            if new is not old:
                agent_id = agent.agent_id
                serve = (old in SERVING) != (new in SERVING)
                self._update(agent_id, old, -1, serve=serve)
                self._update(agent_id, new, +1, serve=serve)

    # --- queries ---
    def level(self, agent_id: str, skill: str) -> int:
        return self.skills_of.get(agent_id, {}).get(skill, 0)

    def available(self, skill: str, min_level: int) -> Iterable[str]:
        """Available agents with ``skill`` ≥ ``min_level``, highest level first."""
        buckets = self._avail.get(skill)
        if buckets is None:
            return ()
        return (a for lvl in range(10, max(min_level, 0) - 1, -1) for a in buckets[lvl])

    def available_count(self, skill: str, min_level: int) -> int:
        buckets = self._avail.get(skill)
        if buckets is None:
            return 0
        return sum(map(len, buckets[max(min_level, 0) :]))

    def serving_count(self, skill: str) -> int:
        return self._serving.get(skill, 0)

    def heads(self, skill: str, min_level: int) -> list[tuple[int, str]]:
        """(level, longest-idle agent) of each non-empty bucket ≥ ``min_level``."""
        buckets = self._avail.get(skill)
        if buckets is None:
            return []
        out = []
        for lvl in range(10, max(min_level, 0) - 1, -1):
            b = buckets[lvl]
            if b:
                out.append((lvl, next(iter(b))))
        return out

    def is_available(self, agent_id: str) -> bool:
        a = self.agents.get(agent_id)
        return a is not None and a.state is AgentState.AVAILABLE


class AgentSelector(Protocol):
    """Chooses one available agent for a call; ``None`` when nobody qualifies."""

    name: str
    sticky_wait_s: float

    def pick(
        self,
        index: AgentIndex,
        skill: str,
        min_level: int,
        *,
        preferred: str | None = None,
        exclude: str | None = None,
    ) -> str | None: ...


class LongestIdle:
    name = "longest_idle"
    sticky_wait_s = 0.0

    def pick(
        self,
        index: AgentIndex,
        skill: str,
        min_level: int,
        *,
        preferred: str | None = None,
        exclude: str | None = None,
    ) -> str | None:
        best: str | None = None
        best_since = 0.0
        for _lvl, agent_id in index.heads(skill, min_level):
            if agent_id == exclude:
                agent_id = _second(index, skill, _lvl, exclude) or ""
                if not agent_id:
                    continue
            since = index.agents[agent_id].state_since_s
            if best is None or since < best_since:
                best, best_since = agent_id, since
        return best


class MostProficient:
    name = "most_proficient"
    sticky_wait_s = 0.0

    def pick(
        self,
        index: AgentIndex,
        skill: str,
        min_level: int,
        *,
        preferred: str | None = None,
        exclude: str | None = None,
    ) -> str | None:
        for lvl, agent_id in index.heads(skill, min_level):
            if agent_id != exclude:
                return agent_id
            other = _second(index, skill, lvl, exclude)
            if other:
                return other
        return None


class RandomAgent:
    """A baseline: any qualified available agent, uniformly (O(available agents))."""

    name = "random"
    sticky_wait_s = 0.0

    def __init__(self, seed: int = 0) -> None:
        self.rng = random.Random(seed)

    def pick(
        self,
        index: AgentIndex,
        skill: str,
        min_level: int,
        *,
        preferred: str | None = None,
        exclude: str | None = None,
    ) -> str | None:
        pool = [a for a in index.available(skill, min_level) if a != exclude]
        return self.rng.choice(pool) if pool else None


class Sticky:
    """The customer's last agent if available (and qualified), else ``inner``'s choice."""

    name = "sticky"

    def __init__(self, inner: AgentSelector | None = None, wait_s: float = 20.0) -> None:
        self.inner: AgentSelector = inner or LongestIdle()
        self.sticky_wait_s = wait_s

    def pick(
        self,
        index: AgentIndex,
        skill: str,
        min_level: int,
        *,
        preferred: str | None = None,
        exclude: str | None = None,
    ) -> str | None:
        if (
            preferred
            and preferred != exclude
            and index.is_available(preferred)
            and index.level(preferred, skill) >= min_level
        ):
            return preferred
        return self.inner.pick(index, skill, min_level, exclude=exclude)


def _second(index: AgentIndex, skill: str, level: int, exclude: str | None) -> str | None:
    for agent_id in index._avail[skill][level]:
        if agent_id != exclude:
            return agent_id
    return None


SELECTORS: dict[str, Callable[[], AgentSelector]] = {
    "longest_idle": LongestIdle,
    "most_proficient": MostProficient,
    "random": RandomAgent,
    "sticky": Sticky,
    "sticky+most_proficient": lambda: Sticky(MostProficient()),
}


def register_selector(name: str, factory: Callable[[], AgentSelector]) -> None:
    SELECTORS[name] = factory


def make_selector(name: str) -> AgentSelector:
    try:
        return SELECTORS[name]()
    except KeyError:
        known = ", ".join(sorted(SELECTORS))
        raise ValueError(f"unknown agent selection strategy {name!r} (known: {known})") from None
