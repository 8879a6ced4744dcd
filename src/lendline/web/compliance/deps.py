"""Shared helpers of the compliance routes: services from the container, row scope."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy import select

from lendline.compliance.principal import Principal
from lendline.compliance.scope import RowScope, scope_for
from lendline.errors import LendlineError
from lendline.store.models import CallRow


def service(request: Request, name: str) -> Any:
    sv = request.app.state.container.services.get(name)
    if sv is None:
        raise LendlineError(f"service {name} is not configured", code="not_configured")
    return sv


def row_scope(p: Principal) -> RowScope:
    return scope_for(p.role, p.agent_id, p.team_id)


def current_call_customer(request: Request, agent_id: str | None) -> str | None:
    """The customer of the call the agent is on (ringing or connected), if any."""
    if not agent_id:
        return None
    center = request.app.state.container.services.get("call_center")
    if center is not None:
        try:
            snap = center.agent(agent_id)
            if snap.call_id:
                return center.get_call(snap.call_id).customer_id  # type: ignore[no-any-return]
        except LendlineError:
            pass
    with request.app.state.container.db.session() as s:
        return s.scalars(  # type: ignore[no-any-return]
            select(CallRow.customer_id)
            .where(CallRow.agent_id == agent_id, CallRow.state.in_(("ringing", "connected")))
            .order_by(CallRow.started_at.desc())
            .limit(1)
        ).first()


def audit(request: Request, p: Principal, action: str, target: str, **kw: str) -> None:
    service(request, "audit").record(actor=p.username, action=action, target=target, **kw)
