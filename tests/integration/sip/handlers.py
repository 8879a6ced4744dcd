"""A call handler whose behaviour is chosen by the dialed user part (for SIPp tests)."""

from __future__ import annotations

import asyncio
from typing import Any

from lendline.errors import RemoteProtocolError
from lendline.telephony.sip.events import CallEnded, CallUpdated, Event, IncomingCall


class ScriptedHandler:
    """``answer`` answers; ``ring`` only rings; ``hangup`` answers then BYEs after 0.3 s;
    ``busy`` refuses with 486. Every event is kept in ``events``."""

    def __init__(self) -> None:
        self.server: Any = None
        self.events: list[Event] = []

    def attach(self, server: Any) -> None:
        self.server = server

    def on_event(self, event: Event) -> None:
        self.events.append(event)
        ua = self.server.ua
        if not isinstance(event, IncomingCall):
            return
        call = event.call
        mode = call.dialed
        if mode == "busy":
            ua.reject(call, 486)
            return
        ua.ring(call)
        if mode == "ring":
            return
        try:
            ua.negotiate(call, "127.0.0.1", 40000)
        except RemoteProtocolError as exc:
            ua.reject(call, exc.status, warning=exc.detail)
            return
        ua.answer(call)
        if mode == "hangup":
            asyncio.get_running_loop().call_later(0.3, self._bye, call)

    def _bye(self, call: Any) -> None:
        self.server.ua.hangup(call)
        self.server.pump()

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


__all__ = ["CallEnded", "CallUpdated", "ScriptedHandler"]
