"""End to end: SIPp calls in, routing queues the unknown caller, baresip (agent01's phone,
registered with digest) is INVITEd, auto-answers and is bridged; the caller's dual-channel
recording has both voices and the call record names the agent and the recording."""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lendline.app import build_container
from lendline.domain.agent import AgentState
from lendline.store.models import AgentRow, AgentSkillRow, CallRow, SkillRow
from tests.conftest import make_settings

from .baresip_agent import HAVE_BARESIP, BaresipAgent, tone_wav
from .conftest import free_udp_port, needs_sipp, run_sipp, sipp_call

pytestmark = [
    needs_sipp,
    pytest.mark.sipp,
    pytest.mark.baresip,
    pytest.mark.skipif(not HAVE_BARESIP, reason="baresip not installed"),
]


def recorded_pcm(container: Any, recording_id: str, rec_dir: Path) -> np.ndarray:
    """The call's recording as (frames, 2) int16: from the vault when one is wired (sealed
    chunks, read back authenticated), else from the WAV sink's file."""
    sink = container.services.get("recording_sink")
    if sink is not None and hasattr(sink, "pcm_chunks"):
        data = b"".join(sink.pcm_chunks(recording_id))
    else:
        (wav_path,) = rec_dir.rglob("*.wav")
        with wave.open(str(wav_path)) as w:
            assert (w.getnchannels(), w.getframerate()) == (2, 8000)
            data = w.readframes(w.getnframes())
    return np.frombuffer(data, dtype=np.int16).reshape(-1, 2)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(float) ** 2))) if len(x) else 0.0


NAMES = {"agent01": "李娜", "agent02": "周杰"}


def _sip_container(
    tmp_path: Path,
    sqlite_url: str,
    agents: tuple[str, ...] = ("agent01",),
    skills: tuple[str, ...] = ("general",),
    **overrides: Any,
) -> Any:
    """A container serving SIP on ephemeral ports, with ``agents`` (general, level 6) whose
    SIP password is ``pw-<agent id>``."""
    settings = make_settings(
        tmp_path,
        sqlite_url,
        sip_enabled=True,
        sip_port=0,
        rtp_port_min=0,
        rtp_port_max=0,
        **overrides,
    )
    c = build_container(settings)
    with c.db.session() as s:
        for skill in skills:
            s.add(SkillRow(name=skill, description=skill))
        s.flush()
        for agent_id in agents:
            row = AgentRow(agent_id=agent_id, name=NAMES[agent_id], sip_user=agent_id)
            row.skills = [AgentSkillRow(skill="general", proficiency=6)]
            s.add(row)
    for agent_id in agents:
        c.services["sip_credentials"].set_password(agent_id, f"pw-{agent_id}")
    return c


async def _wait_registered(c: Any, *agent_ids: str) -> bool:
    registrar = c.services["sip_registrar"]
    for _ in range(50):
        now = c.clock.monotonic()
        if all(registrar.lookup(a, now) for a in agent_ids):
            return True
        await asyncio.sleep(0.1)
    return False


def _long_call(port: int) -> Any:
    """SIPp calls in and talks for a long while (the test ends the call its own way)."""
    mp = str(free_udp_port())
    return run_sipp(
        port, "call_talk_long.xml", "95588", "-mi", "127.0.0.1", "-mp", mp, timeout_s=40
    )


async def _connected_leg(controller: Any) -> Any:
    """The first caller leg once it is bridged to an agent (None if it never is)."""
    leg = None
    for _ in range(100):
        leg = next(iter(controller.by_call.values()), None)
        if leg is not None and leg.connected:
            break
        await asyncio.sleep(0.1)
    return leg


