"""RTP packets (RFC 3550 §5.1): parse and serialise, with 16-bit sequence arithmetic.

``RtpPacket.parse`` raises ``RemoteProtocolError`` on malformed input; callers in a transport
loop catch it and drop the datagram.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from lendline.errors import RemoteProtocolError

RTP_VERSION = 2
_HEADER = struct.Struct("!BBHII")


@dataclass(frozen=True, slots=True)
class RtpPacket:
    """One RTP packet. ``timestamp`` is in sampling-clock units (8000 Hz for G.711)."""

    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes
    marker: bool = False
    csrcs: tuple[int, ...] = ()

    def serialize(self) -> bytes:
        """The packet's bytes: fixed header, CSRCs, payload (no padding, no extension)."""
        b0 = (RTP_VERSION << 6) | len(self.csrcs)
        b1 = (0x80 if self.marker else 0) | (self.payload_type & 0x7F)
        head = _HEADER.pack(
            b0, b1, self.sequence & 0xFFFF, self.timestamp & 0xFFFFFFFF, self.ssrc & 0xFFFFFFFF
        )
        csrc = b"".join(struct.pack("!I", c) for c in self.csrcs)
        return head + csrc + self.payload

    @classmethod
    def parse(cls, data: bytes) -> RtpPacket:
        """Parse a datagram; header extension and padding are honoured and stripped."""
        if len(data) < 12:
            raise RemoteProtocolError("RTP packet shorter than 12 bytes")
        b0, b1, seq, ts, ssrc = _HEADER.unpack_from(data)
        if b0 >> 6 != RTP_VERSION:
            raise RemoteProtocolError(f"RTP version {b0 >> 6} is not 2")
        cc = b0 & 0x0F
        offset = 12 + 4 * cc
        if len(data) < offset:
            raise RemoteProtocolError("RTP CSRC list truncated")
        csrcs = struct.unpack_from(f"!{cc}I", data, 12) if cc else ()
        if b0 & 0x10:  # header extension
            if len(data) < offset + 4:
                raise RemoteProtocolError("RTP header extension truncated")
            (ext_words,) = struct.unpack_from("!H", data, offset + 2)
            offset += 4 + 4 * ext_words
        end = len(data)
        if b0 & 0x20:  # padding: last byte says how many
            pad = data[-1]
            if pad == 0 or pad > end - offset:
                raise RemoteProtocolError("RTP padding length invalid")
            end -= pad
        if offset > end:
            raise RemoteProtocolError("RTP header longer than packet")
        return cls(
            payload_type=b1 & 0x7F,
            sequence=seq,
            timestamp=ts,
            ssrc=ssrc,
            payload=bytes(data[offset:end]),
            marker=bool(b1 & 0x80),
            csrcs=tuple(csrcs),
        )


def is_rtcp(data: bytes) -> bool:
    """RFC 5761 §4: packet types 192–223 in the second byte mean RTCP on a muxed port."""
    return len(data) >= 2 and 192 <= data[1] <= 223


def seq_delta(a: int, b: int) -> int:
    """Signed distance ``a - b`` between two 16-bit sequence numbers (wrap-aware)."""
    d = (a - b) & 0xFFFF
    return d - 0x10000 if d >= 0x8000 else d


def ts_delta(a: int, b: int) -> int:
    """Signed distance ``a - b`` between two 32-bit RTP timestamps (wrap-aware)."""
    d = (a - b) & 0xFFFFFFFF
    return d - 0x100000000 if d >= 0x80000000 else d
