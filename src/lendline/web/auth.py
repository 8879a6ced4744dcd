"""Authentication and authorisation at the HTTP edge.

A principal is found from a signed session token, sent as the ``lendline_session`` cookie
(web pages) or ``Authorization: Bearer <token>`` (scripts, WebSocket ``?token=``).
``require(action)`` checks the role × action table in ``compliance.rbac`` and refuses with
403 ``forbidden``; refusals go to the audit log when an auditor is registered
(``container.services["audit"]`` with ``record(actor=, action=, target=, outcome=, detail=)``).
API keys (``X-API-Key: ll_<id>_<secret>``) are resolved by ``services["api_keys"]`` and are
limited to their scopes. ``Principal`` lives in ``compliance.principal`` (re-exported here).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request, WebSocket
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from lendline.compliance.principal import Principal
from lendline.compliance.rbac import AUDITED_VIEWS, allowed
from lendline.errors import Forbidden, Unauthorized

COOKIE = "lendline_session"
SESSION_MAX_AGE_S = 12 * 3600


def _serializer(request: Request | WebSocket) -> URLSafeTimedSerializer:
    container = request.app.state.container
    secret = container.settings.session_secret
    if not secret:
        secret = container.services.setdefault("_session_secret", secrets.token_urlsafe(32))
    return URLSafeTimedSerializer(secret, salt="lendline-session")


def issue_token(request: Request | WebSocket, p: Principal) -> str:
    return _serializer(request).dumps(
        {
            "u": p.user_id,
            "n": p.username,
            "r": p.role,
            "a": p.agent_id,
            "t": p.team_id,
            "l": p.language,
        }
    )


def principal_from_token(request: Request | WebSocket, token: str) -> Principal | None:
    try:
        d = _serializer(request).loads(token, max_age=SESSION_MAX_AGE_S)
    except (BadSignature, SignatureExpired):
        return None
    return Principal(d["u"], d["n"], d["r"], d.get("a"), d.get("t"), d.get("l", "zh-CN"))


def _token_of(request: Request | WebSocket) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    token = request.cookies.get(COOKIE)
    if token:
        return token
    return request.query_params.get("token")


def current_principal(request: Request) -> Principal:
    """The caller, or 401 ``unauthorized``. API keys are resolved by ``services["api_keys"]``."""
    container = request.app.state.container
    api_keys = container.services.get("api_keys")
    key = request.headers.get("x-api-key")
    if key and api_keys is not None:
        p = api_keys.authenticate(key)
        if p is not None:
            return p  # type: ignore[no-any-return]
        raise Unauthorized("invalid API key", code="invalid_api_key")
    token = _token_of(request)
    if token:
        p2 = principal_from_token(request, token)
        if p2 is not None:
            guard = container.services.get("login_guard")
            if guard is not None and not guard.session_valid(p2.user_id, p2.role):
                raise Unauthorized(
                    "the account was disabled or its role changed; log in again",
                    code="session_revoked",
                )
            return p2
    raise Unauthorized("log in first (登录后再试)", code="unauthorized")


def websocket_principal(ws: WebSocket) -> Principal | None:
    token = _token_of(ws)
    return principal_from_token(ws, token) if token else None


def audit(
    request: Request, *, actor: str, action: str, target: str, outcome: str, detail: str = ""
) -> None:
    auditor: Any = request.app.state.container.services.get("audit")
    if auditor is not None:
        auditor.record(actor=actor, action=action, target=target, outcome=outcome, detail=detail)


def require(action: str) -> Callable[..., Principal]:
    """A dependency: the current principal, if its role may perform ``action``; else 403.

    An API key must also carry ``action`` in its scopes. The action is kept on the
    dependency (``.action``) so the role-matrix test can enumerate every route's action.
    """

    def dependency(
        request: Request, p: Annotated[Principal, Depends(current_principal)]
    ) -> Principal:
        scoped_out = p.scopes is not None and action not in p.scopes
        if not allowed(p.role, action) or scoped_out:
            why = f"API key lacks scope {action}" if scoped_out else f"role {p.role}"
            audit(
                request,
                actor=p.username,
                action=action,
                target=f"{request.method} {request.url.path}",
                outcome="denied",
                detail=why,
            )
            raise Forbidden(f"{why} may not {action}", code="forbidden")
        if action in AUDITED_VIEWS:
            query = str(request.url.query)
            audit(
                request,
                actor=p.username,
                action=action,
                target=f"{request.method} {request.url.path}",
                outcome="viewed",
                detail=query[:200],
            )
        return p

    dependency.__name__ = f"require_{action.replace('.', '_')}"
    dependency.action = action  # type: ignore[attr-defined]
    return dependency


__all__ = ["COOKIE", "Principal", "audit", "current_principal", "require"]

CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
