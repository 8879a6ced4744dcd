"""Reports (KPIs by queue, agent, day, hour; CSV) and outbound webhook management."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from lendline.analytics.reports import CallReports
from lendline.errors import ValidationError
from lendline.integration.webhook_store import WebhookStore
from lendline.integration.webhooks import WebhookDispatcher
from lendline.web.auth import Principal, audit, require

router = APIRouter(prefix="/api/v1", tags=["reports"])
Group = Literal["queue", "agent", "day", "hour"]
Read = Annotated[Principal, Depends(require("reports.read"))]
Export = Annotated[Principal, Depends(require("reports.export"))]
Manage = Annotated[Principal, Depends(require("webhooks.manage"))]


def _range(
    request: Request, start: datetime | None, end: datetime | None
) -> tuple[datetime, datetime]:
    end = end or request.app.state.container.clock.now()
    start = start or end - timedelta(days=7)
    for name, v in (("from", start), ("to", end)):
        if v.tzinfo is None:
            raise ValidationError("give a time zone (e.g. 2026-11-27T00:00:00+08:00)", field=name)
    if start >= end:
        raise ValidationError("must be before 'to'", field="from")
    if end - start > timedelta(days=366):
        raise ValidationError("at most 366 days per report", field="from")
    return start.astimezone(UTC), end.astimezone(UTC)


def _reports(request: Request) -> CallReports:
    return request.app.state.container.services["reports"]  # type: ignore[no-any-return]


@router.get("/reports/kpis")
def kpis(
    request: Request,
    p: Read,
    group: Group = "queue",
    start: Annotated[datetime | None, Query(alias="from")] = None,
    end: Annotated[datetime | None, Query(alias="to")] = None,
) -> dict[str, Any]:
    """ASA, AHT, FCR, abandonment, service level, bot containment by ``group``."""
    a, b = _range(request, start, end)
    return _reports(request).kpis(group, a, b)


@router.get("/reports/kpis.csv")
def kpis_csv(
    request: Request,
    p: Export,
    group: Group = "queue",
    start: Annotated[datetime | None, Query(alias="from")] = None,
    end: Annotated[datetime | None, Query(alias="to")] = None,
    lang: Literal["zh-CN", "en"] = "zh-CN",
) -> Response:
    a, b = _range(request, start, end)
    text = _reports(request).csv(group, a, b, language=lang)
    audit(request, actor=p.username, action="reports.export", target=group, outcome="ok")
    name = f"lendline-kpis-{group}-{a:%Y%m%d}-{b:%Y%m%d}.csv"
    return Response(
        "\ufeff" + text,  # BOM: Excel opens the Chinese headers correctly
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


# --- webhooks ------------------------------------------------------------------------
class WebhookIn(BaseModel):
    url: str = Field(min_length=8, max_length=500)
    events: list[str] = Field(default_factory=lambda: ["*"], max_length=30)
    secret: str | None = Field(None, min_length=16, max_length=200)
    description: str = Field("", max_length=200)


def _store(request: Request) -> WebhookStore:
    return request.app.state.container.services["webhook_store"]  # type: ignore[no-any-return]


@router.post("/webhooks", status_code=201)
def add_webhook(body: WebhookIn, request: Request, p: Manage) -> dict[str, Any]:
    """Register an endpoint; the signing secret is returned this once."""
    for e in body.events:
        if e != "*" and not e.startswith("call."):
            raise ValidationError(f"{e!r}: only call.* events are sent", field="events")
    clock = request.app.state.container.clock
    endpoint_id, secret = _store(request).add_endpoint(
        body.url,
        events=body.events,
        secret=body.secret,
        now=clock.now(),
        description=body.description,
    )
    audit(request, actor=p.username, action="webhooks.add", target=endpoint_id, outcome="ok")
    return {"endpoint_id": endpoint_id, "url": body.url, "events": body.events, "secret": secret}


@router.get("/webhooks")
def list_webhooks(request: Request, p: Manage) -> list[dict[str, Any]]:
    return [
        {"endpoint_id": e.endpoint_id, "url": e.url, "events": sorted(e.events), "active": e.active}
        for e in _store(request).endpoints()
    ]


@router.delete("/webhooks/{endpoint_id}", status_code=204)
def remove_webhook(endpoint_id: str, request: Request, p: Manage) -> Response:
    _store(request).remove_endpoint(endpoint_id)
    return Response(status_code=204)


@router.get("/webhooks/deliveries")
def deliveries(
    request: Request,
    p: Manage,
    status: Literal["pending", "delivered", "dead"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    return _store(request).deliveries(status=status, limit=limit)


@router.post("/webhooks/deliveries/{delivery_id}/replay")
def replay(delivery_id: str, request: Request, p: Manage) -> dict[str, str]:
    """Send a delivery again (a dead letter, or one the CRM lost)."""
    clock = request.app.state.container.clock
    _store(request).replay(delivery_id, clock.now())
    dispatcher: WebhookDispatcher = request.app.state.container.services["webhooks"]
    dispatcher.replayed()
    audit(request, actor=p.username, action="webhooks.replay", target=delivery_id, outcome="ok")
    return {"delivery_id": delivery_id, "status": "pending"}
