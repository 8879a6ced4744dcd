"""One RTP stream, both directions, sans-I/O: frames in → datagrams out, and back.

``RtpStream`` is what a media session drives once per 20 ms tick::

    datagram = stream.send_frame(pcm_160_samples)      # or a queued DTMF packet instead
    events   = stream.receive(datagram, arrival_s)     # DtmfDigit / RtcpReport, audio buffered
    pcm      = stream.playout()                        # next 20 ms from the jitter buffer
    rtcp     = stream.rtcp_due(now_s, ntp_s)            # an SR/RR every ``rtcp_interval_s``

Audio timestamps advance by one frame per tick whatever is sent (RFC 3550 §5.1: the clock
runs through silence and DTMF); a DTMF tone keeps the timestamp of its start (RFC 4733).
"""

from __future__ import annotations

import secrets
import struct
from collections import deque
from dataclasses import dataclass

import numpy as np

from lendline.errors import LocalProtocolError, RemoteProtocolError
from lendline.telephony.rtp import g711
from lendline.telephony.rtp.dtmf import DtmfDigit, DtmfPacket, DtmfReceiver, dtmf_packets
from lendline.telephony.rtp.jitter import JitterBuffer
from lendline.telephony.rtp.packet import RtpPacket, is_rtcp
from lendline.telephony.rtp.rtcp import (
    RtcpReport,
    SenderInfo,
    build_bye,
    build_rr,
    build_sr,
    ntp_middle,
    parse_compound,
)
from lendline.telephony.rtp.stats import ReceptionStats

Int16Array = g711.Int16Array
_HEAD = struct.Struct("!BBHII")


@dataclass(frozen=True, slots=True)
class StreamStats:
    """Figures of one stream, stored on the call at hang-up. Times in ms, loss in packets."""

    packets_sent: int
    octets_sent: int
    packets_received: int
    packets_lost: int
    jitter_ms: float
    remote_fraction_lost: float | None  # what the peer's last RR/SR said about our stream
    remote_jitter_ms: float | None
    rtt_ms: float | None
    malformed: int
    jitter_buffer_lost: int
    jitter_buffer_late: int

    def as_dict(self) -> dict[str, float | int | None]:
        return {k: getattr(self, k) for k in self.__slots__}


