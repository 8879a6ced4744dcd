"""End to end: SIPp calls in, routing queues the unknown caller, baresip (agent01's phone,
registered with digest) is INVITEd, auto-answers and is bridged; the caller's dual-channel
recording has both voices and the call record names the agent and the recording."""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

import numpy as np
import pytest

from lendline.app import build_container
from lendline.domain.agent import AgentState
from lendline.store.models import AgentRow, AgentSkillRow, SkillRow
from tests.conftest import make_settings

from .baresip_agent import HAVE_BARESIP, BaresipAgent, tone_wav
from .conftest import free_udp_port, needs_sipp, run_sipp

pytestmark = [
    needs_sipp,
    pytest.mark.sipp,
    pytest.mark.baresip,
    pytest.mark.skipif(not HAVE_BARESIP, reason="baresip not installed"),
]


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(float) ** 2))) if len(x) else 0.0


async def test_caller_is_bridged_to_a_baresip_agent(tmp_path: Path, sqlite_url: str) -> None:
    settings = make_settings(
        tmp_path,
        sqlite_url,
        sip_enabled=True,
        sip_port=0,
        rtp_port_min=0,
        rtp_port_max=0,
        recordings_dir=tmp_path / "rec",
        reservation_timeout_s=8.0,
    )
    c = build_container(settings)
    with c.db.session() as s:
        s.add(SkillRow(name="general", description="综合服务"))
        s.flush()
        row = AgentRow(agent_id="agent01", name="李娜", sip_user="agent01")
        row.skills = [AgentSkillRow(skill="general", proficiency=6)]
        s.add(row)
    c.services["sip_credentials"].set_password("agent01", "pw-agent01")
    await c.start()
    server, center = c.services["sip_server"], c.services["call_center"]
    registrar, controller = c.services["sip_registrar"], c.services["call_controller"]
    agent = BaresipAgent(
        tmp_path / "baresip",
        "agent01",
        "pw-agent01",
        f"127.0.0.1:{server.port}",
        tone_wav(tmp_path / "agent.wav", 30.0),
    )
    await agent.start()
    try:
        for _ in range(50):
            if registrar.lookup("agent01", c.clock.monotonic()):
                break
            await asyncio.sleep(0.1)
        assert registrar.lookup("agent01", c.clock.monotonic()), "baresip did not register"
        center.set_agent_state("agent01", AgentState.AVAILABLE)
        r = await run_sipp(
            server.port,
            "call_talk_to_agent.xml",
            "95588",
            "-mi",
            "127.0.0.1",
            "-mp",
            str(free_udp_port()),
            timeout_s=30,
        )
        assert r.rc == 0, r.out
        for _ in range(50):
            if controller.finished:
                break
            await asyncio.sleep(0.1)
        (leg,) = controller.finished
        assert leg.agent_id == "agent01" and leg.recording_id
        center.flush()
        call = center.get_call(leg.call_id)
        assert call.state.value == "ended" and call.agent_id == "agent01"
    finally:
        out = await agent.stop()
        await c.stop()
    (wav_path,) = (tmp_path / "rec").rglob("*.wav")
    with wave.open(str(wav_path)) as w:
        assert (w.getnchannels(), w.getframerate()) == (2, 8000)
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).reshape(-1, 2)
    duration_s = len(pcm) / 8000
    assert 7.0 <= duration_s <= 12.0, duration_s  # ACK → BYE is 9 s in the scenario
    tail = pcm[-8000 * 5 :]  # the last 5 s: bridged to the agent
    assert _rms(tail[:, 0]) > 300, "caller channel is silent"
    assert _rms(tail[:, 1]) > 300, f"agent channel is silent\n{out[-2000:]}"
