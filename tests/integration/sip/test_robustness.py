"""Garbage, oversized and truncated input over real sockets: answered or dropped, and the
server keeps taking calls. The rejections are counted in the Prometheus metrics."""

from __future__ import annotations

import asyncio
import random
import socket
from typing import Any

import pytest
from prometheus_client import REGISTRY

from .conftest import needs_sipp, run_sipp

pytestmark = [needs_sipp, pytest.mark.sipp]

BAD_CSEQ = (
    b"OPTIONS sip:ivr@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bKx\r\n"
    b"From: <sip:a@b>;tag=1\r\nTo: <sip:ivr@127.0.0.1>\r\nCall-ID: bad-1\r\nCSeq: 1 INVITE\r\n\r\n"
)


def _rejected(action: str) -> float:
    return (
        REGISTRY.get_sample_value("lendline_sip_messages_rejected_total", {"action": action}) or 0.0
    )


async def test_garbage_is_answered_or_dropped_and_calls_go_on(sip_server: Any) -> None:
    port = sip_server.port
    answered0, dropped0 = _rejected("answered"), _rejected("dropped")
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.setblocking(False)
    me = sock.getsockname()[1]
    junk = [
        random.Random(20261127).randbytes(300),  # the same junk every run
        b"INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP x;branch=z9hG4bK1\r\n",  # truncated
        b"OPTIONS sip:a@b SIP/2.0\r\n" + b"X: " + b"y" * 60000 + b"\r\n\r\n",  # oversized
        b"\x00" * 64,
    ]
    for data in junk:
        sock.sendto(data, ("127.0.0.1", port))
    sock.sendto(BAD_CSEQ.replace(b"{port}", str(me).encode()), ("127.0.0.1", port))
    loop = asyncio.get_running_loop()
    reply = await asyncio.wait_for(loop.sock_recv(sock, 4096), 5)
    assert reply.startswith(b"SIP/2.0 400 Bad Request (CSeq method INVITE does not match OPTIONS)")
    sock.close()
    # TCP: a stream without Content-Length is cut off, the listener survives
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GARBAGE\r\n\r\nMORE GARBAGE\r\n\r\n")
    await writer.drain()
    assert await asyncio.wait_for(reader.read(), 5) == b""
    writer.close()
    assert _rejected("answered") >= answered0 + 1
    assert _rejected("dropped") >= dropped0 + 4
    r = await run_sipp(port, "call_caller_hangs_up.xml", "answer", calls=2)
    assert r.rc == 0, r.out


async def test_tcp_call(sip_server: Any) -> None:
    r = await run_sipp(sip_server.port, "call_caller_hangs_up.xml", "answer", "-t", "t1")
    assert r.rc == 0, r.out
