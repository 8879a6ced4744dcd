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
from typing import Any, ClassVar

import httpx
import structlog

from lendline.clock import Clock
from lendline.compliance.masking import mask_text
from lendline.domain.events import DomainEvent
from lendline.integration.webhook_store import Due, WebhookStore

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class CallDispositionRecorded(DomainEvent):
    """The agent's wrap-up of a call (published by the desktop so the lender's CRM gets it)."""

    name: ClassVar[str] = "call.disposition"
    call_id: str = ""
    agent_id: str = ""
    customer_id: str | None = None
    queue: str | None = None
    code: str = ""
    note: str = ""
    resolved: bool = True


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
        self._wake_pending = False
        self._next_due_s: float | None = None  # monotonic time of the earliest retry
        self.sent = 0

    # --- bus side (any thread) ---
    def on_event(self, event: DomainEvent) -> None:
        if not event.name.startswith("call."):
            return
        wanted = self.store.wanted_events()  # cached; None until first loaded
        if wanted is not None and "*" not in wanted and event.name not in wanted:
            return  # nobody subscribed: no row, no wake-up
        self._inbox.put(event)
        self.wake()

    def wake(self) -> None:
        """Wake the worker (any thread); one wake-up however many calls arrive at once."""
        if self._loop is None or self._wake is None or self._wake_pending:
            return
        self._wake_pending = True
        self._loop.call_soon_threadsafe(self._wake.set)

    def replayed(self) -> None:
        """A delivery was set pending again (replay): look for due rows at once."""
        self._next_due_s = None
        self.wake()

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
            await asyncio.to_thread(self.store.refresh_endpoints)
            while True:
                self._wake.clear()
                self._wake_pending = False
                try:
                    if await self.step(client) or self._check_due_s():
                        await asyncio.to_thread(self._seconds_to_next_due)
                    wait = self._remaining_s()
                except Exception:
                    log.exception("webhook_worker_failed")
                    wait = 1.0
                if not self._inbox.empty():
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=wait)

    def _remaining_s(self) -> float:
        if self._next_due_s is None:
            return 0.0
        return max(0.0, min(60.0, self._next_due_s - self.clock.monotonic()))

    def _check_due_s(self) -> bool:
        return self._next_due_s is None or self.clock.monotonic() >= self._next_due_s

    def _seconds_to_next_due(self) -> float:
        at = self.store.next_due_at()
        wait = 60.0 if at is None else max(0.0, min(60.0, (at - self.clock.now()).total_seconds()))
        self._next_due_s = self.clock.monotonic() + wait
        return wait

    async def step(self, client: httpx.AsyncClient) -> int:
        """Persist queued events, then send every due delivery once; returns rows touched."""
        written = await asyncio.to_thread(self._persist_inbox)
        if not written and not self._check_due_s():
            return 0  # nothing new and no retry due yet: no query
        due = await asyncio.to_thread(self.store.due, self.clock.now(), self.policy.batch)
        if due:
            await asyncio.gather(*(self._send(client, d) for d in due))
        return len(due) + written

    def _persist_inbox(self) -> int:
        events: list[DomainEvent] = []
        while not self._inbox.empty():
            events.append(self._inbox.get_nowait())
        if not events:
            return 0
        endpoints = self.store.active_endpoints()
        items: list[tuple[str, str, dict[str, Any]]] = []
        for ev in events:
            payload = self.payload(ev)
            items.extend((e.endpoint_id, ev.name, payload) for e in endpoints if e.wants(ev.name))
        if items:
            self.store.enqueue(items, self.clock.now())
        return len(items)

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
