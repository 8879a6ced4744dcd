"""A 2xx that arrives after our INVITE gave up (timer B) is ACKed, then BYEd (RFC 3261
§13.2.2.4): SIPp as the callee answers 4 s late, lendline runs with T1 = 50 ms."""

from __future__ import annotations

import asyncio

from lendline.telephony.server import SipServer
from lendline.telephony.sip.events import CallFailed
from lendline.telephony.sip.timers import TimerValues

from .conftest import SCENARIOS, free_udp_port, needs_sipp
from .handlers import ScriptedHandler


@needs_sipp
async def test_a_200_after_timer_b_is_acked_and_byed() -> None:
    handler = ScriptedHandler()
    server = SipServer(handler, host="127.0.0.1", port=0, timers=TimerValues(t1_s=0.05), tcp=False)
    await server.start()
    uas_port = free_udp_port()
    proc = await asyncio.create_subprocess_exec(
        "sipp",
        "-sf",
        str(SCENARIOS / "uas_answer_late.xml"),
        "-i",
        "127.0.0.1",
        "-p",
        str(uas_port),
        "-m",
        "1",
        "-nostdin",
        "-timeout",
        "20s",
        "-timeout_error",
        "-trace_err",
        "-error_file",
        "/dev/stderr",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd="/tmp",
    )
    try:
        await asyncio.sleep(0.5)  # SIPp binds its port
        call = server.ua.invite(
            f"sip:late@127.0.0.1:{uas_port}",
            ("127.0.0.1", uas_port),
            rtp_host="127.0.0.1",
            rtp_port=40000,
        )
        server.pump()
        out, _ = await asyncio.wait_for(proc.communicate(), 30)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await server.stop()
    failed = [e for e in handler.events if isinstance(e, CallFailed)]
    assert failed and failed[0].call is call and failed[0].status == 408  # timer B first
    assert proc.returncode == 0, out.decode(errors="replace")[-2000:]
