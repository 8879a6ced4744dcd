"""RTCP sender and receiver reports (RFC 3550 §6.4) with SDES CNAME and BYE.

``build_sr``/``build_rr`` give a compound packet (report + SDES); ``parse_compound`` gives
the reports found, skipping packet types it does not know. NTP times are seconds since 1900
as floats, handed in by the caller (the core never reads the clock).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from lendline.errors import RemoteProtocolError
from lendline.telephony.rtp.stats import ReceptionReport

PT_SR, PT_RR, PT_SDES, PT_BYE = 200, 201, 202, 203
NTP_UNIX_OFFSET_S = 2_208_988_800
_BLOCK = struct.Struct("!IB3sIIII")


def ntp_parts(ntp_s: float) -> tuple[int, int]:
    """Seconds since 1900 → (integer seconds, 2^-32 fraction)."""
    sec = int(ntp_s)
    return sec & 0xFFFFFFFF, int((ntp_s - sec) * 2**32) & 0xFFFFFFFF


def ntp_middle(ntp_s: float) -> int:
    """The middle 32 bits of an NTP timestamp, as used in LSR (RFC 3550 §6.4.1)."""
    sec, frac = ntp_parts(ntp_s)
    return ((sec & 0xFFFF) << 16) | (frac >> 16)


@dataclass(frozen=True, slots=True)
class SenderInfo:
    ntp_s: float
    rtp_timestamp: int
    packet_count: int
    octet_count: int


@dataclass(frozen=True, slots=True)
class RtcpReport:
    """One SR or RR: who sent it, its sender info (SR only) and report blocks."""

    ssrc: int
    sender: SenderInfo | None
    blocks: tuple[ReceptionReport, ...] = field(default=())


def _block(r: ReceptionReport) -> bytes:
    lost = r.cumulative_lost & 0xFFFFFF
    return _BLOCK.pack(
        r.ssrc,
        r.fraction_lost,
        lost.to_bytes(3, "big"),
        r.highest_seq,
        r.jitter,
        r.last_sr,
        r.delay_since_last_sr,
    )


def _header(pt: int, count: int, body_len: int) -> bytes:
    return struct.pack("!BBH", 0x80 | count, pt, (body_len + 4) // 4 - 1)


def _sdes(ssrc: int, cname: str) -> bytes:
    text = cname.encode()[:255]
    item = struct.pack("!IBB", ssrc, 1, len(text)) + text + b"\x00"
    item += b"\x00" * (-len(item) % 4)
    return _header(PT_SDES, 1, len(item)) + item


def build_sr(ssrc: int, sender: SenderInfo, blocks: list[ReceptionReport], cname: str) -> bytes:
    """A compound SR + SDES packet."""
    sec, frac = ntp_parts(sender.ntp_s)
    body = struct.pack(
        "!IIIIII",
        ssrc,
        sec,
        frac,
        sender.rtp_timestamp & 0xFFFFFFFF,
        sender.packet_count & 0xFFFFFFFF,
        sender.octet_count & 0xFFFFFFFF,
    ) + b"".join(_block(b) for b in blocks[:31])
    return _header(PT_SR, min(len(blocks), 31), len(body)) + body + _sdes(ssrc, cname)


def build_rr(ssrc: int, blocks: list[ReceptionReport], cname: str) -> bytes:
    """A compound RR + SDES packet."""
    body = struct.pack("!I", ssrc) + b"".join(_block(b) for b in blocks[:31])
    return _header(PT_RR, min(len(blocks), 31), len(body)) + body + _sdes(ssrc, cname)


def build_bye(ssrc: int) -> bytes:
    return _header(PT_BYE, 1, 4) + struct.pack("!I", ssrc)


def _parse_blocks(data: bytes, offset: int, count: int) -> tuple[ReceptionReport, ...]:
    out = []
    for i in range(count):
        ssrc, frac, lost3, high, jit, lsr, dlsr = _BLOCK.unpack_from(data, offset + 24 * i)
        lost = int.from_bytes(lost3, "big")
        if lost & 0x800000:
            lost -= 0x1000000
        out.append(ReceptionReport(ssrc, frac, lost, high, jit, lsr, dlsr))
    return tuple(out)


def parse_compound(data: bytes) -> list[RtcpReport]:
    """The SR/RR reports in a compound RTCP packet; ``RemoteProtocolError`` if malformed."""
    reports: list[RtcpReport] = []
    offset = 0
    while offset + 4 <= len(data):
        b0, pt, length = struct.unpack_from("!BBH", data, offset)
        if b0 >> 6 != 2:
            raise RemoteProtocolError("RTCP version is not 2")
        end = offset + 4 * (length + 1)
        if end > len(data):
            raise RemoteProtocolError("RTCP packet truncated")
        count = b0 & 0x1F
        if pt == PT_SR:
            if end - offset < 28 + 24 * count:
                raise RemoteProtocolError("RTCP SR too short")
            ssrc, sec, frac, rtp_ts, pc, oc = struct.unpack_from("!IIIIII", data, offset + 4)
            info = SenderInfo(sec + frac / 2**32, rtp_ts, pc, oc)
            reports.append(RtcpReport(ssrc, info, _parse_blocks(data, offset + 28, count)))
        elif pt == PT_RR:
            if end - offset < 8 + 24 * count:
                raise RemoteProtocolError("RTCP RR too short")
            (ssrc,) = struct.unpack_from("!I", data, offset + 4)
            reports.append(RtcpReport(ssrc, None, _parse_blocks(data, offset + 8, count)))
        offset = end
    if offset != len(data):
        raise RemoteProtocolError("RTCP trailing bytes")
    return reports
