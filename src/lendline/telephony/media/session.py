"""``MediaSession``: one RTP leg of a call and the operations the call controller uses.

Lifecycle (the SIP side calls these; all times in seconds)::

    s = await MediaSession.open(scheduler, host=..., port_min=..., port_max=..., call_id=...)
    sdp_port = s.local_port                        # put in the SDP offer/answer
    s.connect(remote_host, remote_port, payload_type=0, dtmf_payload_type=101)
    await s.play(PcmSource(...) | Path, barge_in=True)      -> PlayResult
    await s.collect_dtmf(max_digits=18, terminators="#")    -> CollectResult
    s.start_recording(sink, meta); s.pause_recording(); s.resume_recording()
    s.start_hold(MusicOnHold()); s.stop_hold()
    s.bridge(agent_leg); s.unbridge()
    stats = await s.close()                        # StreamStats (loss, jitter, RTT)

Events (``subscribe``): ``DtmfReceived``, ``PlaybackDone``, ``MediaTimeout``.
Outgoing audio each 20 ms tick, first that applies: a playing prompt, music on hold,
the bridged partner's received audio, silence.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import structlog

from lendline.clock import Clock, SystemClock
from lendline.domain.recording import RecordingInfo, RecordingMeta, RecordingSink
from lendline.errors import Conflict
from lendline.telephony.media.endpoint import Addr, RtpEndpoint
from lendline.telephony.media.events import DtmfReceived, MediaEvent, MediaTimeout, PlaybackDone
from lendline.telephony.media.recorder import RecordingTap
from lendline.telephony.media.scheduler import MediaScheduler
from lendline.telephony.media.sources import AudioSource, PcmSource, load_wav
from lendline.telephony.rtp.dtmf import DtmfDigit
from lendline.telephony.rtp.g711 import Int16Array
from lendline.telephony.rtp.rtcp import NTP_UNIX_OFFSET_S
from lendline.telephony.rtp.stream import RtpStream, StreamStats

log = structlog.get_logger(__name__)
FRAME = 160  # samples per 20 ms at 8 kHz


@dataclass(frozen=True, slots=True)
class PlayResult:
    """How a ``play`` ended; ``digit`` is the key that barged in, if any."""

    interrupted: bool
    digit: str | None = None
    played_s: float = 0.0


@dataclass(frozen=True, slots=True)
class CollectResult:
    """Digits collected; ``reason``: max_digits | terminator | timeout | closed."""

    digits: str
    reason: str
    terminator: str | None = None


@dataclass(slots=True)
class _Playback:
    source: AudioSource
    done: asyncio.Future[PlayResult]
    barge_in: bool
    frames: int = 0


class MediaSession:
    """One RTP endpoint and its media operations. Build with ``await MediaSession.open``."""

    def __init__(
        self, scheduler: MediaScheduler, *, call_id: str, clock: Clock, rtp_timeout_s: float
    ) -> None:
        self.scheduler = scheduler
        self.call_id = call_id
        self.clock = clock
        self.rtp_timeout_s = rtp_timeout_s
        self.endpoint: RtpEndpoint | None = None
        self.stream: RtpStream | None = None
        self.relay_dtmf = True
        self._listeners: list[Callable[[MediaEvent], None]] = []
        self._audio_taps: list[Callable[[Int16Array], None]] = []
        self._digits: deque[str] = deque(maxlen=64)
        self._digit_arrived = asyncio.Event()
        self._playback: _Playback | None = None
        self._hold: AudioSource | None = None
        self._partner: MediaSession | None = None
        self._tap: RecordingTap | None = None
        self._rx: Int16Array | None = None
        self._last_rx_s: float | None = None
        self._timed_out = False
        self._closed = asyncio.Event()
        self._final: StreamStats | None = None

    # ---- lifecycle -----------------------------------------------------------------
    @classmethod
    async def open(
        cls,
        scheduler: MediaScheduler,
        *,
        host: str = "127.0.0.1",
        port_min: int = 0,
        port_max: int = 0,
        call_id: str = "",
        clock: Clock | None = None,
        rtp_timeout_s: float = 30.0,
    ) -> MediaSession:
        """Bind an RTP/RTCP port pair in ``[port_min, port_max]`` (0, 0 = ephemeral)."""
        self = cls(
            scheduler, call_id=call_id, clock=clock or SystemClock(), rtp_timeout_s=rtp_timeout_s
        )
        self.endpoint = await RtpEndpoint.open(host, port_min, port_max, self._on_datagram)
        return self

    @property
    def local_host(self) -> str:
        assert self.endpoint is not None
        return self.endpoint.local[0]

    @property
    def local_port(self) -> int:
        assert self.endpoint is not None
        return self.endpoint.local[1]

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def connect(
        self,
        remote_host: str,
        remote_port: int,
        *,
        payload_type: int = 0,
        dtmf_payload_type: int | None = 101,
        rtcp_mux: bool = False,
    ) -> None:
        """Start sending to the peer's SDP address with the negotiated payload types.

        Calling it again (re-INVITE) switches address/codec and keeps the SSRC.
        """
        assert self.endpoint is not None
        if self.closed:
            raise Conflict("media session is closed", code="media_closed")
        self.endpoint.set_remote(remote_host, remote_port, rtcp_mux=rtcp_mux)
        ssrc = self.stream.ssrc if self.stream else None
        self.stream = RtpStream(
            payload_type=payload_type,
            dtmf_payload_type=dtmf_payload_type,
            ssrc=ssrc,
            cname=f"lendline@{self.local_host}",
        )
        self._last_rx_s = self.clock.monotonic()
        self.scheduler.add(self)

    async def close(self) -> StreamStats | None:
        """Stop everything, send RTCP BYE, free the ports; the stream's final figures."""
        if self.closed:
            return self._final
        self.scheduler.discard(self)
        self.unbridge()
        self.stop_recording()
        self._finish_playback(interrupted=True)
        if self.stream is not None and self.endpoint is not None:
            now = self.clock.monotonic()
            self.endpoint.send_rtcp(self.stream.build_report(now, self._ntp()) + self.stream.bye())
            self._final = self.stream.stats()
        if self.endpoint is not None:
            self.endpoint.close()
        self._closed.set()
        self._digit_arrived.set()
        return self._final

    async def wait_closed(self) -> None:
        await self._closed.wait()

    def stats(self) -> StreamStats | None:
        """Loss, jitter, RTT so far (``None`` before ``connect``)."""
        return self.stream.stats() if self.stream else self._final

    # ---- events --------------------------------------------------------------------
    def subscribe(self, listener: Callable[[MediaEvent], None]) -> None:
        """Call ``listener`` (synchronously, on the event loop) for every event."""
        self._listeners.append(listener)

    def add_audio_tap(self, tap: Callable[[Int16Array], None]) -> None:
        """Call ``tap`` with each 20 ms of received audio (8 kHz int16), e.g. for ASR."""
        self._audio_taps.append(tap)

    def remove_audio_tap(self, tap: Callable[[Int16Array], None]) -> None:
        if tap in self._audio_taps:
            self._audio_taps.remove(tap)

    def _emit(self, event: MediaEvent) -> None:
        for fn in list(self._listeners):
            try:
                fn(event)
            except Exception:
                log.exception("media_listener_failed", call_id=self.call_id)

    def _ntp(self) -> float:
        return self.clock.now().timestamp() + NTP_UNIX_OFFSET_S

    def _on_datagram(self, data: bytes, addr: Addr) -> None:
        if self.stream is None or self.closed:
            return
        now = self.clock.monotonic()
        self._last_rx_s = now
        self._timed_out = False
        for ev in self.stream.receive(data, now):
            if isinstance(ev, DtmfDigit):
                self._on_digit(ev.digit, now)

    def _on_digit(self, digit: str, now: float) -> None:
        self._digits.append(digit)
        self._digit_arrived.set()
        pb = self._playback
        if pb is not None and pb.barge_in:
            self._finish_playback(interrupted=True, digit=digit)
        if self.relay_dtmf and self._partner is not None and self._partner.stream is not None:
            self._partner.stream.send_dtmf(digit)
        self._emit(DtmfReceived(digit, now))

    # ---- the 20 ms tick (called by MediaScheduler) ---------------------------------
    def tick_receive(self, now_s: float) -> None:
        if self.stream is None:
            return
        self._rx = self.stream.playout()
        if self._rx is not None:
            for tap in self._audio_taps:
                tap(self._rx)
        if (
            not self._timed_out
            and self._last_rx_s is not None
            and now_s - self._last_rx_s > self.rtp_timeout_s
        ):
            self._timed_out = True
            self._emit(MediaTimeout(now_s - self._last_rx_s, now_s))

    def tick_send(self, now_s: float) -> None:
        if self.stream is None or self.endpoint is None:
            return
        out = self._next_out()
        self.endpoint.send(self.stream.send_frame(out))
        if self._tap is not None:
            self._tap.add(self._rx, out, FRAME)
        if self.stream.rtcp_is_due(now_s):
            rtcp = self.stream.rtcp_due(now_s, self._ntp())
            if rtcp is not None:
                self.endpoint.send_rtcp(rtcp)

    def _next_out(self) -> Int16Array | None:
        pb = self._playback
        if pb is not None:
            chunk = pb.source.read(FRAME)
            if chunk is not None and len(chunk):
                pb.frames += 1
                return _pad(chunk)
            self._finish_playback(interrupted=False)
        if self._hold is not None:
            chunk = self._hold.read(FRAME)
            if chunk is not None and len(chunk):
                return _pad(chunk)
            self._hold = None
        if self._partner is not None:
            return self._partner._rx
        return None

    # ---- playing -------------------------------------------------------------------
    async def play(
        self, source: AudioSource | Path | Int16Array, *, barge_in: bool = False
    ) -> PlayResult:
        """Play ``source`` (a source, a WAV path, or 8 kHz int16 samples) to the peer.

        Returns when it has been sent, or at once when ``barge_in`` and a key is pressed,
        or when ``stop_playback``/``close`` cuts it. Replaces a prompt already playing.
        """
        if isinstance(source, Path):
            source = PcmSource(load_wav(source))
        elif isinstance(source, np.ndarray):
            source = PcmSource(source)
        if self.closed or self.stream is None:
            return PlayResult(interrupted=True)
        self._finish_playback(interrupted=True)
        done: asyncio.Future[PlayResult] = asyncio.get_running_loop().create_future()
        self._playback = _Playback(source, done, barge_in)
        try:
            return await asyncio.shield(done)
        except asyncio.CancelledError:
            self._finish_playback(interrupted=True)
            raise

    def stop_playback(self) -> None:
        self._finish_playback(interrupted=True)

    @property
    def playing(self) -> bool:
        return self._playback is not None

    def _finish_playback(self, *, interrupted: bool, digit: str | None = None) -> None:
        pb, self._playback = self._playback, None
        if pb is None:
            return
        if not pb.done.done():
            pb.done.set_result(PlayResult(interrupted, digit, pb.frames * FRAME / 8000))
        self._emit(PlaybackDone(interrupted, self.clock.monotonic()))

    def start_hold(self, source: AudioSource) -> None:
        """Play ``source`` whenever no prompt is playing (music on hold)."""
        self._hold = source

    def stop_hold(self) -> None:
        self._hold = None

    # ---- DTMF ----------------------------------------------------------------------
    def send_dtmf(self, digits: str, *, duration_ms: int = 160) -> None:
        """Send key presses to the peer as RFC 4733 events (``duration_ms`` each)."""
        if self.stream is None:
            raise Conflict("media session is not connected", code="media_not_connected")
        self.stream.send_dtmf(digits, duration_ms=duration_ms)

    @property
    def pending_digits(self) -> str:
        """Keys pressed but not yet collected (type-ahead)."""
        return "".join(self._digits)

    def flush_digits(self) -> str:
        """Discard (and return) keys pressed but not yet collected."""
        out = "".join(self._digits)
        self._digits.clear()
        return out

    async def collect_dtmf(
        self,
        *,
        max_digits: int = 1,
        timeout_s: float = 5.0,
        inter_digit_timeout_s: float = 3.0,
        terminators: str = "#",
        prompt: AudioSource | Path | None = None,
        flush: bool = True,
    ) -> CollectResult:
        """Collect up to ``max_digits`` keys; the prompt (if any) stops at the first key.

        ``timeout_s`` runs from the end of the prompt to the first key,
        ``inter_digit_timeout_s`` between keys; a terminator ends collection (not included).
        """
        if flush:
            self._digits.clear()
        if prompt is not None:
            await self.play(prompt, barge_in=True)
        digits = ""
        while not self.closed:
            while self._digits:
                d = self._digits.popleft()
                if d in terminators:
                    return CollectResult(digits, "terminator", d)
                digits += d
                if len(digits) >= max_digits:
                    return CollectResult(digits, "max_digits")
            self._digit_arrived.clear()
            wait = timeout_s if not digits else inter_digit_timeout_s
            try:
                await asyncio.wait_for(self._digit_arrived.wait(), wait)
            except TimeoutError:
                return CollectResult(digits, "timeout")
        return CollectResult(digits, "closed")

    # ---- recording -----------------------------------------------------------------
    def start_recording(self, sink: RecordingSink, meta: RecordingMeta) -> str:
        """Record this leg in stereo (left = peer's audio, right = what we send); its id."""
        if self._tap is not None:
            raise Conflict("already recording", code="recording_active")
        self._tap = RecordingTap(sink.open(meta))
        return self._tap.writer.recording_id

    def pause_recording(self) -> None:
        if self._tap is not None:
            self._tap.pause()

    def resume_recording(self) -> None:
        if self._tap is not None:
            self._tap.resume()

    @property
    def recording_paused(self) -> bool:
        return self._tap is not None and self._tap.paused

    def stop_recording(self) -> RecordingInfo | None:
        tap, self._tap = self._tap, None
        return tap.close() if tap is not None else None

    # ---- bridging ------------------------------------------------------------------
    def bridge(self, other: MediaSession) -> None:
        """Connect two legs: each sends the other's received audio (and relays DTMF)."""
        if other is self:
            raise Conflict("cannot bridge a session to itself", code="bridge_self")
        self.unbridge()
        other.unbridge()
        self._partner, other._partner = other, self

    def unbridge(self) -> None:
        partner, self._partner = self._partner, None
        if partner is not None and partner._partner is self:
            partner._partner = None

    @property
    def bridged_to(self) -> MediaSession | None:
        return self._partner


def _pad(chunk: Int16Array) -> Int16Array:
    if len(chunk) >= FRAME:
        return chunk[:FRAME]
    out = np.zeros(FRAME, dtype=np.int16)
    out[: len(chunk)] = chunk
    return out
