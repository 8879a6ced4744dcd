"""asyncio edge of the SIP stack: UDP and TCP sockets around a sans-I/O node.

``SipTransport`` feeds what the sockets receive into ``node.receive``, hands the node's
events to ``on_event``, sends ``node.datagrams_to_send()`` and keeps one loop timer armed at
``node.get_timer()``. Nothing the network sends escapes this loop: the parser answers or
drops malformed input, and any other exception is logged and counted, never raised.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable
from typing import Any, Protocol

import structlog
from prometheus_client import Counter

from lendline.clock import Clock, SystemClock
from lendline.telephony.sip.events import Address, Event, MessageRejected
from lendline.telephony.sip.parser import SipParseError, StreamFramer

log = structlog.get_logger(__name__)

SIP_RX = Counter("lendline_sip_messages_received", "SIP messages received", ["transport"])
SIP_TX = Counter("lendline_sip_messages_sent", "SIP messages sent", ["transport"])
SIP_REJECTED = Counter(
    "lendline_sip_messages_rejected", "malformed SIP messages (answered 400 or dropped)", ["action"]
)
SIP_ERRORS = Counter("lendline_sip_internal_errors", "exceptions caught in the SIP loop")
_RX = {t: SIP_RX.labels(t) for t in ("udp", "tcp")}  # labelled children, looked up once
_TX = {t: SIP_TX.labels(t) for t in ("udp", "tcp")}


class SansIoNode(Protocol):
    def receive(self, data: bytes, source: Address, transport: str, now_s: float) -> None: ...

    def datagrams_to_send(self) -> list[tuple[bytes, Address, str]]: ...

    def get_timer(self) -> float | None: ...

    def handle_timer(self, now_s: float) -> None: ...

    def next_event(self) -> Event | None: ...


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, owner: SipTransport) -> None:
        self.owner = owner

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.owner.feed(data, (addr[0], addr[1]), "udp")

    def error_received(self, exc: Exception) -> None:  # ICMP unreachable: the peer went away
        log.debug("sip_udp_error", error=str(exc))


class _Tcp(asyncio.Protocol):
    def __init__(self, owner: SipTransport) -> None:
        self.owner = owner
        self.framer = StreamFramer()
        self.peer: Address = ("", 0)
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        peer = transport.get_extra_info("peername")
        self.peer = (peer[0], peer[1])
        self.owner.tcp[self.peer] = self

    def data_received(self, data: bytes) -> None:
        try:
            messages = self.framer.feed(data)
        except SipParseError as exc:  # the stream cannot be resynchronised
            SIP_REJECTED.labels("closed").inc()
            log.info("sip_tcp_stream_rejected", peer=self.peer, reason=exc.detail)
            if self.transport is not None:
                self.transport.close()
            return
        for m in messages:
            self.owner.feed(m, self.peer, "tcp")

    def connection_lost(self, exc: Exception | None) -> None:
        if self.owner.tcp.get(self.peer) is self:
            del self.owner.tcp[self.peer]


class SipTransport:
    """Serve ``node`` on UDP and TCP ``host:port`` (port 0 = an ephemeral port for both)."""

    def __init__(
        self,
        node: SansIoNode,
        host: str,
        port: int,
        *,
        on_event: Callable[[Event], None],
        clock: Clock | None = None,
        tcp: bool = True,
    ) -> None:
        self.node = node
        self.host = host
        self.port = port
        self.port_requested = port
        self.on_event = on_event
        self.clock = clock or SystemClock()
        self.want_tcp = tcp
        self.tcp: dict[Address, _Tcp] = {}
        self._udp: asyncio.DatagramTransport | None = None
        self._server: asyncio.Server | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        """Bind UDP, then TCP on the same port; with port 0, retry until a port is free for
        both (the kernel picks the UDP port without looking at TCP)."""
        for attempt in range(20):
            try:
                await self._bind()
                return
            except OSError:
                if self.port_requested != 0 or attempt == 19:
                    raise
                self.port = 0

    async def _bind(self) -> None:
        loop = self._loop = asyncio.get_running_loop()
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        udp, _ = await loop.create_datagram_endpoint(
            lambda: _Udp(self), local_addr=(self.host, self.port), family=family
        )
        self._udp = udp
        self.port = udp.get_extra_info("sockname")[1]
        sock = udp.get_extra_info("socket")
        if sock is not None:
            for opt in (socket.SO_RCVBUF, socket.SO_SNDBUF):
                with contextlib.suppress(OSError):  # capped by net.core.*mem_max
                    sock.setsockopt(socket.SOL_SOCKET, opt, 4 * 1024 * 1024)
        if self.want_tcp:
            try:
                self._server = await loop.create_server(
                    lambda: _Tcp(self), self.host, self.port, family=family, reuse_address=True
                )
            except OSError:
                udp.close()
                self._udp = None
                raise
        self._arm()

    async def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._udp is not None:
            self._udp.close()
        if self._server is not None:
            self._server.close()
            for conn in list(self.tcp.values()):
                if conn.transport is not None:
                    conn.transport.close()
            await self._server.wait_closed()

    # ------------------------------------------------------------------ the loop body
    def feed(self, data: bytes, source: Address, transport: str) -> None:
        _RX[transport].inc()
        try:
            self.node.receive(data, source, transport, self.clock.monotonic())
        except Exception:
            SIP_ERRORS.inc()
            log.exception("sip_receive_failed", source=source, size=len(data))
        self.pump()

    def pump(self) -> None:
        """Deliver events, send what is queued, re-arm the timer. Call after acting on the node."""
        node = self.node
        while (ev := node.next_event()) is not None:  # handlers may queue more events
            if isinstance(ev, MessageRejected):
                SIP_REJECTED.labels("answered" if ev.status else "dropped").inc()
                log.info(
                    "sip_message_rejected", source=ev.source, status=ev.status, reason=ev.reason
                )
            try:
                self.on_event(ev)
            except Exception:
                SIP_ERRORS.inc()
                log.exception("sip_event_handler_failed", event=type(ev).__name__)
        self._flush()
        self._arm()

    def _flush(self) -> None:
        for data, dest, transport in self.node.datagrams_to_send():
            _TX[transport].inc()
            if transport == "udp":
                if self._udp is not None:
                    self._udp.sendto(data, dest)
                continue
            conn = self.tcp.get(dest)
            if conn is not None and conn.transport is not None:
                conn.transport.write(data)
            elif self._loop is not None:
                self._loop.create_task(self._connect_and_send(data, dest))

    async def _connect_and_send(self, data: bytes, dest: Address) -> None:
        assert self._loop is not None
        try:
            _t, proto = await self._loop.create_connection(lambda: _Tcp(self), dest[0], dest[1])
        except OSError as exc:
            log.info("sip_tcp_connect_failed", dest=dest, error=str(exc))
            return
        if proto.transport is not None:
            proto.transport.write(data)

    def _arm(self) -> None:
        at = self.node.get_timer()
        if at is None or self._loop is None:
            return
        if self._timer_at is not None and self._timer_at <= at:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = at
        delay = max(0.0, at - self.clock.monotonic())
        self._timer = self._loop.call_later(delay, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_at = None
        try:
            self.node.handle_timer(self.clock.monotonic())
        except Exception:
            SIP_ERRORS.inc()
            log.exception("sip_timer_failed")
        self.pump()
