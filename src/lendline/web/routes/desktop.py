"""HTTP routes of the desktop feature: the /agent and /supervisor pages, the agent's call
controls, the screen pop, the knowledge panel, the wallboard and the push WebSocket.

Call controls go through ``container.services["call_center"]`` (the CallCenter contract);
an agent may act only on the call reserved for or connected to it. Reports and webhooks
live in their own modules, included here.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from fastapi import APIRouter, Depends, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from lendline.compliance.rbac import allowed
from lendline.domain.agent import AgentState
from lendline.domain.call import DISPOSITION_CODES, Call, CallState
from lendline.errors import (
    Conflict,
    Forbidden,
    LendlineError,
    NotFound,
    UpstreamError,
    ValidationError,
)
from lendline.integration.webhooks import CallDispositionRecorded
from lendline.store.models import SkillRow
from lendline.web.auth import Principal, audit, require, websocket_principal
from lendline.web.desktop_feed import WALLBOARD, DesktopFeed, agent_topic
from lendline.web.push import PushHub
from lendline.web.routes import reports

router = APIRouter(tags=["desktop"])
router.include_router(reports.router)
api = APIRouter(prefix="/api/v1/desktop")
PAGES = Path(__file__).resolve().parent.parent / "pages"
_DTMF = re.compile(r"^[0-9*#A-D]{1,32}$")

View = Annotated[Principal, Depends(require("desktop.view"))]
Control = Annotated[Principal, Depends(require("calls.control"))]
StateAct = Annotated[Principal, Depends(require("agents.state"))]
Wallboard = Annotated[Principal, Depends(require("wallboard.view"))]
Supervise = Annotated[Principal, Depends(require("supervise.listen"))]


# --- pages -------------------------------------------------------------------------
def _page(name: str) -> HTMLResponse:
    return HTMLResponse((PAGES / name).read_text(encoding="utf-8"))


@router.get("/agent", response_class=HTMLResponse, include_in_schema=False)
def agent_page() -> HTMLResponse:
    return _page("agent.html")


@router.get("/supervisor", response_class=HTMLResponse, include_in_schema=False)
def supervisor_page() -> HTMLResponse:
    return _page("supervisor.html")


# --- helpers -----------------------------------------------------------------------
def _services(request: Request | WebSocket) -> dict[str, Any]:
    return request.app.state.container.services  # type: ignore[no-any-return]


def call_center(request: Request | WebSocket) -> Any:
    cc = _services(request).get("call_center")
    if cc is None:
        raise UpstreamError(
            "call centre not running (呼叫中心未启动)", code="call_center_unavailable"
        )
    return cc


def feed(request: Request | WebSocket) -> DesktopFeed:
    return _services(request)["desktop_feed"]  # type: ignore[no-any-return]


def _own_agent(p: Principal) -> str:
    if not p.agent_id:
        raise Forbidden("this user is not an agent (非坐席账号)", code="not_an_agent")
    return p.agent_id


def _scoped_call(request: Request, p: Principal, call_id: str) -> Call:
    """The call, if ``p`` may act on it: agents only their own reserved/connected call,
    team leads their team's calls, supervisors any."""
    cc = call_center(request)
    call: Call = cc.get_call(call_id)
    if p.role == "agent" and call.agent_id != p.agent_id:
        # same answer as a missing call: an agent learns nothing about others' calls
        raise NotFound(f"no call {call_id!r}", code="call_not_found")
    if p.role == "team_lead":  # a lead: the calls of its team's agents
        team = cc.agent(call.agent_id).team if call.agent_id else None
        if team is None or team != p.team_id:
            raise NotFound(f"no call {call_id!r}", code="call_not_found")
    return call


def _state_out(snap: Any) -> dict[str, Any]:
    return {
        "agent_id": snap.agent_id,
        "name": snap.name,
        "state": str(snap.state),
        "state_since": snap.state_since.isoformat(),
        "call_id": snap.call_id,
        "team": snap.team,
    }


