"""Outbound webhooks: every call event, HMAC-signed, retried with backoff, dead-lettered.

The bus handler only puts the event on an in-memory queue (routing never waits); the
worker writes one delivery per interested endpoint, then sends what is due. Each POST
carries::

    X-Lendline-Event: call.ended
    X-Lendline-Delivery: d_…                 (idempotency key for the receiver)
    X-Lendline-Signature: t=<unix s>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>

A 2xx answer marks the delivery delivered; anything else (or no answer within
``timeout_s``) is retried after ``backoff_s × 2^(attempt-1)`` (capped at ``max_backoff_s``)
until ``max_attempts``, then the delivery is ``dead`` and can be replayed.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import queue
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import structlog

from lendline.clock import Clock
from lendline.compliance.masking import mask_text
from lendline.domain.events import DomainEvent
from lendline.integration.webhook_store import Due, WebhookStore

log = structlog.get_logger(__name__)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Lendline-Signature`` header value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes, *, now_s: int, tolerance_s: int = 300) -> bool:
    """What a receiver does: recompute the HMAC and refuse stale timestamps (replay guard)."""
    try:
        parts = dict(p.split("=", 1) for p in header.split(","))
        ts = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now_s - ts) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, ts, body), header)


@dataclass(frozen=True, slots=True)
class WebhookPolicy:
    timeout_s: float = 5.0
    max_attempts: int = 8
    backoff_s: float = 2.0
    max_backoff_s: float = 3600.0
    batch: int = 50

    def retry_in_s(self, attempts_done: int) -> float | None:
        if attempts_done >= self.max_attempts:
            return None
        return float(min(self.max_backoff_s, self.backoff_s * 2 ** (attempts_done - 1)))


class WebhookDispatcher:
    def __init__(
        self,
        store: WebhookStore,
        clock: Clock,
        *,
        policy: WebhookPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.policy = policy or WebhookPolicy()
        self._inbox: queue.SimpleQueue[DomainEvent] = queue.SimpleQueue()
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._transport = transport
        self._task: asyncio.Task[None] | None = None
        self.sent = 0

    # --- bus side (any thread) ---
    def on_event(self, event: DomainEvent) -> None:
        if not event.name.startswith("call."):
            return
        self._inbox.put(event)
        self.wake()

    def wake(self) -> None:
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    # --- worker ---
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="webhooks")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        assert self._wake is not None
        async with httpx.AsyncClient(
            timeout=self.policy.timeout_s, transport=self._transport
        ) as client:
            while True:
                try:
                    await self.step(client)
                    wait = await asyncio.to_thread(self._seconds_to_next_due)
                except Exception:
                    log.exception("webhook_worker_failed")
                    wait = 1.0
                self._wake.clear()
                if not self._inbox.empty():
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=wait)

    def _seconds_to_next_due(self) -> float:
        at = self.store.next_due_at()
        if at is None:
            return 60.0
        return max(0.0, min(60.0, (at - self.clock.now()).total_seconds()))

    async def step(self, client: httpx.AsyncClient) -> int:
        """Persist queued events, then send every due delivery once; returns sends made."""
        await asyncio.to_thread(self._persist_inbox)
        due = await asyncio.to_thread(self.store.due, self.clock.now(), self.policy.batch)
        if due:
            await asyncio.gather(*(self._send(client, d) for d in due))
        return len(due)

    def _persist_inbox(self) -> None:
        events: list[DomainEvent] = []
        while not self._inbox.empty():
            events.append(self._inbox.get_nowait())
        if not events:
            return
        endpoints = self.store.endpoints()
        items: list[tuple[str, str, dict[str, Any]]] = []
        for ev in events:
            payload = self.payload(ev)
            items.extend((e.endpoint_id, ev.name, payload) for e in endpoints if e.wants(ev.name))
        if items:
            self.store.enqueue(items, self.clock.now())

    def payload(self, ev: DomainEvent) -> dict[str, Any]:
        data = {k: (mask_text(v) if isinstance(v, str) else v) for k, v in ev.to_dict().items()}
        data.pop("event", None)
        data.pop("at_s", None)
        return {
            "id": "ev_" + uuid.uuid4().hex,
            "event": ev.name,
            "occurred_at": self.clock.now().isoformat(),
            "data": data,
        }

    async def _send(self, client: httpx.AsyncClient, d: Due) -> None:
        body = json.dumps(d.payload, ensure_ascii=False, default=str).encode()
        ts = int(self.clock.now().timestamp())
        headers = {
            "content-type": "application/json",
            "x-lendline-event": d.event,
            "x-lendline-delivery": d.delivery_id,
            "x-lendline-signature": sign(d.endpoint.secret, ts, body),
        }
        status: int | None = None
        try:
            resp = await client.post(d.endpoint.url, content=body, headers=headers)
            status = resp.status_code
            ok, error = 200 <= status < 300, "" if 200 <= status < 300 else f"HTTP {status}"
        except httpx.HTTPError as exc:
            ok, error = False, type(exc).__name__
        retry = None if ok else self.policy.retry_in_s(d.attempts + 1)
        outcome = await asyncio.to_thread(
            self.store.record,
            d.delivery_id,
            ok=ok,
            status=status,
            error=error,
            now=self.clock.now(),
            retry_in_s=retry,
        )
        self.sent += 1
        if outcome == "dead":
            log.warning("webhook_dead_lettered", delivery=d.delivery_id, error=error)
