"""Second confirmation by SMS code for sensitive operations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from lendline.compliance.otp import OtpOperation
from lendline.compliance.principal import Principal
from lendline.compliance.scope import may_see_customer
from lendline.errors import NotFound
from lendline.store.customers import CustomerRepository
from lendline.web.auth import require
from lendline.web.compliance.deps import current_call_customer, row_scope, service

router = APIRouter(prefix="/api/v1/compliance/otp", tags=["compliance: second confirmation"])


class StartIn(BaseModel):
    operation: OtpOperation
    customer_id: str = Field(min_length=1, max_length=40)
    params: dict[str, Any] = Field(default_factory=dict)


class StartOut(BaseModel):
    challenge_id: str
    operation: str
    phone: str  # masked
    expires_at: datetime
    resend_after_s: int


class ConfirmIn(BaseModel):
    code: str = Field(min_length=4, max_length=10, pattern=r"^\d+$")
    operation: OtpOperation
    params: dict[str, Any] = Field(default_factory=dict)


def _phone(request: Request, p: Principal, customer_id: str) -> str:
    container = request.app.state.container
    with container.db.session() as s:
        repo = CustomerRepository(s, container.field_cipher)
        cust = repo.get(customer_id)
    if not may_see_customer(
        row_scope(p),
        customer_id,
        current_call_customer_id=current_call_customer(request, p.agent_id),
        customer_team_id=cust.team,
    ):
        raise NotFound(f"no customer {customer_id!r}", code="customer_not_found")
    return cust.phone_e164


@router.post("", response_model=StartOut, status_code=201)
def start(
    body: StartIn, request: Request, p: Annotated[Principal, Depends(require("otp.start"))]
) -> StartOut:
    """Send a code to the customer's registered phone, bound to the operation and params."""
    phone = _phone(request, p, body.customer_id)
    r = service(request, "otp").start(
        body.operation,
        body.params,
        phone_e164=phone,
        actor=p.username,
        customer_id=body.customer_id,
    )
    return StartOut(
        challenge_id=r.challenge_id,
        operation=r.operation,
        phone=r.phone_masked,
        expires_at=r.expires_at,
        resend_after_s=r.resend_after_s,
    )


class ResendIn(BaseModel):
    customer_id: str = Field(min_length=1, max_length=40)


@router.post("/{challenge_id}/resend", response_model=StartOut)
def resend(
    challenge_id: str,
    body: ResendIn,
    request: Request,
    p: Annotated[Principal, Depends(require("otp.start"))],
) -> StartOut:
    phone = _phone(request, p, body.customer_id)
    r = service(request, "otp").resend(challenge_id, phone_e164=phone, actor=p.username)
    return StartOut(
        challenge_id=r.challenge_id,
        operation=r.operation,
        phone=r.phone_masked,
        expires_at=r.expires_at,
        resend_after_s=r.resend_after_s,
    )


@router.post("/{challenge_id}/confirm")
def confirm(
    challenge_id: str,
    body: ConfirmIn,
    request: Request,
    p: Annotated[Principal, Depends(require("otp.confirm"))],
) -> dict[str, Any]:
    """Check the code; the operation runs only now (its handler's result is returned)."""
    r = service(request, "otp").confirm(
        challenge_id, body.code, operation=body.operation, params=body.params, actor=p.username
    )
    return {"confirmed": True, "operation": r.operation, "result": r.result}
