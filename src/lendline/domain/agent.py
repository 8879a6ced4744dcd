"""Agents, skills and the agent state machine.

State table (``(state, event) -> new state``)::

    offline    --login-->        available
    available  --reserve-->      reserved
    available  --break-->        on_break
    available  --logout-->       offline
    reserved   --accept-->       on_call
    reserved   --timeout-->      not_ready   (missed offer: agent must make itself available again)
    reserved   --decline-->      available
    on_call    --hangup-->       wrap_up
    wrap_up    --ready-->        available
    wrap_up    --break-->        on_break
    on_break   --ready-->        available
    on_break   --logout-->       offline
    not_ready  --ready-->        available
    not_ready  --break-->        on_break
    not_ready  --logout-->       offline
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from lendline.errors import Conflict


class AgentState(StrEnum):
    OFFLINE = "offline"
    AVAILABLE = "available"
    RESERVED = "reserved"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    ON_BREAK = "break"
    NOT_READY = "not_ready"


class AgentEvent(StrEnum):
    LOGIN = "login"
    LOGOUT = "logout"
    RESERVE = "reserve"
    ACCEPT = "accept"
    DECLINE = "decline"
    TIMEOUT = "timeout"
    HANGUP = "hangup"
    READY = "ready"
    BREAK = "break"


_S, _E = AgentState, AgentEvent
AGENT_TRANSITIONS: dict[tuple[AgentState, AgentEvent], AgentState] = {
    (_S.OFFLINE, _E.LOGIN): _S.AVAILABLE,
    (_S.AVAILABLE, _E.RESERVE): _S.RESERVED,
    (_S.AVAILABLE, _E.BREAK): _S.ON_BREAK,
    (_S.AVAILABLE, _E.LOGOUT): _S.OFFLINE,
    (_S.AVAILABLE, _E.READY): _S.AVAILABLE,
    (_S.RESERVED, _E.ACCEPT): _S.ON_CALL,
    (_S.RESERVED, _E.TIMEOUT): _S.NOT_READY,
    (_S.RESERVED, _E.DECLINE): _S.AVAILABLE,
    (_S.ON_CALL, _E.HANGUP): _S.WRAP_UP,
    (_S.WRAP_UP, _E.READY): _S.AVAILABLE,
    (_S.WRAP_UP, _E.BREAK): _S.ON_BREAK,
    (_S.ON_BREAK, _E.READY): _S.AVAILABLE,
    (_S.ON_BREAK, _E.LOGOUT): _S.OFFLINE,
    (_S.NOT_READY, _E.READY): _S.AVAILABLE,
    (_S.NOT_READY, _E.BREAK): _S.ON_BREAK,
    (_S.NOT_READY, _E.LOGOUT): _S.OFFLINE,
    (_S.WRAP_UP, _E.LOGOUT): _S.OFFLINE,
}


def next_agent_state(state: AgentState, event: AgentEvent) -> AgentState:
    """Apply ``event`` to ``state`` or raise ``Conflict`` naming both."""
    try:
        return AGENT_TRANSITIONS[(state, event)]
    except KeyError:
        raise Conflict(
            f"agent in state {state.value!r} cannot {event.value!r}",
            code="invalid_agent_transition",
        ) from None


@dataclass(slots=True)
class Skill:
    name: str  # products, collections, complaints, senior_loans, general, …
    description: str = ""


@dataclass(slots=True)
class Agent:
    agent_id: str
    name: str
    skills: dict[str, int] = field(default_factory=dict)  # skill -> proficiency 1..10
    languages: frozenset[str] = frozenset({"zh-CN"})
    team: str | None = None
    state: AgentState = AgentState.OFFLINE
    state_since_s: float = 0.0  # monotonic seconds when the state began
    sip_user: str | None = None

    def proficiency(self, skill: str) -> int:
        return self.skills.get(skill, 0)

    def apply(self, event: AgentEvent, at_s: float) -> AgentState:
        self.state = next_agent_state(self.state, event)
        self.state_since_s = at_s
        return self.state