async def test_caller_is_bridged_to_a_baresip_agent(tmp_path: Path, sqlite_url: str) -> None:
    c = _sip_container(
        tmp_path, sqlite_url, recordings_dir=tmp_path / "rec", reservation_timeout_s=8.0
    )
    await c.start()
    server, center = c.services["sip_server"], c.services["call_center"]
    controller = c.services["call_controller"]
    agent = BaresipAgent(
        tmp_path / "baresip",
        "agent01",
        "pw-agent01",
        f"127.0.0.1:{server.port}",
        tone_wav(tmp_path / "agent.wav", 30.0),
    )
    await agent.start()
    try:
        assert await _wait_registered(c, "agent01"), "baresip did not register"
        center.set_agent_state("agent01", AgentState.AVAILABLE)
        leg = await sipp_call(server, controller, "call_talk_to_agent.xml", "95588", timeout_s=30)
        assert leg.agent_id == "agent01" and leg.recording_id
        center.flush()
        call = center.get_call(leg.call_id)
        assert call.state.value == "ended" and call.agent_id == "agent01"
        assert call.context.get("recording_id") == leg.recording_id
        rtp = call.context["quality"]["caller_rtp"]  # RTCP/RTP figures of the caller's leg
        assert rtp["packets_received"] >= 200 and rtp["packets_sent"] > 300  # pcap: 236 packets
        with c.db.session() as s:  # the call record in the database
            row = s.get(CallRow, leg.call_id)
            assert row is not None and row.agent_id == "agent01"
            assert row.recording_id == leg.recording_id and row.quality["caller_rtp"]
            assert row.answered_at is not None and row.ended_at is not None
        pcm = recorded_pcm(c, leg.recording_id, tmp_path / "rec")
    finally:
        out = await agent.stop()
        await c.stop()
    duration_s = len(pcm) / 8000
    assert 7.0 <= duration_s <= 12.0, duration_s  # ACK → BYE is 9 s in the scenario
    tail = pcm[-8000 * 5 :]  # the last 5 s: bridged to the agent
    assert _rms(tail[:, 0]) > 300, "caller channel is silent"
    assert _rms(tail[:, 1]) > 300, f"agent channel is silent\n{out[-2000:]}"


def _dominant_hz(x: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(x.astype(float) * np.hanning(len(x))))
    return float(np.argmax(spectrum) * 8000 / len(x))


async def test_warm_transfer_consults_then_joins_the_colleague(
    tmp_path: Path, sqlite_url: str
) -> None:
    c = _sip_container(
        tmp_path, sqlite_url, ("agent01", "agent02"), recordings_dir=tmp_path / "rec"
    )
    await c.start()
    server, center = c.services["sip_server"], c.services["call_center"]
    controller = c.services["call_controller"]
    phones = [
        BaresipAgent(
            tmp_path / agent_id,
            agent_id,
            f"pw-{agent_id}",
            f"127.0.0.1:{server.port}",
            tone_wav(tmp_path / f"{agent_id}.wav", 40.0, freq_hz=hz),
        )
        for agent_id, hz in (("agent01", 600.0), ("agent02", 1000.0))
    ]
    for p in phones:
        await p.start()
    try:
        await _wait_registered(c, "agent01", "agent02")
        center.set_agent_state("agent01", AgentState.AVAILABLE)
        caller = asyncio.create_task(_long_call(server.port))
        leg = await _connected_leg(controller)
        assert leg is not None and leg.connected and leg.agent_id == "agent01"
        await asyncio.sleep(3.0)  # caller and agent01 talk
        center.set_agent_state("agent02", AgentState.AVAILABLE)
        cons = await controller.transfers.consult(leg.call_id, "agent02")
        assert cons.answered
        await asyncio.sleep(1.5)  # the agents confer; the caller hears music
        await controller.transfers.complete(leg.call_id)
        for _ in range(50):
            if leg.agent_id == "agent02":
                break
            await asyncio.sleep(0.1)
        assert leg.agent_id == "agent02" and leg.connected
        r = await caller
        assert r.rc == 0, r.out
        for _ in range(50):
            if controller.finished:
                break
            await asyncio.sleep(0.1)
        center.flush()
        call = center.get_call(leg.call_id)
        assert call.agent_id == "agent02" and call.state.value == "ended"
        pcm = recorded_pcm(c, leg.recording_id, tmp_path / "rec")
    finally:
        for p in phones:
            await p.stop()
        await c.stop()
    heard = pcm[:, 1]
    assert 560 <= _dominant_hz(heard[8000 * 1 : 8000 * 3]) <= 640  # agent01's 600 Hz
    assert 960 <= _dominant_hz(heard[-8000 * 3 :]) <= 1040  # then agent02's 1000 Hz


