"""A call handler that answers every INVITE at once and writes a call record per call.

Used by ``lendline bench sip`` (signalling and records, no media) and as the simplest
example of a ``CallHandler``. SDP is answered with ``rtp_port`` but no RTP is sent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lendline.clock import Clock, SystemClock
from lendline.errors import RemoteProtocolError
from lendline.telephony.records import CallRecordWriter
from lendline.telephony.sip.events import CallConfirmed, CallEnded, Event, IncomingCall

if TYPE_CHECKING:
    from lendline.telephony.server import SipServer


class AnsweringHandler:
    def __init__(
        self,
        records: CallRecordWriter | None,
        *,
        clock: Clock | None = None,
        rtp_port: int = 40000,
        node_id: str = "node-1",
    ) -> None:
        self.records = records
        self.clock = clock or SystemClock()
        self.rtp_port = rtp_port
        self.node_id = node_id
        self.server: SipServer | None = None
        self.counters = {"answered": 0, "ended": 0, "rejected": 0}

    def attach(self, server: SipServer) -> None:
        self.server = server

    def on_event(self, event: Event) -> None:
        assert self.server is not None
        ua = self.server.ua
        if isinstance(event, IncomingCall):
            call = event.call
            call.context = {"started_at": self.clock.now()}
            try:
                ua.negotiate(call, ua.host, self.rtp_port)
            except RemoteProtocolError as exc:
                self.counters["rejected"] += 1
                ua.reject(call, exc.status, warning=exc.detail)
                return
            ua.answer(call)
            self.counters["answered"] += 1
        elif isinstance(event, CallConfirmed):
            event.call.context["answered_at"] = self.clock.now()
        elif isinstance(event, CallEnded):
            self.counters["ended"] += 1
            ctx: dict[str, Any] = event.call.context or {}
            if self.records is None or "started_at" not in ctx:
                return
            now = self.clock.now()
            answered = ctx.get("answered_at")
            self.records.submit(
                {
                    "call_id": event.call.id[:64],
                    "direction": "inbound",
                    "caller_masked": "",
                    "caller_digest": "",
                    "dialed": event.call.dialed[:64],
                    "state": "ended",
                    "started_at": ctx["started_at"],
                    "answered_at": answered,
                    "ended_at": now,
                    "wait_s": 0.0,
                    "talk_s": (now - answered).total_seconds() if answered else None,
                    "end_reason": "answered" if answered else "abandoned",
                    "reason": event.reason[:40],
                    "routing_reason": "",
                    "disposition_note": "",
                    "quality": {},
                    "context": {},
                    "node_id": self.node_id,
                }
            )