# --- agent API ---------------------------------------------------------------------
@api.get("/me")
def me(request: Request, p: View) -> dict[str, Any]:
    """Who I am, my state, the call offered or connected to me (with its pop), the codes."""
    out: dict[str, Any] = {
        "username": p.username,
        "role": p.role,
        "agent_id": p.agent_id,
        "language": p.language,
        "dispositions": DISPOSITION_CODES,
        "agent": None,
        "current": None,
        "queues": [],
        "queue_labels": {},
        "push": {"epoch": feed(request).hub.epoch, "last_id": feed(request).hub.seq},
        "supervision_notice": None,
    }
    cc = _services(request).get("call_center")
    if cc is None:
        return out
    out["queues"] = [q.queue for q in cc.queues()]
    out["queue_labels"] = _queue_labels(request)
    if p.agent_id:
        try:
            out["agent"] = _state_out(cc.agent(p.agent_id))
        except NotFound:
            out["agent"] = None
        cur = feed(request).current.get(p.agent_id)
        if cur is not None:
            out["current"] = cur
        # a supervisor whispering or barging (never a silent listen-in): desktop_feed
        out["supervision_notice"] = feed(request).notices.get(p.agent_id)
    return out


def _queue_labels(request: Request) -> dict[str, str]:
    """Each queue's name for people: its skill's description (综合服务 for ``general``);
    queues without one keep their name."""
    with request.app.state.container.db.session() as s:
        return {r.name: r.description for r in s.scalars(select(SkillRow)) if r.description}


class StateIn(BaseModel):
    state: Literal["available", "break", "not_ready", "offline"]


@api.post("/state")
def set_state(body: StateIn, request: Request, p: StateAct) -> dict[str, Any]:
    agent_id = _own_agent(p)
    snap = call_center(request).set_agent_state(agent_id, AgentState(body.state))
    return _state_out(snap)


@api.post("/calls/{call_id}/accept")
def accept(call_id: str, request: Request, p: Control) -> dict[str, Any]:
    agent_id = _own_agent(p)
    return _call_out(call_center(request).accept(call_id, agent_id))


@api.post("/calls/{call_id}/decline")
def decline(call_id: str, request: Request, p: Control) -> dict[str, Any]:
    agent_id = _own_agent(p)
    return _call_out(call_center(request).decline(call_id, agent_id))


@api.post("/calls/{call_id}/hangup")
def hangup(call_id: str, request: Request, p: Control) -> dict[str, Any]:
    _scoped_call(request, p, call_id)
    return _call_out(call_center(request).hangup(call_id))


class TransferIn(BaseModel):
    queue: str | None = Field(None, max_length=40)
    agent_id: str | None = Field(None, max_length=40)
    warm: bool = False
    note: str = Field("", max_length=500)


@api.post("/calls/{call_id}/transfer")
def transfer(call_id: str, body: TransferIn, request: Request, p: Control) -> dict[str, Any]:
    """Blind or warm transfer. Warm: the target agent gets the note and the pop first."""
    if bool(body.queue) == bool(body.agent_id):
        raise ValidationError("give exactly one of queue or agent_id", field="queue")
    call = _scoped_call(request, p, call_id)
    if body.warm or body.note:
        call.context = {
            **call.context,
            "transfer_note": body.note,
            "transferred_by": p.agent_id or p.username,
        }
    if body.warm and body.agent_id:
        feed(request).hub.publish_threadsafe(
            agent_topic(body.agent_id),
            "transfer.consult",
            {"call_id": call_id, "from_agent": p.agent_id, "note": body.note},
        )
    moved = call_center(request).transfer(call_id, queue=body.queue, agent_id=body.agent_id)
    return _call_out(moved)


class HoldIn(BaseModel):
    on: bool = True


@api.post("/calls/{call_id}/hold")
def hold(call_id: str, body: HoldIn, request: Request, p: Control) -> dict[str, Any]:
    call = _scoped_call(request, p, call_id)
    if call.state is not CallState.CONNECTED:
        raise Conflict("only a connected call can be held", code="call_not_connected")
    media = _services(request).get("media_control")
    applied = False
    if media is not None:
        applied = bool(media.hold(call_id, body.on))
    call.context = {**call.context, "on_hold": body.on}
    return {"call_id": call_id, "on_hold": body.on, "media_applied": applied}


