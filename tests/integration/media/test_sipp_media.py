"""A real SIPp call plays Debian's RFC 4733 and G.711 pcaps into a lendline MediaSession."""

from __future__ import annotations

import asyncio
import shutil
import socket
from pathlib import Path

import numpy as np
import pytest

from lendline.telephony.media import DtmfReceived, MediaScheduler, MediaSession
from lendline.telephony.rtp import g711
from lendline.telephony.rtp.packet import RtpPacket
from tests.unit.media.pcap import udp_payloads

HERE = Path(__file__).parent / "sipp"
PCAPS = Path("/usr/share/sip-tester")
pytestmark = [
    pytest.mark.sipp,
    pytest.mark.skipif(shutil.which("sipp") is None, reason="sipp not installed"),
    pytest.mark.skipif(not (PCAPS / "dtmf_2833_1.pcap").is_file(), reason="no SIPp pcaps"),
]


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _until_listening(port: int, proc: asyncio.Task[tuple[int, str]]) -> None:
    """Wait until a UDP socket is bound to ``port`` on 127.0.0.1 (read from the kernel's
    table, so the check never holds the port itself), or the process that should bind it
    has ended. A fixed sleep let a slow SIPp start after the caller's INVITE was sent."""
    want = f"0100007F:{port:04X}"
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while not proc.done() and loop.time() < deadline:
        table = Path("/proc/net/udp").read_text().splitlines()[1:]
        if any(line.split()[1] == want for line in table if line.strip()):
            return
        await asyncio.sleep(0.02)


async def _run(*args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        "sipp",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        stdin=asyncio.subprocess.DEVNULL,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 40)
    return proc.returncode or 0, out.decode(errors="replace")[-2000:]


async def test_sipp_dtmf_and_speech_pcaps_reach_the_session(
    scheduler: MediaScheduler, tmp_path: Path
) -> None:
    leg = await MediaSession.open(scheduler, call_id="sipp-1")
    uac_media = _free_udp_port()
    leg.connect("127.0.0.1", uac_media, payload_type=8, dtmf_payload_type=101)
    digits: list[str] = []
    leg.subscribe(lambda e: digits.append(e.digit) if isinstance(e, DtmfReceived) else None)
    audio: list[np.ndarray] = []
    leg.add_audio_tap(audio.append)

    uas_xml = tmp_path / "uas.xml"
    uas_xml.write_text(
        (HERE / "uas_fixed_media.xml").read_text().replace("MEDIA_PORT", str(leg.local_port))
    )
    uas_port, uac_port = _free_udp_port(), _free_udp_port()
    common = ("-i", "127.0.0.1", "-m", "1", "-nostdin", "-timeout", "30s")
    uas = asyncio.create_task(_run("-sf", str(uas_xml), "-p", str(uas_port), *common))
    await _until_listening(uas_port, uas)
    rc, out = await _run(
        f"127.0.0.1:{uas_port}",
        "-sf",
        str(HERE / "uac_dtmf_pcaps.xml"),
        "-p",
        str(uac_port),
        "-mp",
        str(uac_media),
        *common,
    )
    uas_rc, uas_out = await uas
    assert rc == 0, out
    assert uas_rc == 0, uas_out
    stats = leg.stats()
    await leg.close()
    assert digits == ["1", "5", "5", "#", "*"]
    assert stats is not None and stats.malformed == 0
    # the A-law speech sample arrived whole and came out of the jitter buffer sample-exact
    # and in order (a starved CPU may make the adaptive buffer drop a few frames for delay)
    sent = [
        g711.decode(RtpPacket.parse(p).payload, "PCMA")
        for _, p in udp_payloads(PCAPS / "g711a.pcap")
    ]
    assert stats.packets_received == len(sent) and stats.packets_lost == 0
    it = iter(sent)
    assert all(any(np.array_equal(a, b) for b in it) for a in audio)  # ordered subsequence
    assert len(audio) >= 0.9 * len(sent)
