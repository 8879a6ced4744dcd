"""Repository of webhook endpoints and deliveries (``store.models_desktop``)."""

from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from lendline.compliance.fieldcrypt import FieldCipher
from lendline.errors import NotFound, ValidationError
from lendline.store.base import Database
from lendline.store.models_desktop import WebhookDeliveryRow, WebhookEndpointRow

_CTX = b"webhook_secret"


@dataclass(frozen=True, slots=True)
class Endpoint:
    endpoint_id: str
    url: str
    secret: str
    events: frozenset[str]  # {"*"} = every call event
    active: bool

    def wants(self, event: str) -> bool:
        return self.active and ("*" in self.events or event in self.events)


@dataclass(frozen=True, slots=True)
class Due:
    delivery_id: str
    endpoint: Endpoint
    event: str
    payload: dict[str, Any]
    attempts: int


class WebhookStore:
    """Endpoints are cached in memory (refreshed on every change made here and every
    ``refresh_s``), so a call event costs no query when nobody subscribed to it."""

    def __init__(self, db: Database, cipher: FieldCipher, *, refresh_s: float = 30.0) -> None:
        self.db = db
        self.cipher = cipher
        self.refresh_s = refresh_s
        self._cache: list[Endpoint] | None = None
        self._cached_at = 0.0

    def refresh_endpoints(self) -> list[Endpoint]:
        self._cache = [e for e in self.endpoints() if e.active]
        self._cached_at = time.monotonic()
        return self._cache

    def active_endpoints(self) -> list[Endpoint]:
        if self._cache is None or time.monotonic() - self._cached_at > self.refresh_s:
            return self.refresh_endpoints()
        return self._cache

    def wanted_events(self) -> frozenset[str] | None:
        """Event names some active endpoint wants ({"*"} = all); None before the first load."""
        cache = self._cache
        if cache is None or time.monotonic() - self._cached_at > self.refresh_s:
            return None
        return frozenset().union(*(e.events for e in cache)) if cache else frozenset()

    def add_endpoint(
        self,
        url: str,
        *,
        events: list[str],
        secret: str | None,
        now: datetime,
        description: str = "",
    ) -> tuple[str, str]:
        """Register an endpoint; returns (endpoint_id, secret). The secret is shown once."""
        if not url.startswith(("http://", "https://")):
            raise ValidationError("must be an http:// or https:// URL", field="url")
        secret = secret or secrets.token_urlsafe(32)
        endpoint_id = "wh_" + uuid.uuid4().hex[:12]
        with self.db.session() as s:
            s.add(
                WebhookEndpointRow(
                    endpoint_id=endpoint_id,
                    url=url,
                    secret_cipher=self.cipher.encrypt(secret, context=_CTX),
                    events=",".join(sorted(set(events))) or "*",
                    active=True,
                    description=description,
                    created_at=now,
                )
            )
        self.refresh_endpoints()
        return endpoint_id, secret

    def endpoints(self) -> list[Endpoint]:
        with self.db.session() as s:
            rows = s.scalars(select(WebhookEndpointRow).order_by(WebhookEndpointRow.created_at))
            return [self._endpoint(r) for r in rows]

    def remove_endpoint(self, endpoint_id: str) -> None:
        with self.db.session() as s:
            row = s.get(WebhookEndpointRow, endpoint_id)
            if row is None:
                raise NotFound(f"no webhook {endpoint_id!r}", code="webhook_not_found")
            row.active = False
        self.refresh_endpoints()

    def _endpoint(self, r: WebhookEndpointRow) -> Endpoint:
        return Endpoint(
            r.endpoint_id,
            r.url,
            self.cipher.decrypt(r.secret_cipher, context=_CTX),
            frozenset(e for e in r.events.split(",") if e),
            r.active,
        )

    def enqueue(self, items: list[tuple[str, str, dict[str, Any]]], now: datetime) -> int:
        """Write one pending delivery per (endpoint_id, event, payload)."""
        with self.db.session() as s:
            for endpoint_id, event, payload in items:
                s.add(
                    WebhookDeliveryRow(
                        delivery_id="d_" + uuid.uuid4().hex,
                        endpoint_id=endpoint_id,
                        event=event,
                        payload=payload,
                        status="pending",
                        attempts=0,
                        next_attempt_at=now,
                        last_error="",
                        created_at=now,
                    )
                )
        return len(items)

    def due(self, now: datetime, limit: int = 50) -> list[Due]:
        with self.db.session() as s:
            rows = s.scalars(
                select(WebhookDeliveryRow)
                .where(WebhookDeliveryRow.status == "pending")
                .where(WebhookDeliveryRow.next_attempt_at <= now)
                .order_by(WebhookDeliveryRow.next_attempt_at)
                .limit(limit)
            ).all()
            out: list[Due] = []
            for r in rows:
                ep = s.get(WebhookEndpointRow, r.endpoint_id)
                if ep is None or not ep.active:
                    r.status, r.last_error = "dead", "endpoint removed"
                    continue
                out.append(Due(r.delivery_id, self._endpoint(ep), r.event, r.payload, r.attempts))
            return out

    def next_due_at(self) -> datetime | None:
        with self.db.session() as s:
            return s.scalar(
                select(WebhookDeliveryRow.next_attempt_at)
                .where(WebhookDeliveryRow.status == "pending")
                .order_by(WebhookDeliveryRow.next_attempt_at)
                .limit(1)
            )

    def record(
        self,
        delivery_id: str,
        *,
        ok: bool,
        status: int | None,
        error: str,
        now: datetime,
        retry_in_s: float | None,
    ) -> str:
        """Store an attempt's outcome; ``retry_in_s`` None after the last attempt → dead."""
        with self.db.session() as s:
            row = s.get(WebhookDeliveryRow, delivery_id)
            if row is None:
                return "gone"
            row.attempts += 1
            row.last_status = status
            row.last_error = error[:500]
            if ok:
                row.status = "delivered"
                row.delivered_at = now
            elif retry_in_s is None:
                row.status = "dead"
            else:
                row.next_attempt_at = now + timedelta(seconds=retry_in_s)
            return row.status

    def replay(self, delivery_id: str, now: datetime) -> None:
        with self.db.session() as s:
            row = s.get(WebhookDeliveryRow, delivery_id)
            if row is None:
                raise NotFound(f"no delivery {delivery_id!r}", code="delivery_not_found")
            row.status = "pending"
            row.attempts = 0
            row.next_attempt_at = now
            row.last_error = ""

    def deliveries(self, *, status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        with self.db.session() as s:
            q = select(WebhookDeliveryRow).order_by(WebhookDeliveryRow.created_at.desc())
            if status:
                q = q.where(WebhookDeliveryRow.status == status)
            return [
                {
                    "delivery_id": r.delivery_id,
                    "endpoint_id": r.endpoint_id,
                    "event": r.event,
                    "status": r.status,
                    "attempts": r.attempts,
                    "last_status": r.last_status,
                    "last_error": r.last_error,
                    "created_at": r.created_at.isoformat(),
                    "delivered_at": r.delivered_at.isoformat() if r.delivered_at else None,
                }
                for r in s.scalars(q.limit(limit))
            ]