class DtmfIn(BaseModel):
    digits: str = Field(min_length=1, max_length=32)


@api.post("/calls/{call_id}/dtmf")
def dtmf(call_id: str, body: DtmfIn, request: Request, p: Control) -> dict[str, Any]:
    if not _DTMF.match(body.digits):
        raise ValidationError("only 0-9 * # A-D", field="digits")
    call = _scoped_call(request, p, call_id)
    if call.state is not CallState.CONNECTED:
        raise Conflict("only a connected call takes DTMF", code="call_not_connected")
    media = _services(request).get("media_control")
    applied = bool(media.send_dtmf(call_id, body.digits)) if media is not None else False
    return {"call_id": call_id, "digits": body.digits, "media_applied": applied}


class DispositionIn(BaseModel):
    code: str = Field(min_length=1, max_length=40)
    note: str = Field("", max_length=2000)
    resolved: bool = True


@api.post("/calls/{call_id}/disposition")
def disposition(call_id: str, body: DispositionIn, request: Request, p: Control) -> dict[str, Any]:
    if body.code not in DISPOSITION_CODES:
        raise ValidationError(f"unknown code; one of {', '.join(DISPOSITION_CODES)}", field="code")
    agent_id = _own_agent(p)
    _scoped_call(request, p, call_id)
    call = call_center(request).set_disposition(
        call_id, agent_id, body.code, body.note, body.resolved
    )
    request.app.state.container.bus.publish(
        CallDispositionRecorded(
            call_id=call_id,
            agent_id=agent_id,
            customer_id=call.customer_id,
            queue=call.queue,
            code=body.code,
            note=body.note,
            resolved=body.resolved,
        )
    )
    return _call_out(call)


@api.get("/calls/{call_id}/pop")
async def pop(call_id: str, request: Request, p: View) -> dict[str, Any]:
    """The screen pop of a call offered or connected to me (supervisors: any call)."""
    call = await asyncio.to_thread(_scoped_call, request, p, call_id)
    f = feed(request)
    if call.agent_id:
        cur = f.current.get(call.agent_id)
        if cur is not None and cur["call_id"] == call_id and cur.get("pop") is not None:
            return cur["pop"]  # type: ignore[no-any-return]
    return await f.assembler.assemble(call, call.agent_id or "")


@api.get("/knowledge")
def knowledge(p: View, intent: Annotated[str, Query(max_length=60)] = "") -> dict[str, Any]:
    kb = _knowledge()
    if intent:
        item = kb.get(intent)
        return {"intent": intent, "items": [item] if item else []}
    return {"intent": "", "items": list(kb.values())}


_KB: dict[str, Any] = {}


def _knowledge() -> dict[str, Any]:
    if not _KB:
        raw = yaml.safe_load((PAGES / "knowledge.yaml").read_text(encoding="utf-8"))
        _KB.update({k: {"intent": k, **v} for k, v in raw.items()})
    return _KB


def _call_out(call: Call) -> dict[str, Any]:
    return {
        "call_id": call.call_id,
        "state": str(call.state),
        "queue": call.queue,
        "agent_id": call.agent_id,
        "disposition": call.disposition.code if call.disposition else None,
    }


# --- supervisor API ----------------------------------------------------------------
@api.get("/wallboard")
def wallboard(request: Request, p: Wallboard) -> dict[str, Any]:
    f = feed(request)
    snap = f.wallboard() or {"queues": [], "agents": []}
    return {**snap, "history": list(f.history), "alerts": list(f.alerts)}


class SuperviseIn(BaseModel):
    mode: Literal["listen", "whisper", "barge"]


