"""SIPp against an in-process lendline SIP server on ephemeral ports."""

from __future__ import annotations

import asyncio
import shutil
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lendline.telephony.sip.digest import DigestChallenger, ha1
from lendline.telephony.sip.registrar import Registrar

SCENARIOS = Path(__file__).resolve().parents[2] / "sipp"
needs_sipp = pytest.mark.skipif(shutil.which("sipp") is None, reason="SIPp not installed")


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class SippResult:
    rc: int
    out: str


async def run_sipp(
    port: int, scenario: str, service: str, *extra: str, calls: int = 1, timeout_s: float = 20
) -> SippResult:
    """Run one SIPp scenario file from tests/sipp against 127.0.0.1:port."""
    args = [
        "sipp",
        f"127.0.0.1:{port}",
        "-sf",
        str(SCENARIOS / scenario),
        "-s",
        service,
        "-i",
        "127.0.0.1",
        "-p",
        str(free_udp_port()),
        "-m",
        str(calls),
        "-nostdin",
        "-timeout",
        f"{int(timeout_s)}s",
        "-timeout_error",
        "-trace_err",
        "-error_file",
        "/dev/stderr",
        "-max_retrans",
        "5",
        *extra,
    ]
    proc = await asyncio.create_subprocess_exec(
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd="/tmp",
    )
    out, _ = await asyncio.wait_for(proc.communicate(), timeout_s + 10)
    return SippResult(proc.returncode or 0, out.decode(errors="replace")[-3000:])


async def sipp_call(
    server: Any, controller: Any, scenario: str, service: str, *, timeout_s: float
) -> Any:
    """One SIPp call with media (``-mi``/``-mp``) that must pass; the call leg it left.

    Waits up to 5 s for the controller to finish the leg after SIPp has hung up.
    """
    r = await run_sipp(
        server.port,
        scenario,
        service,
        "-mi",
        "127.0.0.1",
        "-mp",
        str(free_udp_port()),
        timeout_s=timeout_s,
    )
    assert r.rc == 0, r.out
    for _ in range(50):
        if controller.finished:
            break
        await asyncio.sleep(0.1)
    (leg,) = controller.finished
    return leg


class MemoryCredentials:
    """An in-memory credential store (agents table stand-in for the pure SIP tests)."""

    def __init__(self, realm: str, users: dict[str, str]) -> None:
        self.table = {
            u: {"MD5": ha1("MD5", u, realm, p), "SHA-256": ha1("SHA-256", u, realm, p)}
            for u, p in users.items()
        }

    def ha1(self, user: str) -> dict[str, str | None]:
        return dict(self.table.get(user, {}))


@pytest.fixture
def registrar() -> Registrar:
    realm = "lendline.local"
    # SIPp 3.6 answers only the first challenge and knows only MD5
    challenger = DigestChallenger(realm, algorithms=("MD5", "SHA-256"))
    return Registrar(MemoryCredentials(realm, {"agent01": "s3cret-01"}), challenger)


@pytest.fixture
async def sip_server(registrar: Registrar) -> AsyncIterator[object]:
    from lendline.telephony.server import SipServer

    from .handlers import ScriptedHandler

    server = SipServer(ScriptedHandler(), host="127.0.0.1", port=0, registrar=registrar)
    await server.start()
    yield server
    await server.stop()
