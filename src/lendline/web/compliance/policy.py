"""Contact policy, do-not-call list, rate-cap review."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from lendline.compliance.principal import Principal
from lendline.compliance.ratecap import parse_rate
from lendline.store.compliance.rates import RateReview
from lendline.web.auth import require
from lendline.web.compliance.deps import service

router = APIRouter(prefix="/api/v1/compliance", tags=["compliance: policy"])


@router.get("/policy")
def rules(
    request: Request, _p: Annotated[Principal, Depends(require("policy.read"))]
) -> dict[str, object]:
    """The rules in force, each with its source (from ``policy/compliance.yaml``)."""
    pol = service(request, "compliance_policy")
    c = pol.contact
    return {
        "contact": {
            "quiet_hours": [c.quiet_start.strftime("%H:%M"), c.quiet_end.strftime("%H:%M")],
            "daily_unanswered_attempts_max": c.daily_unanswered_attempts_max,
            "daily_connected_collection_max": c.daily_connected_collection_max,
            "weekly_attempts_max": c.weekly_attempts_max,
            "weekly_connected_collection_max": c.weekly_connected_collection_max,
            "do_not_call_purposes": sorted(c.dnc_purposes),
        },
        "rate_cap_margin_pp": str(pol.rate_margin_pp),
        "retention_years": {"default": pol.retention.default_years, **pol.retention.years_by_kind},
        "otp": {
            "digits": pol.otp.digits,
            "ttl_s": pol.otp.ttl_s,
            "max_attempts": pol.otp.max_attempts,
        },
        "sources": pol.sources,
    }


Purpose = Literal["collection", "marketing", "service"]


@router.get("/policy/check")
def check(
    request: Request,
    p: Annotated[Principal, Depends(require("policy.check"))],
    customer_id: Annotated[str, Query(min_length=1, max_length=40)],
    purpose: Purpose,
    at: datetime | None = None,
    party: Literal["debtor", "third_party"] = "debtor",
    discusses_debt: bool = False,
) -> dict[str, object]:
    """May this outbound call be made (now, or at ``at``)? The decision is stored."""
    d = service(request, "contact_policy").decide(
        customer_id,
        purpose=purpose,
        at=at,
        party=party,
        discusses_debt=discusses_debt,
        actor=p.username,
    )
    return d.to_dict()  # type: ignore[no-any-return]


@router.get("/policy/decisions")
def decisions(
    request: Request,
    _p: Annotated[Principal, Depends(require("policy.decisions"))],
    customer_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, object]]:
    rows = service(request, "contact_policy").decisions(customer_id, limit)
    return [
        {
            "customer_id": r.customer_id,
            "at": r.at.isoformat(),
            "purpose": r.purpose,
            "party": r.party,
            "allowed": r.allowed,
            "reasons": [x for x in r.reasons.split(",") if x],
            "next_allowed_at": r.next_allowed_at.isoformat() if r.next_allowed_at else None,
            "actor": r.actor,
        }
        for r in rows
    ]


class DncIn(BaseModel):
    customer_id: str = Field(min_length=1, max_length=40)
    source: Literal["agent", "bot", "customer"] = "agent"
    reason: str = Field("", max_length=200)


@router.post("/dnc", status_code=201)
def dnc_add(
    body: DncIn, request: Request, p: Annotated[Principal, Depends(require("dnc.add"))]
) -> dict[str, object]:
    """Put a customer on the do-not-call list (e.g. they said "别再打了")."""
    service(request, "contact_policy").add_do_not_call(
        body.customer_id, source=body.source, reason=body.reason, actor=p.username
    )
    return {"customer_id": body.customer_id, "do_not_call": True}


@router.delete("/dnc/{customer_id}")
def dnc_remove(
    customer_id: str,
    request: Request,
    p: Annotated[Principal, Depends(require("dnc.remove"))],
    reason: Annotated[str, Query(min_length=4, max_length=200)],
) -> dict[str, object]:
    n = service(request, "contact_policy").remove_do_not_call(
        customer_id, reason=reason, actor=p.username
    )
    return {"customer_id": customer_id, "removed": n}


class RateIn(BaseModel):
    offered_rate_pct: str = Field(description='annual %, as a string: "14.5"')
    loan_id: str | None = None
    contract_rate_pct: str | None = None
    customer_id: str | None = None
    call_id: str | None = None


class RateOut(BaseModel):
    review_id: str
    state: str
    needs_review: bool
    contract_rate_pct: str
    threshold_pct: str
    offered_rate_pct: str | None  # None while held: the customer is not told the rate yet
    disclosable: bool
    maker: str
    checker: str | None

    @classmethod
    def of(cls, r: RateReview) -> RateOut:
        return cls(
            review_id=r.review_id,
            state=r.state,
            needs_review=r.state != "auto_approved",
            contract_rate_pct=str(r.contract_rate_pct),
            threshold_pct=str(r.threshold_pct),
            offered_rate_pct=str(r.offered_rate_pct) if r.disclosable else None,
            disclosable=r.disclosable,
            maker=r.maker,
            checker=r.checker,
        )


@router.post("/rate-reviews", response_model=RateOut, status_code=201)
def rate_submit(
    body: RateIn, request: Request, p: Annotated[Principal, Depends(require("rates.submit"))]
) -> RateOut:
    """Record an offered rate; above contract + margin it is held for a second person."""
    contract: Decimal | None = None
    if body.contract_rate_pct is not None:
        contract = parse_rate(body.contract_rate_pct, field="contract_rate_pct")
    r = service(request, "rate_review").submit(
        offered_rate_pct=parse_rate(body.offered_rate_pct, field="offered_rate_pct"),
        maker=p.username,
        loan_id=body.loan_id,
        contract_rate_pct=contract,
        customer_id=body.customer_id,
        call_id=body.call_id,
    )
    return RateOut.of(r)


@router.get("/rate-reviews", response_model=list[RateOut])
def rate_pending(
    request: Request, _p: Annotated[Principal, Depends(require("rates.read"))]
) -> list[RateOut]:
    return [RateOut.of(r) for r in service(request, "rate_review").pending()]


class DecisionIn(BaseModel):
    approve: bool
    note: str = Field("", max_length=400)


@router.post("/rate-reviews/{review_id}/decision", response_model=RateOut)
def rate_decide(
    review_id: str,
    body: DecisionIn,
    request: Request,
    p: Annotated[Principal, Depends(require("rates.decide"))],
) -> RateOut:
    """Approve or reject a held rate (the checker must not be the maker)."""
    r = service(request, "rate_review").decide(
        review_id, approve=body.approve, checker=p.username, note=body.note
    )
    return RateOut.of(r)
