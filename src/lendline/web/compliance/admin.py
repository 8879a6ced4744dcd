"""Administration: scoped API keys (shown once), unlocking users, vault master keys."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from lendline.compliance.principal import Principal
from lendline.web.auth import require
from lendline.web.compliance.deps import service

router = APIRouter(prefix="/api/v1/compliance", tags=["compliance: administration"])


class ApiKeyIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    role: str
    scopes: list[str] = Field(min_length=1)
    ttl_days: int | None = Field(None, ge=1, le=3650)


class ApiKeyOut(BaseModel):
    key_id: str
    name: str
    role: str
    scopes: list[str]
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked: bool
    key: str | None = None  # only in the answer to create: shown once, never stored


def _out(i: object, key: str | None = None) -> ApiKeyOut:
    d = {f: getattr(i, f) for f in ApiKeyOut.model_fields if f != "key"}
    d["scopes"] = list(d["scopes"])
    return ApiKeyOut(**d, key=key)


@router.post("/api-keys", response_model=ApiKeyOut, status_code=201)
def create_key(
    body: ApiKeyIn, request: Request, p: Annotated[Principal, Depends(require("apikeys.manage"))]
) -> ApiKeyOut:
    """Create a key for a system; the full key is in this answer only."""
    info, full = service(request, "api_keys").create(
        name=body.name,
        role=body.role,
        scopes=body.scopes,
        actor=p.username,
        ttl_days=body.ttl_days,
    )
    return _out(info, full)


@router.get("/api-keys", response_model=list[ApiKeyOut])
def list_keys(
    request: Request, _p: Annotated[Principal, Depends(require("apikeys.manage"))]
) -> list[ApiKeyOut]:
    return [_out(i) for i in service(request, "api_keys").list()]


@router.delete("/api-keys/{key_id}", status_code=204)
def revoke_key(
    key_id: str, request: Request, p: Annotated[Principal, Depends(require("apikeys.manage"))]
) -> None:
    service(request, "api_keys").revoke(key_id, actor=p.username)


@router.post("/users/{username}/unlock", status_code=204)
def unlock(
    username: str, request: Request, p: Annotated[Principal, Depends(require("users.unlock"))]
) -> None:
    """Lift a login lockout before it runs out."""
    service(request, "login_guard").unlock(username, actor=p.username)


@router.get("/vault/keys")
def vault_keys(
    request: Request, _p: Annotated[Principal, Depends(require("vault.keys"))]
) -> list[dict[str, str]]:
    """Master keys by id and state (active / decrypt_only / retired); never key material."""
    return [
        {"key_id": kid, "state": state, "source": "file" if src.startswith("/") else src}
        for kid, state, src in service(request, "vault").keys.states()
    ]
