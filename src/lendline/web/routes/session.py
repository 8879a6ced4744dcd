"""Log in and out; who am I.

Logins pass ``services["login_guard"]`` (per-address throttling → 429 ``too_many_attempts``,
account lockout after repeated failures → 423 ``account_locked``) and are audited.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from lendline.compliance.passwords import verify_password
from lendline.errors import Unauthorized
from lendline.store.users import UserRepository
from lendline.web.auth import COOKIE, SESSION_MAX_AGE_S, Principal, audit, issue_token, require

router = APIRouter(prefix="/api/v1/session", tags=["session"])


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class SessionOut(BaseModel):
    token: str
    username: str
    role: str
    agent_id: str | None
    team_id: str | None
    language: str


@router.post("/login", response_model=SessionOut)
def login(body: LoginIn, request: Request, response: Response) -> SessionOut:
    """Check the password and open a session (cookie + bearer token)."""
    container = request.app.state.container
    guard = container.services.get("login_guard")  # throttling/lockout, set by compliance
    if guard is not None:
        guard.before_attempt(body.username, request.client.host if request.client else "")
    with container.db.session() as s:
        user = UserRepository(s).by_username(body.username)
        ok = bool(user and user.active and verify_password(user.password_hash, body.password))
        p = (
            Principal(
                user.user_id, user.username, user.role, user.agent_id, user.team_id, user.language
            )
            if ok and user is not None
            else None
        )
    if guard is not None:  # in its own transaction: a refused login must still be counted
        guard.after_attempt(body.username, ok)
    if p is None:
        audit(
            request,
            actor=body.username,
            action="session.login",
            target=body.username,
            outcome="failed",
        )
        raise Unauthorized("wrong username or password (用户名或密码错误)", code="login_failed")
    token = issue_token(request, p)
    response.set_cookie(COOKIE, token, max_age=SESSION_MAX_AGE_S, httponly=True, samesite="strict")
    audit(request, actor=p.username, action="session.login", target=p.username, outcome="ok")
    return SessionOut(
        token=token,
        username=p.username,
        role=p.role,
        agent_id=p.agent_id,
        team_id=p.team_id,
        language=p.language,
    )


@router.post("/logout", status_code=204)
def logout(response: Response) -> Response:
    response.delete_cookie(COOKIE)
    response.status_code = 204
    return response


@router.get("/me")
def me(p: Annotated[Principal, Depends(require("session.me"))]) -> dict[str, str | None]:
    return {
        "username": p.username,
        "role": p.role,
        "agent_id": p.agent_id,
        "team_id": p.team_id,
        "language": p.language,
    }
