"""MediaSession over real UDP on loopback: play, collect, barge-in, record, bridge, hold."""

from __future__ import annotations

import asyncio
import socket
import wave
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from lendline.domain.recording import RecordingMeta
from lendline.telephony.media import (
    DtmfReceived,
    MediaScheduler,
    MediaSession,
    MediaTimeout,
    ToneSource,
    WavRecordingSink,
)
from lendline.telephony.media.hold import MusicOnHold, hold_with_announcements
from tests.integration.media.conftest import dominant_hz


def _read_stereo(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (2, 2, 8000)
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").reshape(-1, 2)
    return x[:, 0], x[:, 1]


async def test_collect_dtmf_with_barge_in_and_terminator(pair) -> None:
    a, b = pair
    events: list[object] = []
    a.subscribe(events.append)

    async def caller() -> None:
        await asyncio.sleep(0.3)
        b.send_dtmf("42#")

    task = asyncio.create_task(caller())
    result = await a.collect_dtmf(max_digits=5, prompt=ToneSource(440, 5.0), timeout_s=3)
    await task
    assert (result.digits, result.reason, result.terminator) == ("42", "terminator", "#")
    assert [e.digit for e in events if isinstance(e, DtmfReceived)] == ["4", "2", "#"]
    assert not a.playing  # the 5 s prompt was cut by the first key


async def test_collect_times_out_and_max_digits(pair) -> None:
    a, b = pair
    r = await a.collect_dtmf(max_digits=3, timeout_s=0.2)
    assert (r.digits, r.reason) == ("", "timeout")
    b.send_dtmf("98765")
    r = await a.collect_dtmf(max_digits=3, timeout_s=3)
    assert (r.digits, r.reason) == ("987", "max_digits")


async def test_dual_channel_recording_with_pause(pair, tmp_path: Path) -> None:
    a, b = pair  # a is the caller's leg on our side; b plays the caller's phone
    sink = WavRecordingSink(tmp_path)
    a.start_recording(sink, RecordingMeta(call_id="c-1", started_at=datetime.now(UTC)))
    caller_voice = asyncio.create_task(b.play(ToneSource(400, 1.6)))
    await a.play(ToneSource(1000, 0.6))  # the bot speaks
    a.pause_recording()  # caller reads a card number
    assert a.recording_paused
    await asyncio.sleep(0.4)
    a.resume_recording()
    await caller_voice
    info = a.stop_recording()
    assert info is not None and info.call_id == "c-1"
    assert info.paused_s == pytest.approx(0.4, abs=0.1)
    left, right = _read_stereo(Path(info.extra["path"]))
    assert len(left) / 8000 == pytest.approx(info.duration_s)
    assert dominant_hz(left[2000:6000]) == pytest.approx(400, abs=10)  # caller on the left
    assert dominant_hz(right[400:4000]) == pytest.approx(1000, abs=10)  # bot on the right


async def test_bridge_carries_audio_both_ways_and_relays_dtmf(scheduler: MediaScheduler) -> None:
    legs = [await MediaSession.open(scheduler, call_id=f"s{i}") for i in range(4)]
    caller_phone, caller_leg, agent_leg, agent_phone = legs
    caller_phone.connect("127.0.0.1", caller_leg.local_port)
    caller_leg.connect("127.0.0.1", caller_phone.local_port)
    agent_leg.connect("127.0.0.1", agent_phone.local_port, payload_type=8)  # agent speaks PCMA
    agent_phone.connect("127.0.0.1", agent_leg.local_port, payload_type=8)
    heard = {"caller": [], "agent": []}
    caller_phone.add_audio_tap(heard["caller"].append)
    agent_phone.add_audio_tap(heard["agent"].append)
    caller_leg.bridge(agent_leg)
    assert agent_leg.bridged_to is caller_leg
    got: list[str] = []
    agent_phone.subscribe(lambda e: got.append(e.digit) if isinstance(e, DtmfReceived) else None)
    await asyncio.gather(
        caller_phone.play(ToneSource(500, 1.0)), agent_phone.play(ToneSource(1200, 1.0))
    )
    caller_phone.send_dtmf("7")
    await asyncio.sleep(0.4)
    caller_leg.unbridge()
    assert caller_leg.bridged_to is None and agent_leg.bridged_to is None
    agent_audio = np.concatenate(heard["agent"])
    caller_audio = np.concatenate(heard["caller"])
    assert dominant_hz(agent_audio) == pytest.approx(500, abs=10)
    assert dominant_hz(caller_audio) == pytest.approx(1200, abs=10)
    assert got == ["7"]
    for leg in legs:
        await leg.close()


async def test_hold_music_with_periodic_announcements(pair) -> None:
    a, b = pair
    heard: list[np.ndarray] = []
    b.add_audio_tap(heard.append)
    calls = 0

    async def announcement():
        nonlocal calls
        calls += 1
        return ToneSource(2000, 0.2)  # stands in for the TTS of "您前面还有3位客户…"

    task = asyncio.create_task(
        hold_with_announcements(a, announcement, interval_s=0.5, first_after_s=0.3)
    )
    await asyncio.sleep(1.5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert calls == 2  # at 0.3 s and 1.0 s (0.2 s announcement + 0.5 s interval)
    peaks = [dominant_hz(f) for f in heard if np.abs(f.astype(int)).max() > 300]
    assert sum(1 for p in peaks if abs(p - 2000) < 60) >= 15  # announcements were heard
    assert sum(1 for p in peaks if p < 1000) >= 20  # and music between them
    await asyncio.sleep(0.1)
    heard.clear()
    await asyncio.sleep(0.3)
    assert all(np.abs(f.astype(int)).max() < 50 for f in heard[3:])  # music stopped


async def test_malformed_datagrams_are_dropped_and_timeout_reported(
    scheduler: MediaScheduler,
) -> None:
    s = await MediaSession.open(scheduler, rtp_timeout_s=0.3)
    s.connect("127.0.0.1", 9)  # nobody sends to us
    events: list[object] = []
    s.subscribe(events.append)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as junk:
        for payload in (b"", b"\x00", b"\x80" * 5, b"\xff" * 40, b"\x80\xc8\x00\x50"):
            junk.sendto(payload, ("127.0.0.1", s.local_port))
    await asyncio.sleep(0.6)
    stats = s.stats()
    assert stats is not None and stats.malformed >= 4
    assert any(isinstance(e, MediaTimeout) for e in events)
    final = await s.close()
    assert final is not None and s.closed


async def test_close_ends_pending_operations(pair) -> None:
    a, _ = pair
    play = asyncio.create_task(a.play(MusicOnHold()))
    collect = asyncio.create_task(a.collect_dtmf(timeout_s=10))
    await asyncio.sleep(0.1)
    await a.close()
    assert (await play).interrupted
    assert (await collect).reason == "closed"


async def test_ports_come_from_the_configured_range(scheduler: MediaScheduler) -> None:
    s = await MediaSession.open(scheduler, port_min=31000, port_max=31100)
    try:
        assert 31000 <= s.local_port <= 31098 and s.local_port % 2 == 0
        assert s.endpoint is not None and s.endpoint.rtcp_port == s.local_port + 1
    finally:
        await s.close()


async def test_symmetric_rtp_latches_to_where_the_peer_really_sends_from(
    scheduler: MediaScheduler,
) -> None:
    ours = await MediaSession.open(scheduler)
    phone = await MediaSession.open(scheduler)
    ours.connect("127.0.0.1", 9, latch=True)  # the SDP named an address we cannot reach (NAT)
    phone.connect("127.0.0.1", ours.local_port)
    heard: list[np.ndarray] = []
    phone.add_audio_tap(heard.append)
    await asyncio.sleep(0.1)
    await ours.play(ToneSource(700, 0.6))
    assert ours.endpoint is not None and ours.endpoint.remote == ("127.0.0.1", phone.local_port)
    assert dominant_hz(np.concatenate(heard)) == pytest.approx(700, abs=10)
    await ours.close()
    await phone.close()
