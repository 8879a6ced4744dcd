"""The asyncio UDP endpoint of one RTP session (RTP and RTCP muxed on one port, RFC 5761,
plus the classic RTCP port + 1 when the peer uses it).

Malformed datagrams never escape: the session's sans-I/O stream counts and drops them.
"""

from __future__ import annotations

import asyncio
import errno
import random
import socket
from collections.abc import Callable

from lendline.errors import ConfigError

Addr = tuple[str, int]


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, on_datagram: Callable[[bytes, Addr], None]) -> None:
        self._on = on_datagram

    def datagram_received(self, data: bytes, addr: Addr) -> None:
        self._on(data, (addr[0], addr[1]))

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable etc.: the peer may not be listening yet; keep going.
        pass


class RtpEndpoint:
    """Bound UDP sockets: RTP on an even port, RTCP on the next one (also accepted muxed).

    ``send`` goes to ``remote`` (set from SDP, or learnt from the first packet if unset).
    """

    def __init__(
        self,
        transport: asyncio.DatagramTransport,
        rtcp_transport: asyncio.DatagramTransport,
        local: Addr,
    ) -> None:
        self._transport = transport
        self._rtcp_transport = rtcp_transport
        self.local = local
        self.rtcp_port: int = rtcp_transport.get_extra_info("sockname")[1]
        self.remote: Addr | None = None
        self.remote_rtcp: Addr | None = None
        self.rtcp_mux = False

    @classmethod
    async def open(
        cls,
        host: str,
        port_min: int,
        port_max: int,
        on_datagram: Callable[[bytes, Addr], None],
    ) -> RtpEndpoint:
        """Bind an even port in ``[port_min, port_max]`` and the odd one after it
        (``0, 0`` = any free ports, for tests).

        Raises ``ConfigError`` (code ``rtp_ports_exhausted``) when no pair is free.
        """
        loop = asyncio.get_running_loop()
        if port_min == 0:
            candidates = [0]
        else:
            evens = list(range(port_min + port_min % 2, port_max, 2))
            start = random.randrange(len(evens)) if evens else 0
            candidates = evens[start:] + evens[:start]

        async def bind(port: int) -> asyncio.DatagramTransport | None:
            try:
                transport, _ = await loop.create_datagram_endpoint(
                    lambda: _Protocol(on_datagram), local_addr=(host, port), family=socket.AF_INET
                )
            except OSError as exc:
                if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                    return None
                raise
            return transport

        for port in candidates:
            rtp = await bind(port)
            if rtp is None:
                continue
            bound = rtp.get_extra_info("sockname")[1]
            rtcp = await bind(bound + 1 if port else 0)
            if rtcp is None:
                rtp.close()
                continue
            rtp.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 18)
            return cls(rtp, rtcp, (host, bound))
        raise ConfigError(f"no free RTP port in {port_min}..{port_max}", code="rtp_ports_exhausted")

    def set_remote(self, host: str, port: int, *, rtcp_mux: bool = False) -> None:
        self.remote = (host, port)
        self.rtcp_mux = rtcp_mux
        self.remote_rtcp = (host, port) if rtcp_mux else (host, port + 1)

    def send(self, data: bytes) -> None:
        if self.remote is not None and not self._transport.is_closing():
            self._transport.sendto(data, self.remote)

    def send_rtcp(self, data: bytes) -> None:
        if self.remote_rtcp is None:
            return
        transport = self._transport if self.rtcp_mux else self._rtcp_transport
        if not transport.is_closing():
            transport.sendto(data, self.remote_rtcp)

    def close(self) -> None:
        self._transport.close()
        self._rtcp_transport.close()
