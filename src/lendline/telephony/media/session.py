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
    s.mix_in((supervisor_leg,)); s.mix_in(())       # also send what these legs receive
    stats = await s.close()                        # StreamStats (loss, jitter, RTT)

Events (``subscribe``): ``DtmfReceived``, ``PlaybackDone``, ``MediaTimeout``.
Outgoing audio each 20 ms tick, first that applies: a playing prompt, music on hold,
the bridged partner's received audio summed with the legs ``mix_in`` added (a supervisor),
silence.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

import numpy as np
import structlog

from lendline.clock import Clock, SystemClock
from lendline.errors import Conflict
from lendline.telephony.media.endpoint import Addr, RtpEndpoint
from lendline.telephony.media.events import DtmfReceived, MediaEvent, MediaTimeout
from lendline.telephony.media.mixer import mix
from lendline.telephony.media.operations import (
    FRAME,
    CollectResult,
    MediaOperations,
    PlayResult,
)
from lendline.telephony.media.scheduler import MediaScheduler
from lendline.telephony.rtp.dtmf import DtmfDigit
from lendline.telephony.rtp.g711 import Int16Array
from lendline.telephony.rtp.packet import is_rtcp
from lendline.telephony.rtp.rtcp import NTP_UNIX_OFFSET_S
from lendline.telephony.rtp.stream import RtpStream, StreamStats

log = structlog.get_logger(__name__)
__all__ = ["CollectResult", "MediaSession", "PlayResult"]


class MediaSession(MediaOperations):
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
        self._playback = None
        self._hold = None
        self._partner = None
        self._extras = ()
        self._tap = None
        self._rx = None
        self._last_rx_s: float | None = None
        self._timed_out = False
        self._closed = asyncio.Event()
        self._final: StreamStats | None = None
        self._latch_pending = False

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

    def connect(
        self,
        remote_host: str,
        remote_port: int,
        *,
        payload_type: int = 0,
        dtmf_payload_type: int | None = 101,
        rtcp_mux: bool = False,
        latch: bool = False,
    ) -> None:
        """Start sending to the peer's SDP address with the negotiated payload types.

        ``latch`` (symmetric RTP, for phones behind NAT): send to wherever the first valid
        RTP packet comes from instead of the SDP address. Calling ``connect`` again
        (re-INVITE) switches address/codec and keeps the SSRC.
        """
        assert self.endpoint is not None
        if self.closed:
            raise Conflict("media session is closed", code="media_closed")
        self.endpoint.set_remote(remote_host, remote_port, rtcp_mux=rtcp_mux)
        self._latch_pending = latch
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
        self._rx = None  # legs that mix us in hear silence from now on
        self._extras = ()
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
        malformed = self.stream.malformed
        for ev in self.stream.receive(data, now):
            if isinstance(ev, DtmfDigit):
                self._on_digit(ev.digit, now)
        if (
            self._latch_pending
            and self.endpoint is not None
            and not is_rtcp(data)
            and self.stream.malformed == malformed
        ):
            self._latch_pending = False
            if addr != self.endpoint.remote:
                self.endpoint.set_remote(addr[0], addr[1], rtcp_mux=self.endpoint.rtcp_mux)

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

    def tick_skip(self, frames: int) -> None:
        """Frames the scheduler could not send in time: the RTP clock and the source still
        advance, so the peer sees a short gap rather than audio drifting behind real time."""
        if self.stream is None:
            return
        for _ in range(frames):
            self._next_out()
        self.stream.skip_frames(frames)

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
        heard = self._partner._rx if self._partner is not None else None
        if self._extras:
            return mix([heard, *(s._rx for s in self._extras)])
        return heard


def _pad(chunk: Int16Array) -> Int16Array:
    if len(chunk) >= FRAME:
        return chunk[:FRAME]
    out = np.zeros(FRAME, dtype=np.int16)
    out[: len(chunk)] = chunk
    return out
