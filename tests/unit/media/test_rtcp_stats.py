from __future__ import annotations

import pytest

from lendline.errors import RemoteProtocolError
from lendline.telephony.rtp.rtcp import (
    SenderInfo,
    build_bye,
    build_rr,
    build_sr,
    ntp_middle,
    parse_compound,
)
from lendline.telephony.rtp.stats import ReceptionStats
from lendline.telephony.rtp.stream import RtpStream


def test_loss_and_fraction_lost() -> None:
    st = ReceptionStats(ssrc=5)
    for seq in [*range(0, 50), *range(60, 100)]:  # 10 lost
        st.update(seq, seq * 160, seq * 0.02)
    r = st.report()
    assert (st.expected, st.received, st.lost) == (100, 90, 10)
    assert r.fraction_lost == (10 << 8) // 100
    assert r.cumulative_lost == 10
    assert st.report().fraction_lost == 0  # the interval resets


def test_loss_across_sequence_wrap() -> None:
    st = ReceptionStats(ssrc=5)
    for k in range(100):
        if k != 30:
            st.update((0xFFD0 + k) & 0xFFFF, k * 160, k * 0.02)
    assert st.lost == 1 and st.extended_max_seq == 0x10000 + ((0xFFD0 + 99) & 0xFFFF)


def test_jitter_estimate_matches_rfc3550_on_alternating_delay() -> None:
    st = ReceptionStats(ssrc=1)
    for k in range(400):
        st.update(k, k * 160, k * 0.02 + (0.01 if k % 2 else 0))
    assert st.jitter_ms == pytest.approx(10.0, rel=0.02)  # |D| = 10 ms every packet


def test_sr_rr_roundtrip() -> None:
    st = ReceptionStats(ssrc=77)
    for k in range(10):
        st.update(k, k * 160, k * 0.02)
    block = st.report(last_sr=0x12345678, delay_since_last_sr=65536)
    sr = build_sr(9, SenderInfo(3_900_000_000.25, 1234, 10, 1600), [block], "a@b")
    (rep,) = parse_compound(sr)
    assert rep.ssrc == 9 and rep.sender is not None
    assert rep.sender.packet_count == 10 and rep.sender.octet_count == 1600
    assert rep.sender.ntp_s == pytest.approx(3_900_000_000.25)
    assert rep.blocks == (block,)
    (rr,) = parse_compound(build_rr(9, [block], "x") + build_bye(9))
    assert rr.sender is None and rr.blocks[0].last_sr == 0x12345678


@pytest.mark.parametrize("data", [b"\x80\xc8\x00\x10" + bytes(8), b"\x40\xc9\x00\x01" + bytes(4)])
def test_malformed_rtcp(data: bytes) -> None:
    with pytest.raises(RemoteProtocolError):
        parse_compound(data)


def test_streams_exchange_reports_and_compute_rtt() -> None:
    a, b = RtpStream(ssrc=1), RtpStream(ssrc=2)
    ntp0 = 3_900_000_000.0
    for k in range(60):
        b.receive(a.send_frame(None), k * 0.02 + 0.005)
        a.receive(b.send_frame(None), k * 0.02 + 0.005)
    b.receive(a.build_report(1.2, ntp0 + 1.2), 1.205)  # a's SR, 5 ms on the way
    a.receive(b.build_report(1.5, ntp0 + 1.5), 1.505)  # b holds it 295 ms (DLSR), 5 ms back
    a.rtcp_due(0.0, ntp0)
    a.rtcp_due(6.0, ntp0 + 6.0)  # a computes the round trip from b's block about it
    s = a.stats()
    assert s.remote_fraction_lost == 0.0 and s.remote_jitter_ms == 0.0
    assert s.packets_received == 60 and s.packets_lost == 0
    assert s.rtt_ms == pytest.approx(10.0, abs=0.1)
    assert ntp_middle(ntp0) > 0


def test_malformed_datagram_is_counted_not_raised() -> None:
    s = RtpStream()
    assert s.receive(b"\x00\x01garbage", 0.0) == []
    assert s.receive(b"\x80\xc9\x00\x09", 0.0) == []
    assert s.stats().malformed == 2
