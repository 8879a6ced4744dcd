"""Row scoping on top of the role × action table (pure).

Agents see only their own calls and recordings, and the customer of the call they are on;
team leads see their team; supervisors, compliance officers and admins see everything
(compliance officers read-only: the action table gives them no write on business data).
"""

from __future__ import annotations

from dataclasses import dataclass

from lendline.compliance.rbac import Role


@dataclass(frozen=True, slots=True)
class RowScope:
    """What a principal may see: ``None`` in a field means no restriction on it."""

    agent_id: str | None = None
    team_id: str | None = None
    nothing: bool = False  # an agent or lead without an agent/team id sees nothing

    @property
    def unrestricted(self) -> bool:
        return not self.nothing and self.agent_id is None and self.team_id is None


def scope_for(role: str, agent_id: str | None, team_id: str | None) -> RowScope:
    if role == Role.AGENT:
        return RowScope(agent_id=agent_id) if agent_id else RowScope(nothing=True)
    if role == Role.TEAM_LEAD:
        return RowScope(team_id=team_id) if team_id else RowScope(nothing=True)
    return RowScope()


def may_see_row(scope: RowScope, row_agent_id: str | None, row_team_id: str | None) -> bool:
    if scope.nothing:
        return False
    if scope.agent_id is not None and row_agent_id != scope.agent_id:
        return False
    return not (scope.team_id is not None and row_team_id != scope.team_id)


def may_see_customer(
    scope: RowScope,
    customer_id: str,
    *,
    current_call_customer_id: str | None,
    customer_team_id: str | None,
) -> bool:
    """An agent: only the customer of its current call; a lead: its team's customers."""
    if scope.nothing:
        return False
    if scope.agent_id is not None:
        return current_call_customer_id is not None and customer_id == current_call_customer_id
    if scope.team_id is not None:
        return customer_team_id == scope.team_id
    return True
