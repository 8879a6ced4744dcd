"""Audit log, unmasking and CSV exports for compliance."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import select

from lendline.compliance.masking import mask_text
from lendline.compliance.principal import Principal
from lendline.store.customers import CustomerRepository
from lendline.store.models_compliance import (
    AuditEntryRow,
    ContactDecisionRow,
    RateReviewRow,
    RecordingRow,
)
from lendline.web.auth import require
from lendline.web.compliance.deps import audit, service

router = APIRouter(prefix="/api/v1/compliance", tags=["compliance: audit and data"])


@router.get("/audit")
def audit_entries(
    request: Request,
    _p: Annotated[Principal, Depends(require("audit.read"))],
    actor: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    """Audit entries, newest first."""
    found = service(request, "audit").search(
        actor=actor, action=action, since=since, until=until, limit=limit
    )
    return [
        {
            "seq": e.seq,
            "at": e.at.isoformat(),
            "actor": e.actor,
            "action": e.action,
            "target": e.target,
            "outcome": e.outcome,
            "detail": e.detail,
            "hash": e.entry_hash,
        }
        for e in found
    ]


@router.get("/audit/verify")
def audit_verify(
    request: Request, p: Annotated[Principal, Depends(require("audit.verify"))]
) -> dict[str, Any]:
    """Walk the whole chain and report the first broken link."""
    report = service(request, "audit").verify()
    out = {
        "ok": report.ok,
        "checked": report.checked,
        "first_broken_seq": report.broken.seq if report.broken else None,
        "problem": report.broken.problem if report.broken else None,
    }
    audit(request, p, "audit.verify", "audit_log", outcome="ok" if report.ok else "broken")
    return out


class UnmaskIn(BaseModel):
    customer_id: str = Field(min_length=1, max_length=40)
    field: Literal["phone", "id_number"]
    reason: str = Field(min_length=4, max_length=200)


@router.post("/unmask")
def unmask(
    body: UnmaskIn, request: Request, p: Annotated[Principal, Depends(require("customers.unmask"))]
) -> dict[str, str]:
    """The clear value of one field of one customer; needs a reason, always audited."""
    container = request.app.state.container
    with container.db.session() as s:
        c = CustomerRepository(s, container.field_cipher).get(body.customer_id)
    audit(
        request,
        p,
        "customers.unmask",
        body.customer_id,
        detail=f"{body.field}; reason: {body.reason}",
    )
    value = c.phone_e164 if body.field == "phone" else c.id_number
    return {"customer_id": body.customer_id, "field": body.field, "value": value}


Dataset = Literal["audit", "recordings", "contact_decisions", "rate_reviews"]
_COLUMNS: dict[str, tuple[Any, list[str]]] = {
    "audit": (AuditEntryRow, ["seq", "at", "actor", "action", "target", "outcome", "detail"]),
    "recordings": (
        RecordingRow,
        [
            "recording_id",
            "call_id",
            "kind",
            "customer_id",
            "agent_id",
            "team_id",
            "caller_masked",
            "loan_id",
            "started_at",
            "ended_at",
            "duration_s",
            "state",
            "retain_until",
            "legal_hold",
        ],
    ),
    "contact_decisions": (
        ContactDecisionRow,
        [
            "id",
            "customer_id",
            "at",
            "purpose",
            "party",
            "allowed",
            "reasons",
            "next_allowed_at",
            "actor",
        ],
    ),
    "rate_reviews": (
        RateReviewRow,
        [
            "review_id",
            "customer_id",
            "loan_id",
            "call_id",
            "contract_rate_pct",
            "offered_rate_pct",
            "threshold_pct",
            "state",
            "maker",
            "checker",
            "created_at",
            "decided_at",
        ],
    ),
}


@router.get("/exports/{dataset}.csv")
def export_csv(
    dataset: Dataset,
    request: Request,
    p: Annotated[Principal, Depends(require("exports.csv"))],
    since: datetime | None = None,
    until: datetime | None = None,
) -> StreamingResponse:
    """A CSV for compliance, masked, watermarked (who, when, export id), audited."""
    container = request.app.state.container
    now = container.clock.now()
    export_id = uuid.uuid4().hex[:12]
    model, cols = _COLUMNS[dataset]
    stamp = (
        f"导出人 exported by {p.username} ({p.role}) at {now.isoformat()} "
        f"export {export_id} — lendline {dataset}; 仅限合规用途 compliance use only"
    )
    audit(request, p, "exports.csv", dataset, detail=f"export {export_id}")
    time_col = {
        "audit": "at",
        "recordings": "started_at",
        "contact_decisions": "at",
        "rate_reviews": "created_at",
    }[dataset]

    def rows() -> Iterator[str]:
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow([f"# {stamp}"])
        w.writerow([*cols, "watermark"])
        q = select(model).order_by(getattr(model, cols[0]))
        if since:
            q = q.where(getattr(model, time_col) >= since)
        if until:
            q = q.where(getattr(model, time_col) < until)
        with container.db.session() as s:
            for r in s.scalars(q.execution_options(yield_per=1000)):
                w.writerow(
                    [
                        mask_text(str(getattr(r, c) if getattr(r, c) is not None else ""))
                        for c in cols
                    ]
                    + [f"{p.username}@{export_id}"]
                )
                if buf.tell() > 64 * 1024:
                    yield buf.getvalue()
                    buf.seek(0)
                    buf.truncate()
        w.writerow([f"# end of export {export_id} by {p.username}"])
        yield buf.getvalue()

    name = f"lendline-{dataset}-{p.username}-{now.strftime('%Y%m%dT%H%M%SZ')}.csv"
    return StreamingResponse(
        rows(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )
