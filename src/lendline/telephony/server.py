"""``SipServer``: the user agent, its UDP/TCP transports, the registrar and a call handler.

The server answers OPTIONS (through the user agent), REGISTER (through the registrar, if
one is configured), refuses other out-of-dialog requests with 405, and hands every call
event to its ``CallHandler`` — the call controller in production, a plain answering handler
in the benchmark.
"""

from __future__ import annotations

from typing import Protocol

import structlog

from lendline.clock import Clock, SystemClock
from lendline.telephony.sip.events import (
    Event,
    MessageRejected,
    OutOfDialogRequest,
)
from lendline.telephony.sip.registrar import Registrar
from lendline.telephony.sip.timers import TimerValues
from lendline.telephony.sip.useragent import ALLOW, UserAgent
from lendline.telephony.transport import SipTransport

log = structlog.get_logger(__name__)


class CallHandler(Protocol):
    def attach(self, server: SipServer) -> None:
        """Called once before the server starts."""
        ...

    def on_event(self, event: Event) -> None:
        """Every call-level event of the user agent (IncomingCall, CallEnded …)."""
        ...


class SipServer:
    """One SIP node: ``start()`` binds UDP and TCP on ``host:port`` (0 = ephemeral)."""

    def __init__(
        self,
        handler: CallHandler,
        *,
        host: str = "127.0.0.1",
        port: int = 5080,
        advertised_host: str = "",
        registrar: Registrar | None = None,
        clock: Clock | None = None,
        timers: TimerValues | None = None,
        tcp: bool = True,
    ) -> None:
        self.clock = clock or SystemClock()
        self.ua = UserAgent(advertised_host or host, port, user="lendline", timers=timers)
        self.registrar = registrar
        self.handler = handler
        self.transport = SipTransport(
            self.ua, host, port, on_event=self._on_event, clock=self.clock, tcp=tcp
        )
        handler.attach(self)

    @property
    def port(self) -> int:
        return self.transport.port

    async def start(self) -> None:
        await self.transport.start()
        self.ua.port = self.ua.endpoint.port = self.transport.port
        log.info("sip_listening", host=self.transport.host, port=self.transport.port)

    async def stop(self) -> None:
        await self.transport.stop()

    def pump(self) -> None:
        """Flush what handlers queued on the user agent outside an event (timers, tasks)."""
        self.transport.pump()

    def _on_event(self, ev: Event) -> None:
        if isinstance(ev, OutOfDialogRequest):
            if ev.request.method == "REGISTER" and self.registrar is not None:
                status, reason, headers = self.registrar.handle(
                    ev.request, ev.source, ev.transport, self.clock.monotonic()
                )
                self.ua.respond(ev.tx, status, reason, headers)
            else:
                self.ua.respond(ev.tx, 405, headers={"allow": ALLOW})
            return
        if isinstance(ev, MessageRejected):
            return
        self.handler.on_event(ev)
