"""RFC 4733 telephone-event payloads (DTMF in and out).

Payload (4 bytes): ``event(8) | E(1) R(1) volume(6) | duration(16)``. All packets of one
tone share the RTP timestamp of its start; duration grows in sampling units; the end packet
(E=1) is sent three times. The receiver reports each tone once, on its first packet, so a
caller's barge-in is seen within one packet time even if the end packets are lost.
"""

from __future__ import annotations

import struct
from collections import deque
from dataclasses import dataclass

from lendline.errors import LocalProtocolError, RemoteProtocolError
from lendline.telephony.rtp.packet import seq_delta

DTMF_EVENTS = "0123456789*#ABCD"
_PAYLOAD = struct.Struct("!BBH")


@dataclass(frozen=True, slots=True)
class TelephoneEvent:
    """One decoded telephone-event payload; ``duration`` in RTP clock units."""

    event: int
    end: bool
    volume: int
    duration: int

    @property
    def digit(self) -> str | None:
        """The DTMF character, or ``None`` for non-DTMF events (fax tones etc.)."""
        return DTMF_EVENTS[self.event] if self.event < len(DTMF_EVENTS) else None

    def serialize(self) -> bytes:
        return _PAYLOAD.pack(
            self.event, (0x80 if self.end else 0) | (self.volume & 0x3F), self.duration & 0xFFFF
        )

    @classmethod
    def parse(cls, payload: bytes) -> TelephoneEvent:
        if len(payload) < 4:
            raise RemoteProtocolError("telephone-event payload shorter than 4 bytes")
        event, flags, duration = _PAYLOAD.unpack_from(payload)
        return cls(event=event, end=bool(flags & 0x80), volume=flags & 0x3F, duration=duration)


@dataclass(frozen=True, slots=True)
class DtmfDigit:
    """A DTMF key press reported by ``DtmfReceiver``; ``timestamp`` is its RTP start."""

    digit: str
    timestamp: int
    ssrc: int


class DtmfReceiver:
    """Turns telephone-event packets into key presses, once per tone.

    A tone is keyed by ``(ssrc, rtp timestamp)``; its repeated packets and retransmitted end
    packets are ignored, as are late packets of the last 32 tones. A non-end packet of a
    known tone starts a new key press when it is a replay:

    - after the current tone's end, a newer sequence number, or an arrival more than
      ``replay_gap_s`` after the end (a reordered packet of the old tone cannot be so late);
    - for any remembered tone, its very first packet once more (SIPp replays its pcaps byte
      for byte: same SSRC, sequence numbers and timestamp), unless it comes within
      ``replay_gap_s`` of that tone's last packet (a network duplicate).
    """

    def __init__(self, replay_gap_s: float = 0.2) -> None:
        self.replay_gap_s = replay_gap_s
        self._seen: deque[tuple[int, int]] = deque(maxlen=32)
        self._first_seq: dict[tuple[int, int], int | None] = {}
        self._last_s: dict[tuple[int, int], float] = {}
        self._key: tuple[int, int] | None = None
        self._ended = False
        self._end_seq: int | None = None
        self._end_s: float | None = None

    def _is_replay(
        self, key: tuple[int, int], ev_end: bool, sequence: int | None, arrival_s: float | None
    ) -> bool:
        if ev_end:
            return False
        last = self._last_s.get(key)
        long_gap = (
            arrival_s is not None and last is not None and arrival_s - last > self.replay_gap_s
        )
        if key == self._key:
            if not self._ended:
                return False
            if (
                sequence is not None
                and self._end_seq is not None
                and seq_delta(sequence, self._end_seq) > 0
            ):
                return True
            if long_gap:
                return True
        first = self._first_seq.get(key)
        if sequence is None or first is None or sequence != first:
            return False
        return arrival_s is None or long_gap

    def feed(
        self,
        ssrc: int,
        timestamp: int,
        payload: bytes,
        sequence: int | None = None,
        arrival_s: float | None = None,
    ) -> DtmfDigit | None:
        """Feed one telephone-event payload; a new key press, or ``None``."""
        ev = TelephoneEvent.parse(payload)
        if ev.digit is None:
            return None
        key = (ssrc, timestamp)
        known = key == self._key or key in self._seen
        replay = known and self._is_replay(key, ev.end, sequence, arrival_s)
        if arrival_s is not None:
            self._last_s[key] = arrival_s
        if known and not replay:
            if key == self._key and ev.end and not self._ended:
                self._ended, self._end_seq, self._end_s = True, sequence, arrival_s
            return None
        if key not in self._seen:
            self._seen.append(key)
        if len(self._first_seq) > 64:
            self._first_seq = {k: v for k, v in self._first_seq.items() if k in self._seen}
            self._last_s = {k: v for k, v in self._last_s.items() if k in self._seen}
        self._first_seq[key] = sequence
        self._key = key
        self._ended = ev.end
        self._end_seq = sequence if ev.end else None
        self._end_s = arrival_s if ev.end else None
        return DtmfDigit(digit=ev.digit, timestamp=timestamp, ssrc=ssrc)


@dataclass(frozen=True, slots=True)
class DtmfPacket:
    """A telephone-event packet to send: payload, marker bit, RTP timestamp of the tone."""

    payload: bytes
    marker: bool
    timestamp: int


def dtmf_packets(
    digit: str,
    start_timestamp: int,
    *,
    duration_ms: int = 160,
    packet_ms: int = 20,
    volume: int = 10,
    clock_rate_hz: int = 8000,
    end_repeats: int = 3,
) -> list[DtmfPacket]:
    """The packets of one key press, one per ``packet_ms``, end packet repeated.

    Raises ``LocalProtocolError`` for a character that is not a DTMF key.
    """
    key = digit.upper()
    if len(key) != 1 or key not in DTMF_EVENTS:
        raise LocalProtocolError(f"{digit!r} is not a DTMF key")
    event = DTMF_EVENTS.index(key)
    step = clock_rate_hz * packet_ms // 1000
    total = clock_rate_hz * duration_ms // 1000
    out: list[DtmfPacket] = []
    elapsed = step
    while elapsed < total:
        ev = TelephoneEvent(event, False, volume, elapsed)
        out.append(DtmfPacket(ev.serialize(), not out, start_timestamp))
        elapsed += step
    end = TelephoneEvent(event, True, volume, total)
    for _ in range(end_repeats):
        out.append(DtmfPacket(end.serialize(), not out, start_timestamp))
    return out
