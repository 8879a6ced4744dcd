from __future__ import annotations

import contextlib
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lendline.errors import RemoteProtocolError
from lendline.telephony.rtp.packet import RtpPacket, is_rtcp, seq_delta, ts_delta


def test_serialize_known_bytes() -> None:
    pkt = RtpPacket(
        payload_type=0,
        sequence=0x1234,
        timestamp=0xDEADBEEF,
        ssrc=0x01020304,
        payload=b"\xff\xfe",
        marker=True,
    )
    assert pkt.serialize() == bytes.fromhex("8080 1234 deadbeef 01020304 fffe".replace(" ", ""))


def test_parse_strips_csrc_extension_and_padding() -> None:
    head = bytes([0x80 | 0x20 | 0x10 | 1, 8]) + struct.pack("!HII", 7, 160, 99)
    csrc = struct.pack("!I", 42)
    ext = struct.pack("!HH", 0xBEDE, 1) + b"\x00" * 4
    data = head + csrc + ext + b"abc" + b"\x00\x00\x03"
    pkt = RtpPacket.parse(data)
    assert (pkt.payload_type, pkt.sequence, pkt.timestamp, pkt.ssrc) == (8, 7, 160, 99)
    assert pkt.csrcs == (42,)
    assert pkt.payload == b"abc"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x80\x00",
        bytes(11),
        b"\x40" + bytes(11),
        b"\x8f" + bytes(11),
        b"\xa0\x00" + bytes(10) + b"\x00",
        b"\x90\x00" + bytes(10),
    ],
)
def test_malformed_raises_remote_error(data: bytes) -> None:
    with pytest.raises(RemoteProtocolError):
        RtpPacket.parse(data)


@given(
    pt=st.integers(0, 127),
    seq=st.integers(0, 0xFFFF),
    ts=st.integers(0, 2**32 - 1),
    ssrc=st.integers(0, 2**32 - 1),
    payload=st.binary(max_size=200),
    marker=st.booleans(),
)
def test_roundtrip(pt: int, seq: int, ts: int, ssrc: int, payload: bytes, marker: bool) -> None:
    pkt = RtpPacket(pt, seq, ts, ssrc, payload, marker)
    assert RtpPacket.parse(pkt.serialize()) == pkt


@given(st.binary(max_size=64))
def test_garbage_never_raises_anything_else(data: bytes) -> None:
    with contextlib.suppress(RemoteProtocolError):
        RtpPacket.parse(data)


def test_wrap_aware_deltas() -> None:
    assert seq_delta(2, 0xFFFE) == 4
    assert seq_delta(0xFFFE, 2) == -4
    assert ts_delta(100, 2**32 - 60) == 160
    assert is_rtcp(b"\x80\xc8") and not is_rtcp(b"\x80\x00")


@given(st.lists(st.binary(max_size=80), max_size=30))
def test_stream_receive_never_raises_on_garbage(datagrams: list[bytes]) -> None:
    from lendline.telephony.rtp.stream import RtpStream

    s = RtpStream(payload_type=0, ssrc=5)
    for i, d in enumerate(datagrams):
        s.receive(d, i * 0.02)
        s.playout()
    assert s.stats().malformed <= len(datagrams)
