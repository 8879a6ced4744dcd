"""HTTP routes of the telephony feature: SIP status, registered phones, SIP passwords (agents'
and supervisors' softphones), and warm transfer (consult, complete, cancel) of live SIP calls.

Thin: parse, call the telephony services, shape the answer. The SIP server runs on the
same event loop as these async handlers.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from lendline.compliance.rbac import Role
from lendline.errors import Conflict, Forbidden
from lendline.web.auth import Principal, require

router = APIRouter(prefix="/api/v1/telephony", tags=["telephony"])


def _services(request: Request) -> dict[str, Any]:
    services: dict[str, Any] = request.app.state.container.services
    if "sip_server" not in services:
        raise Conflict("telephony is not configured", code="telephony_disabled")
    return services


Services = Annotated[dict[str, Any], Depends(_services)]


class PasswordIn(BaseModel):
    password: str = Field(min_length=8, max_length=128, description="the phone's SIP password")


class ConsultIn(BaseModel):
    agent_id: str = Field(min_length=1, max_length=40, description="colleague or supervisor")


@router.get("/status")
def status(
    s: Services, _p: Annotated[Principal, Depends(require("telephony.read"))]
) -> dict[str, Any]:
    """SIP listener, transaction counters, live calls and registered phones."""
    server, controller = s["sip_server"], s["call_controller"]
    registrar = s["sip_registrar"]
    now = server.clock.monotonic()
    return {
        "sip": {
            "host": server.transport.host,
            "port": server.port,
            "advertised_host": server.ua.host,
            "counters": dict(server.ua.endpoint.counters),
            "transactions": len(server.ua.endpoint.transactions),
            "dialogs": len(server.ua.sessions),
        },
        "calls": {"live": len(controller.legs), "finished_recent": len(controller.finished)},
        "registrar": dict(registrar.counters)
        | {"phones": sum(len(registrar.lookup(u, now)) for u in list(registrar.bindings))},
    }


@router.get("/registrations")
def registrations(
    s: Services, _p: Annotated[Principal, Depends(require("telephony.read"))]
) -> list[dict[str, Any]]:
    """Registered phones: SIP user, contact, source address, seconds to expiry."""
    registrar, clock = s["sip_registrar"], s["sip_server"].clock
    now = clock.monotonic()
    return [
        {
            "user": b.user,
            "contact": b.contact,
            "source": f"{b.source[0]}:{b.source[1]}",
            "transport": b.transport,
            "expires_in_s": round(b.expires_at_s - now),
        }
        for user in sorted(registrar.bindings)
        for b in registrar.lookup(user, now)
    ]


@router.put("/agents/{agent_id}/sip-password")
def set_sip_password(
    agent_id: str,
    body: PasswordIn,
    s: Services,
    p: Annotated[Principal, Depends(require("telephony.credentials"))],
) -> dict[str, str]:
    """Set an agent's SIP password (stored as MD5 and SHA-256 HA1s, never in clear).

    Agents may set their own; administrators anyone's.
    """
    if p.role == Role.AGENT and p.agent_id != agent_id:
        raise Forbidden("agents may only set their own SIP password", code="not_own_agent")
    user = s["sip_credentials"].set_password(agent_id, body.password)
    return {"agent_id": agent_id, "sip_user": user}


@router.put("/staff/{username}/sip-password")
def set_staff_sip_password(
    username: str,
    body: PasswordIn,
    s: Services,
    p: Annotated[Principal, Depends(require("telephony.staff_credentials"))],
) -> dict[str, str]:
    """Give a supervisor or team lead a softphone account (SIP user = user name), the phone
    that listen-in / whisper / barge rings. Staff may set their own; administrators anyone's.
    """
    if p.role != Role.ADMIN and p.username != username:
        raise Forbidden("only your own SIP password (只能设置本人的)", code="not_own_user")
    user = s["sip_credentials"].set_staff_password(username, body.password)
    return {"username": username, "sip_user": user}


@router.post("/calls/{call_id}/consult")
async def consult(
    call_id: str,
    body: ConsultIn,
    s: Services,
    _p: Annotated[Principal, Depends(require("calls.control"))],
) -> dict[str, str]:
    """Warm transfer, step 1: caller on music, ring the colleague, bridge the two agents."""
    cons = await s["call_controller"].transfers.consult(call_id, body.agent_id)
    return {"call_id": call_id, "consulting": cons.agent_id, "state": "talking"}


@router.post("/calls/{call_id}/consult/complete")
async def complete_consult(
    call_id: str, s: Services, _p: Annotated[Principal, Depends(require("calls.control"))]
) -> dict[str, str]:
    """Warm transfer, step 2: hand the caller (and the call's context) to the colleague."""
    await s["call_controller"].transfers.complete(call_id)
    return {"call_id": call_id, "state": "transferring"}


@router.delete("/calls/{call_id}/consult")
async def cancel_consult(
    call_id: str, s: Services, _p: Annotated[Principal, Depends(require("calls.control"))]
) -> dict[str, str]:
    """Give up the consultation: the caller returns to the first agent."""
    await s["call_controller"].transfers.cancel(call_id)
    return {"call_id": call_id, "state": "resumed"}