async def test_unanswered_phone_returns_the_call_to_the_queue(
    tmp_path: Path, sqlite_url: str
) -> None:
    """The reserved agent's phone rings but nobody answers: at the reservation timeout the
    INVITE is CANCELled and routing puts the call back in its queue (agent not ready)."""
    c = _sip_container(tmp_path, sqlite_url, reservation_timeout_s=2.0, tts_engine="")
    await c.start()
    server, center = c.services["sip_server"], c.services["call_center"]
    controller = c.services["call_controller"]
    phone = BaresipAgent(
        tmp_path / "baresip",
        "agent01",
        "pw-agent01",
        f"127.0.0.1:{server.port}",
        tone_wav(tmp_path / "agent.wav", 10.0),
        answermode="manual",
    )
    await phone.start()
    try:
        await _wait_registered(c, "agent01")
        center.set_agent_state("agent01", AgentState.AVAILABLE)
        caller = asyncio.create_task(
            run_sipp(
                server.port,
                "call_talk_to_agent.xml",
                "95588",
                "-mi",
                "127.0.0.1",
                "-mp",
                str(free_udp_port()),
                timeout_s=30,
            )
        )
        leg = None
        for _ in range(50):
            leg = next(iter(controller.by_call.values()), None)
            if leg is not None and leg.agent_sip is not None:
                break
            await asyncio.sleep(0.1)
        assert leg is not None and leg.agent_sip is not None, "the agent's phone was not rung"
        ringing = leg.agent_sip
        for _ in range(60):
            if ringing.state.value == "terminated":
                break
            await asyncio.sleep(0.1)
        assert ringing.state.value == "terminated"  # CANCELled at the reservation timeout
        assert not leg.connected
        call = center.get_call(leg.call_id)
        assert call.state.value == "queued" and call.agent_id is None
        assert center.agent("agent01").state is AgentState.NOT_READY
        r = await caller
        assert r.rc == 0, r.out
    finally:
        await phone.stop()
        await c.stop()


async def test_agent_phone_holds_resumes_and_blind_transfers_with_refer(
    tmp_path: Path, sqlite_url: str
) -> None:
    """The desktop holds and resumes the caller and sends keys; baresip (agent01) holds and
    resumes (re-INVITEs: music for the caller meanwhile), then
    REFERs the caller to sip:complaints@…: 202, the call goes back to routing in that queue,
    the agent's leg ends and the agent is in wrap-up."""
    c = _sip_container(tmp_path, sqlite_url, skills=("general", "complaints"), tts_engine="")
    await c.start()
    server, center = c.services["sip_server"], c.services["call_center"]
    controller = c.services["call_controller"]
    phone = BaresipAgent(
        tmp_path / "baresip",
        "agent01",
        "pw-agent01",
        f"127.0.0.1:{server.port}",
        tone_wav(tmp_path / "agent.wav", 30.0),
    )
    await phone.start()
    try:
        await _wait_registered(c, "agent01")
        center.set_agent_state("agent01", AgentState.AVAILABLE)
        caller = asyncio.create_task(_long_call(server.port))
        leg = await _connected_leg(controller)
        assert leg is not None and leg.connected
        await asyncio.sleep(1.0)
        # the desktop's hold button (services["media_control"], called from HTTP threads)
        control = c.services["media_control"]
        assert not control.hold("no-such-call", True)  # no SIP leg: the media is untouched
        assert await asyncio.to_thread(control.hold, leg.call_id, True)
        for _ in range(30):
            if leg.agent_on_hold:
                break
            await asyncio.sleep(0.1)
        assert leg.agent_on_hold and leg.media.bridged_to is None
        assert await asyncio.to_thread(control.hold, leg.call_id, False)
        for _ in range(30):
            if not leg.agent_on_hold:
                break
            await asyncio.sleep(0.1)
        assert leg.media.bridged_to is leg.agent_media
        assert await asyncio.to_thread(control.send_dtmf, leg.call_id, "12#")
        reply = await phone.command("hold")  # re-INVITE sendonly: the caller hears music
        for _ in range(30):
            if leg.agent_on_hold:
                break
            await asyncio.sleep(0.1)
        assert leg.agent_on_hold, reply
        reply = await phone.command("resume")  # re-INVITE sendrecv: bridged again
        for _ in range(30):
            if not leg.agent_on_hold:
                break
            await asyncio.sleep(0.1)
        assert not leg.agent_on_hold and leg.media.bridged_to is leg.agent_media, reply
        reply = await phone.command("transfer", f"sip:complaints@127.0.0.1:{server.port}")
        for _ in range(50):
            if not leg.connected:
                break
            await asyncio.sleep(0.1)
        assert not leg.connected and leg.agent_sip is None, reply
        call = center.get_call(leg.call_id)
        assert call.state.value == "queued" and call.queue == "complaints"
        assert center.agent("agent01").state is AgentState.WRAP_UP
        r = await caller
        assert r.rc == 0, r.out
    finally:
        await phone.stop()
        await c.stop()
