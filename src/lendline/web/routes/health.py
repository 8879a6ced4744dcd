"""Liveness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

router = APIRouter()


@router.get("/healthz", tags=["ops"])
def healthz(request: Request) -> dict[str, object]:
    """200 when the process serves and the database answers."""
    container = request.app.state.container
    with container.db.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return {"status": "ok", "node": container.settings.node_id}


@router.get("/metrics", tags=["ops"])
def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
