"""Outbound campaigns over HTTP: define, target, take paced dials, report outcomes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from lendline.outbound.run import Outcome
from lendline.outbound.service import CampaignService
from lendline.web.auth import Principal, audit, require

router = APIRouter(prefix="/api/v1/campaigns", tags=["outbound"])


def _service(request: Request) -> CampaignService:
    svc: CampaignService = request.app.state.container.services["campaigns"]
    return svc


Service = Annotated[CampaignService, Depends(_service)]


class CampaignIn(BaseModel):
    definition: str = Field(min_length=1, max_length=20_000, description="campaign YAML")


class TargetsIn(BaseModel):
    customer_ids: list[str] | None = Field(
        None, max_length=100_000, description="omit to take every customer the selection matches"
    )


class OutcomeIn(BaseModel):
    customer_id: str = Field(min_length=1, max_length=40)
    outcome: Outcome


def _now(request: Request, at: datetime | None = None) -> datetime:
    """``at`` when the caller gives one (naive means UTC), else the app's clock."""
    if at is None:
        now: datetime = request.app.state.container.clock.now()
        return now
    return at if at.tzinfo else at.replace(tzinfo=UTC)


@router.post("", status_code=201)
def create_campaign(
    body: CampaignIn,
    svc: Service,
    request: Request,
    p: Annotated[Principal, Depends(require("campaigns.manage"))],
) -> dict[str, Any]:
    created = svc.create(body.definition, by=p.username, at=_now(request))
    audit(
        request,
        actor=p.username,
        action="campaigns.create",
        target=created["campaign_id"],
        outcome="ok",
        detail=created["name"],
    )
    return created


@router.get("")
def list_campaigns(
    svc: Service, _p: Annotated[Principal, Depends(require("campaigns.read"))]
) -> list[dict[str, Any]]:
    return svc.list()


@router.get("/{campaign_id}")
def get_campaign(
    campaign_id: str, svc: Service, _p: Annotated[Principal, Depends(require("campaigns.read"))]
) -> dict[str, Any]:
    return svc.summary(campaign_id)


@router.post("/{campaign_id}/targets")
def add_targets(
    campaign_id: str,
    body: TargetsIn,
    svc: Service,
    request: Request,
    _p: Annotated[Principal, Depends(require("campaigns.manage"))],
) -> dict[str, int]:
    return {"added": svc.add_targets(campaign_id, at=_now(request), customer_ids=body.customer_ids)}


@router.post("/{campaign_id}/dials")
def next_dials(
    campaign_id: str,
    svc: Service,
    request: Request,
    _p: Annotated[Principal, Depends(require("campaigns.dial"))],
    at: datetime | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """The dials to make now, paced and each allowed by the contact policy; and the refusals."""
    dials, refusals = svc.next_dials(campaign_id, at=_now(request, at), limit=limit)
    return {
        "dials": [
            {
                "customer_id": d.customer_id,
                "stage": d.stage,
                "kind": d.kind,
                "flow": d.flow,
                "queue": d.queue,
                "attempt": d.attempt,
            }
            for d in dials
        ],
        "refusals": [
            {
                "customer_id": r.customer_id,
                "reasons": list(r.reasons),
                "next_allowed_at": r.next_allowed_at.isoformat(),
            }
            for r in refusals
        ],
    }


@router.post("/{campaign_id}/outcomes")
def record_outcome(
    campaign_id: str,
    body: OutcomeIn,
    svc: Service,
    request: Request,
    _p: Annotated[Principal, Depends(require("campaigns.dial"))],
    at: datetime | None = None,
) -> dict[str, Any]:
    t = svc.record_outcome(campaign_id, body.customer_id, body.outcome, at=_now(request, at))
    return {
        "customer_id": t.customer_id,
        "state": t.state.value,
        "stage": t.stage,
        "attempts": t.attempts,
        "result": t.result,
        "next_at": t.next_at.isoformat(),
    }


@router.post("/{campaign_id}/pause", status_code=204)
def pause(
    campaign_id: str, svc: Service, _p: Annotated[Principal, Depends(require("campaigns.manage"))]
) -> None:
    svc.set_status(campaign_id, "paused")


@router.post("/{campaign_id}/resume", status_code=204)
def resume(
    campaign_id: str, svc: Service, _p: Annotated[Principal, Depends(require("campaigns.manage"))]
) -> None:
    svc.set_status(campaign_id, "active")