@api.post(
    "/calls/{call_id}/supervise",
    responses={202: {"description": "your softphone is ringing; the outcome is pushed"}},
)
def supervise(
    call_id: str, body: SuperviseIn, request: Request, response: Response, p: Supervise
) -> dict[str, Any]:
    """Listen in, whisper to the agent, or barge in: lendline rings your registered softphone
    (SIP user = your user name) and mixes it into the call; call again to change the mode.
    Team leads: their team's calls only. Answers 202 ``ringing`` at once; the outcome
    (``active``, or ended ``not_answered``) is pushed as ``supervision`` on the wallboard
    socket. A mode change on an answered phone answers 200 ``active``."""
    media = _supervision(request, p, call_id)
    action = f"supervise.{body.mode}"
    try:
        result = media.supervise(call_id, supervisor=p.username, mode=body.mode)
    except LendlineError as exc:  # refused ones are audited too, with their reason
        audit(request, actor=p.username, action=action, target=call_id, outcome=exc.code)
        raise
    audit(request, actor=p.username, action=action, target=call_id, outcome="ok")
    if result.get("state") == "ringing":
        response.status_code = 202
    return {"call_id": call_id, "mode": body.mode, "result": result}


@api.delete("/calls/{call_id}/supervise")
def stop_supervising(call_id: str, request: Request, p: Supervise) -> dict[str, Any]:
    """Stop listening in (结束监听): lendline hangs up your phone's leg (BYE; CANCEL if it is
    still ringing); the caller and the agent stay connected. 409 ``call_not_supervised``
    when nobody supervises the call, ``call_supervised_by_other`` when someone else does."""
    media = _supervision(request, p, call_id)
    try:
        result = media.stop(call_id, supervisor=p.username)
    except LendlineError as exc:
        audit(request, actor=p.username, action="supervise.stop", target=call_id, outcome=exc.code)
        raise
    audit(request, actor=p.username, action="supervise.stop", target=call_id, outcome="ok")
    return {"call_id": call_id, "result": result}


def _supervision(request: Request, p: Principal, call_id: str) -> Any:
    """The listen-in service, once ``p`` may see the call (404 ``call_not_found`` if not)."""
    _scoped_call(request, p, call_id)
    media = _services(request).get("media_supervision")
    if media is None:
        raise UpstreamError(
            "listen-in needs the media engine (媒体服务未启用)", code="media_unavailable"
        )
    return media


router.include_router(api)


# --- push socket -------------------------------------------------------------------
@router.websocket("/ws/desktop")
async def desktop_socket(ws: WebSocket) -> None:
    """Authenticated push: ``?epoch=&last_id=`` resumes after a reconnect."""
    p = websocket_principal(ws)
    if p is None or (not allowed(p.role, "desktop.view") and not allowed(p.role, "wallboard.view")):
        await ws.close(code=4401)
        return
    hub: PushHub = _services(ws)["push_hub"]
    topics = set()
    if p.agent_id and allowed(p.role, "desktop.view"):
        topics.add(agent_topic(p.agent_id))
    if allowed(p.role, "wallboard.view"):
        topics.add(WALLBOARD)
    last_raw = ws.query_params.get("last_id")
    last_id = int(last_raw) if last_raw and last_raw.isdigit() else None
    await ws.accept()
    sub, resume = hub.subscribe(
        frozenset(topics), epoch=ws.query_params.get("epoch"), last_id=last_id
    )
    reader: asyncio.Task[None] | None = None
    try:
        await ws.send_json(
            {
                "type": "hello",
                "epoch": hub.epoch,
                "last_id": resume.last_id,
                "resync": resume.resync,
                "username": p.username,
                "agent_id": p.agent_id,
                "topics": sorted(topics),
            }
        )
        for msg in resume.backlog:
            await ws.send_text(msg.wire)
        reader = asyncio.create_task(_drain_client(ws))
        while True:
            getter = asyncio.create_task(sub.queue.get())
            done, _ = await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
            if reader in done:
                getter.cancel()
                break
            item = getter.result()
            if item is None:  # fell too far behind: reload over REST
                await ws.send_json({"type": "resync", "epoch": hub.epoch, "last_id": hub.seq})
                await ws.close(code=4409)
                break
            await ws.send_text(item.wire)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        hub.unsubscribe(sub)
        if reader is not None and not reader.done():
            reader.cancel()


async def _drain_client(ws: WebSocket) -> None:
    """Read (and ignore) what the client sends, e.g. pings; returns when it goes away."""
    try:
        while True:
            await ws.receive_text()
    except (WebSocketDisconnect, RuntimeError):
        return