class RtpStream:
    """Sender and receiver state of one negotiated G.711 stream (+ telephone-event)."""

    def __init__(
        self,
        *,
        payload_type: int = 0,
        dtmf_payload_type: int | None = 101,
        ssrc: int | None = None,
        cname: str = "lendline",
        frame_ms: int = 20,
        rtcp_interval_s: float = 5.0,
    ) -> None:
        self.codec: g711.Codec = g711.codec_for_payload_type(payload_type)
        self.payload_type = payload_type
        self.dtmf_payload_type = dtmf_payload_type
        self.ssrc = ssrc if ssrc is not None else secrets.randbits(32)
        self.cname = cname
        self.frame_ms = frame_ms
        self.samples_per_frame = 8000 * frame_ms // 1000
        self.rtcp_interval_s = rtcp_interval_s
        self._seq = secrets.randbits(16)
        self._ts = secrets.randbits(32)
        self._dtmf_out: deque[DtmfPacket] = deque()
        self._pending_keys: deque[str] = deque()
        self._key_ms = 160
        self._marker_next = True
        self.packets_sent = 0
        self.octets_sent = 0
        self.malformed = 0
        self.jitter = JitterBuffer(frame_ms=frame_ms)
        self._dtmf_in = DtmfReceiver()
        self._rx: ReceptionStats | None = None
        self._last_sr_mid = 0
        self._last_sr_arrival_s = 0.0
        self._next_rtcp_s: float | None = None
        self._remote: RtcpReport | None = None
        self._remote_arrival_s = 0.0
        self._rtt_pending = False
        self._rtt_ms: float | None = None
        self._silence = bytes([g711.silence_byte(self.codec)]) * self.samples_per_frame

    # ---- sending -------------------------------------------------------------------
    def send_dtmf(self, digits: str, *, duration_ms: int = 160) -> None:
        """Queue key presses; they replace audio packets on the following ticks.

        Raises ``LocalProtocolError`` for a non-DTMF character or when no telephone-event
        payload type was negotiated.
        """
        if self.dtmf_payload_type is None:
            raise LocalProtocolError("no telephone-event payload type negotiated")
        for d in digits:
            dtmf_packets(d, 0)  # validates the key now, not on a later tick
            self._pending_keys.append(d)
        self._key_ms = duration_ms

    def _next_dtmf(self) -> DtmfPacket | None:
        if not self._dtmf_out and self._pending_keys:
            key = self._pending_keys.popleft()
            self._dtmf_out.extend(dtmf_packets(key, self._ts, duration_ms=self._key_ms))
        return self._dtmf_out.popleft() if self._dtmf_out else None

    def send_frame(self, pcm: Int16Array | None) -> bytes:
        """The datagram for this tick: a DTMF packet if one is queued, else ``pcm``
        (``samples_per_frame`` int16 samples) encoded, or codec silence for ``None``."""
        dt = self._next_dtmf()
        if dt is not None:
            pkt = RtpPacket(
                self.dtmf_payload_type or 101,
                self._seq,
                dt.timestamp,
                self.ssrc,
                dt.payload,
                dt.marker,
            )
            self._marker_next = True
        else:  # the hot path: pack the header directly, no packet object
            payload = self._silence if pcm is None else g711.encode(pcm, self.codec)
            b1 = self.payload_type | (0x80 if self._marker_next else 0)
            data = _HEAD.pack(0x80, b1, self._seq, self._ts, self.ssrc) + payload
            self._marker_next = False
            self._advance(len(payload))
            return data
        self._advance(len(pkt.payload))
        return pkt.serialize()

    def _advance(self, payload_bytes: int) -> None:
        self._seq = (self._seq + 1) & 0xFFFF
        self._ts = (self._ts + self.samples_per_frame) & 0xFFFFFFFF
        self.packets_sent += 1
        self.octets_sent += payload_bytes

    def skip_frames(self, frames: int) -> None:
        """Advance the RTP clock by ``frames`` without sending (the sender fell behind)."""
        self._ts = (self._ts + frames * self.samples_per_frame) & 0xFFFFFFFF

    @property
    def sending_dtmf(self) -> bool:
        return bool(self._dtmf_out or self._pending_keys)

    # ---- receiving -----------------------------------------------------------------
    def receive(self, data: bytes, arrival_s: float) -> list[DtmfDigit | RtcpReport]:
        """Feed one datagram (RTP or muxed RTCP). Malformed input is counted and dropped."""
        try:
            if is_rtcp(data):
                return list(self._receive_rtcp(data, arrival_s))
            pkt = RtpPacket.parse(data)
            if self._rx is None or self._rx.ssrc != pkt.ssrc:
                self._rx = ReceptionStats(pkt.ssrc)
            is_event = pkt.payload_type == self.dtmf_payload_type
            self._rx.update(pkt.sequence, pkt.timestamp, arrival_s, timing=not is_event)
            if pkt.payload_type == self.dtmf_payload_type:
                digit = self._dtmf_in.feed(
                    pkt.ssrc, pkt.timestamp, pkt.payload, pkt.sequence, arrival_s
                )
                return [digit] if digit else []
            if pkt.payload_type == self.payload_type:
                self.jitter.push(pkt.sequence, pkt.timestamp, pkt.payload, arrival_s)
            return []
        except RemoteProtocolError:
            self.malformed += 1
            return []

    def _receive_rtcp(self, data: bytes, arrival_s: float) -> list[RtcpReport]:
        reports = parse_compound(data)
        for r in reports:
            if r.sender is not None:
                self._last_sr_mid = ntp_middle(r.sender.ntp_s)
                self._last_sr_arrival_s = arrival_s
            for block in r.blocks:
                if block.ssrc == self.ssrc:
                    self._remote = r
                    self._remote_arrival_s = arrival_s
                    self._rtt_pending = True
        return reports

    def rtt_from_block(self, last_sr: int, dlsr: int, ntp_now_s: float) -> float | None:
        """Round trip in ms from an LSR/DLSR pair (RFC 3550 §6.4.1), ``None`` if no SR yet."""
        if last_sr == 0:
            return None
        rtt = (ntp_middle(ntp_now_s) - last_sr - dlsr) & 0xFFFFFFFF
        return rtt / 65536.0 * 1000.0 if rtt < 0x80000000 else None

    def playout(self) -> Int16Array | None:
        """The next received 20 ms of audio as int16, or ``None`` (nothing to play)."""
        frame = self.jitter.pop()
        return None if frame is None else g711.decode(frame, self.codec)

    # ---- RTCP ----------------------------------------------------------------------
    def rtcp_is_due(self, now_s: float) -> bool:
        """Cheap check before building a report (the NTP time is not needed to ask)."""
        return self._next_rtcp_s is None or now_s >= self._next_rtcp_s

    def rtcp_due(self, now_s: float, ntp_s: float) -> bytes | None:
        """An SR (if we sent) or RR every ``rtcp_interval_s``; ``None`` when not yet due."""
        if self._next_rtcp_s is None:
            self._next_rtcp_s = now_s + self.rtcp_interval_s
            return None
        if now_s < self._next_rtcp_s:
            return None
        self._next_rtcp_s += self.rtcp_interval_s
        if self._remote is not None and self._rtt_pending:
            self._rtt_pending = False
            ntp_at_arrival = ntp_s - (now_s - self._remote_arrival_s)
            for block in self._remote.blocks:
                if block.ssrc == self.ssrc:
                    rtt = self.rtt_from_block(
                        block.last_sr, block.delay_since_last_sr, ntp_at_arrival
                    )
                    self._rtt_ms = rtt if rtt is not None else self._rtt_ms
        return self.build_report(now_s, ntp_s)

    def build_report(self, now_s: float, ntp_s: float) -> bytes:
        blocks = []
        if self._rx is not None:
            dlsr = 0
            if self._last_sr_mid:
                dlsr = max(0, int((now_s - self._last_sr_arrival_s) * 65536))
            blocks.append(self._rx.report(self._last_sr_mid, dlsr))
        if self.packets_sent:
            info = SenderInfo(ntp_s, self._ts, self.packets_sent, self.octets_sent)
            return build_sr(self.ssrc, info, blocks, self.cname)
        return build_rr(self.ssrc, blocks, self.cname)

    def bye(self) -> bytes:
        return build_bye(self.ssrc)

    def stats(self) -> StreamStats:
        remote_block = None
        if self._remote is not None:
            remote_block = next((b for b in self._remote.blocks if b.ssrc == self.ssrc), None)
        return StreamStats(
            packets_sent=self.packets_sent,
            octets_sent=self.octets_sent,
            packets_received=self._rx.received if self._rx else 0,
            packets_lost=max(0, self._rx.lost) if self._rx else 0,
            jitter_ms=round(self._rx.jitter_ms, 3) if self._rx else 0.0,
            remote_fraction_lost=remote_block.fraction_lost / 256 if remote_block else None,
            remote_jitter_ms=remote_block.jitter / 8.0 if remote_block else None,
            rtt_ms=self._rtt_ms,
            malformed=self.malformed,
            jitter_buffer_lost=self.jitter.counters.lost,
            jitter_buffer_late=self.jitter.counters.late,
        )


def silence(samples: int) -> Int16Array:
    """``samples`` zeros, int16."""
    return np.zeros(samples, dtype=np.int16)
