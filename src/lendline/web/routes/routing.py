"""HTTP routes of the routing feature: calls, queues, agents, rules.

Thin: parse, call the ``CallCenter`` service, shape the answer. Agents may only change
their own state and control (and read) their own calls.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from lendline.calls.rules_source import RulesSource
from lendline.calls.service import EngineCallCenter
from lendline.compliance.masking import mask_phone
from lendline.compliance.rbac import Role
from lendline.domain.agent import AgentState
from lendline.domain.call import Call, CallState
from lendline.domain.identity import normalize_phone
from lendline.errors import Conflict, Forbidden, ValidationError
from lendline.web.auth import Principal, require

router = APIRouter(prefix="/api/v1", tags=["routing"])


def _center(request: Request) -> EngineCallCenter:
    center: EngineCallCenter = request.app.state.container.services["call_center"]
    return center


Center = Annotated[EngineCallCenter, Depends(_center)]


class CallIn(BaseModel):
    customer_id: str | None = Field(None, max_length=40)
    phone: str | None = Field(None, max_length=32, description="caller number (any CN format)")
    reason: str = Field("", max_length=40, description="product, repayment, complaint, …")
    dialed: str = Field("", max_length=64)


class StateIn(BaseModel):
    state: Literal["available", "break", "offline"]


class AgentIn(BaseModel):
    agent_id: str = Field(min_length=1, max_length=40)


class DispositionIn(AgentIn):
    code: str = Field(min_length=1, max_length=40)
    note: str = Field("", max_length=2000)
    resolved: bool = True


class TransferIn(BaseModel):
    queue: str | None = Field(None, max_length=40)
    agent_id: str | None = Field(None, max_length=40)


class CallbackIn(BaseModel):
    phone: str | None = Field(None, max_length=32)


class EnqueueIn(BaseModel):
    queue: str = Field(min_length=1, max_length=40)
    priority: int | None = Field(None, ge=0, le=9)
    context: dict[str, Any] = Field(default_factory=dict)


class RulesIn(BaseModel):
    yaml: str | None = Field(None, max_length=200_000, description="rules text; none = file")


def _own_agent(p: Principal, agent_id: str) -> None:
    if p.role == Role.AGENT and p.agent_id != agent_id:
        raise Forbidden("agents act only for themselves (坐席只能操作自己)", code="not_own_agent")


def call_view(center: EngineCallCenter, call: Call) -> dict[str, Any]:
    out: dict[str, Any] = {
        "call_id": call.call_id,
        "direction": call.direction.value,
        "state": call.state.value,
        "caller": mask_phone(call.caller) if call.caller else "",
        "customer_id": call.customer_id,
        "reason": call.reason,
        "queue": call.queue,
        "agent_id": call.agent_id,
        "priority": call.priority,
        "started_at": call.started_at.isoformat() if call.started_at else None,
        "end_reason": call.end_reason.value if call.end_reason else None,
        "callback_offered": bool(call.context.get("callback_offered")),
        "disposition": asdict(call.disposition) if call.disposition else None,
    }
    try:
        d = center.decision(call.call_id)
        out["decision"] = {
            "target_kind": d.target_kind,
            "target": d.target,
            "priority": d.priority,
            "rule": d.rule,
            "reason": d.reason,
        }
    except Exception:  # an old record without a decision
        out["decision"] = None
    if call.queued_s is not None and call.answered_s is not None:
        out["wait_s"] = round(call.answered_s - call.queued_s, 2)
    if call.state is CallState.QUEUED:
        try:
            pos, ewt = center.position(call.call_id)
            out["position"], out["ewt_s"] = pos, round(ewt, 1)
        except Conflict:
            pass
    return out


def _readable(p: Principal, call: Call) -> None:
    if p.role == Role.AGENT and call.agent_id != p.agent_id:
        raise Forbidden("agents read only their own calls", code="not_own_call")


@router.post("/calls", status_code=201)
def create_call(
    body: CallIn, center: Center, _p: Annotated[Principal, Depends(require("calls.create"))]
) -> dict[str, Any]:
    """Inject a call (tests and demos): by customer id or phone, with a reason."""
    if not body.customer_id and not body.phone:
        raise ValidationError("give customer_id or phone", field="customer_id")
    caller = normalize_phone(body.phone, field="phone") if body.phone else ""
    call = center.inbound_call(
        caller=caller,
        customer_id=body.customer_id,
        reason=body.reason,
        dialed=body.dialed,
        channel="api",
    )
    return call_view(center, call)


@router.get("/calls/{call_id}")
def get_call(
    call_id: str, center: Center, p: Annotated[Principal, Depends(require("calls.read"))]
) -> dict[str, Any]:
    """A call with its routing decision and the reason (which rule matched)."""
    call = center.get_call(call_id)
    _readable(p, call)
    return call_view(center, call)


def _control(p: Principal, agent_id: str) -> None:
    _own_agent(p, agent_id)


@router.post("/calls/{call_id}/accept")
def accept(
    call_id: str,
    body: AgentIn,
    center: Center,
    p: Annotated[Principal, Depends(require("calls.control"))],
) -> dict[str, Any]:
    _control(p, body.agent_id)
    return call_view(center, center.accept(call_id, body.agent_id))


@router.post("/calls/{call_id}/decline")
def decline(
    call_id: str,
    body: AgentIn,
    center: Center,
    p: Annotated[Principal, Depends(require("calls.control"))],
) -> dict[str, Any]:
    _control(p, body.agent_id)
    return call_view(center, center.decline(call_id, body.agent_id))


@router.post("/calls/{call_id}/hangup")
def hangup(
    call_id: str, center: Center, p: Annotated[Principal, Depends(require("calls.control"))]
) -> dict[str, Any]:
    call = center.get_call(call_id)
    if p.role == Role.AGENT:
        _readable(p, call)
    return call_view(center, center.hangup(call_id))


@router.post("/calls/{call_id}/transfer")
def transfer(
    call_id: str,
    body: TransferIn,
    center: Center,
    p: Annotated[Principal, Depends(require("calls.control"))],
) -> dict[str, Any]:
    _readable(p, center.get_call(call_id))
    return call_view(center, center.transfer(call_id, queue=body.queue, agent_id=body.agent_id))


@router.post("/calls/{call_id}/disposition")
def disposition(
    call_id: str,
    body: DispositionIn,
    center: Center,
    p: Annotated[Principal, Depends(require("calls.control"))],
) -> dict[str, Any]:
    _control(p, body.agent_id)
    call = center.set_disposition(call_id, body.agent_id, body.code, body.note, body.resolved)
    return call_view(center, call)


@router.post("/calls/{call_id}/callback")
def callback(
    call_id: str,
    body: CallbackIn,
    center: Center,
    _p: Annotated[Principal, Depends(require("calls.create"))],
) -> dict[str, Any]:
    """The caller accepts a callback: the waiting call ends, a callback keeps its place."""
    return call_view(center, center.request_callback(call_id, body.phone))


@router.post("/calls/{call_id}/enqueue")
def enqueue(
    call_id: str,
    body: EnqueueIn,
    center: Center,
    _p: Annotated[Principal, Depends(require("calls.create"))],
) -> dict[str, Any]:
    call = center.enqueue(call_id, body.queue, priority=body.priority, context=body.context)
    return call_view(center, call)


@router.get("/queues")
def queues(
    center: Center, _p: Annotated[Principal, Depends(require("queues.read"))]
) -> list[dict[str, Any]]:
    """Live state of every queue: waiting, longest wait, EWT (live and Erlang C), agents."""
    out = []
    for snap in center.queues():
        d = asdict(snap)
        erlang = center.ewt_erlang(snap.queue)
        d["ewt_erlang_s"] = round(erlang, 1) if erlang != float("inf") else None
        out.append(d)
    return out


@router.get("/queues/{name}")
def queue(
    name: str, center: Center, _p: Annotated[Principal, Depends(require("queues.read"))]
) -> dict[str, Any]:
    return asdict(center.queue(name))


def _agent_view(snap: Any) -> dict[str, Any]:
    d = asdict(snap)
    d["state"] = snap.state.value
    d["state_since"] = snap.state_since.isoformat()
    return d


@router.get("/agents")
def agents(
    center: Center, _p: Annotated[Principal, Depends(require("agents.read"))]
) -> list[dict[str, Any]]:
    return [_agent_view(a) for a in center.agents()]


@router.get("/agents/{agent_id}")
def agent(
    agent_id: str, center: Center, p: Annotated[Principal, Depends(require("agents.state"))]
) -> dict[str, Any]:
    _own_agent(p, agent_id)
    return _agent_view(center.agent(agent_id))


@router.put("/agents/{agent_id}/state")
def set_state(
    agent_id: str,
    body: StateIn,
    center: Center,
    p: Annotated[Principal, Depends(require("agents.state"))],
) -> dict[str, Any]:
    """available, break or offline (agents: their own state only)."""
    _own_agent(p, agent_id)
    return _agent_view(center.set_agent_state(agent_id, AgentState(body.state)))


def _rules(request: Request) -> RulesSource:
    rules: RulesSource = request.app.state.container.services["routing_rules"]
    return rules


@router.get("/rules")
def get_rules(
    request: Request, _p: Annotated[Principal, Depends(require("rules.read"))]
) -> dict[str, Any]:
    cfg = _rules(request).current
    return {
        "source": cfg.source,
        "version": _rules(request).version,
        "default": str(cfg.default),
        "rules": [
            {
                "name": r.name,
                "when": r.when.source,
                "target": str(r.target),
                "priority": r.priority,
                "reason": r.reason,
            }
            for r in cfg.rules
        ],
        "queues": {n: q.model_dump() for n, q in cfg.queues.items()},
    }


@router.post("/rules/reload")
def reload_rules(
    request: Request,
    _p: Annotated[Principal, Depends(require("rules.reload"))],
    body: RulesIn | None = None,
) -> dict[str, Any]:
    """Re-read the rules file (or apply the given YAML); an invalid one changes nothing."""
    source = _rules(request)
    cfg = source.reload(body.yaml if body else None)
    return {
        "status": "reloaded",
        "source": cfg.source,
        "version": source.version,
        "rules": len(cfg.rules),
    }
