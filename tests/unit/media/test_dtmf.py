from __future__ import annotations

from pathlib import Path

import pytest

from lendline.errors import LocalProtocolError, RemoteProtocolError
from lendline.telephony.rtp.dtmf import DtmfReceiver, TelephoneEvent, dtmf_packets
from lendline.telephony.rtp.packet import RtpPacket
from lendline.telephony.rtp.stream import RtpStream
from tests.unit.media.pcap import udp_payloads

SIPP_DIR = Path("/usr/share/sip-tester")
SIPP_DIGITS = {**{str(d): str(d) for d in range(10)}, "pound": "#", "star": "*"}


def test_event_payload_bytes() -> None:
    ev = TelephoneEvent(event=11, end=True, volume=10, duration=1280)
    assert ev.serialize() == bytes.fromhex("0b8a0500")
    assert TelephoneEvent.parse(ev.serialize()) == ev
    assert ev.digit == "#"
    with pytest.raises(RemoteProtocolError):
        TelephoneEvent.parse(b"\x01\x02")


def test_sender_packets_follow_rfc4733() -> None:
    pkts = dtmf_packets("5", 1000, duration_ms=100)
    events = [TelephoneEvent.parse(p.payload) for p in pkts]
    assert [p.marker for p in pkts] == [True] + [False] * (len(pkts) - 1)
    assert {p.timestamp for p in pkts} == {1000}
    assert [e.duration for e in events] == [160, 320, 480, 640, 800, 800, 800]
    assert [e.end for e in events] == [False] * 4 + [True] * 3
    assert {e.digit for e in events} == {"5"}
    with pytest.raises(LocalProtocolError):
        dtmf_packets("x", 0)


def test_receiver_reports_each_tone_once_even_without_its_start() -> None:
    rx = DtmfReceiver()
    got = []
    for seq, p in enumerate(
        dtmf_packets("1", 100) + dtmf_packets("1", 2000)[3:] + dtmf_packets("9", 4000)
    ):
        d = rx.feed(7, p.timestamp, p.payload, seq)
        if d:
            got.append(d.digit)
    assert got == ["1", "1", "9"]


def test_verbatim_replay_after_a_gap_is_a_new_key_press_but_reordering_is_not() -> None:
    pkts = dtmf_packets("5", 43200)
    rx = DtmfReceiver()
    got = []
    for start in (0.0, 0.5):  # SIPp: same SSRC, sequence numbers and timestamp, 0.5 s later
        for k, p in enumerate(pkts):
            if rx.feed(9, p.timestamp, p.payload, 8155 + min(k, 7), start + 0.02 * k):
                got.append("5")
    assert got == ["5", "5"]
    rx2 = DtmfReceiver()
    order = [0, 1, 2, 3, 7, 8, 4, 9]  # non-end packets 4 arrives just after the end: reordered
    reports = [
        rx2.feed(9, pkts[i].timestamp, pkts[i].payload, 100 + min(i, 7), 0.02 * n)
        for n, i in enumerate(order)
    ]
    assert sum(r is not None for r in reports) == 1


def test_replay_of_an_older_tone_counts_but_a_network_duplicate_does_not() -> None:
    one, five = dtmf_packets("1", 13280), dtmf_packets("5", 43200)
    rx = DtmfReceiver()
    got = []
    t = 0.0
    for tone, base in ((one, 7984), (five, 8155), (one, 7984)):  # SIPp plays 1, 5, 1
        for k, p in enumerate(tone):
            d = rx.feed(9, p.timestamp, p.payload, base + min(k, 7), t)
            got += [d.digit] if d else []
            t += 0.02
        t += 0.3
    assert got == ["1", "5", "1"]
    dup = DtmfReceiver()
    first = one[0]
    assert dup.feed(9, first.timestamp, first.payload, 7984, 0.0) is not None
    assert dup.feed(9, first.timestamp, first.payload, 7984, 0.001) is None  # duplicated packet


def test_replayed_tone_with_same_timestamp_is_a_new_key_press() -> None:
    rx = DtmfReceiver()
    pkts = dtmf_packets("4", 500)
    seq = 0
    got = []
    for _ in range(2):  # SIPp replays the same pcap: same timestamp, later sequence numbers
        for p in pkts:
            if rx.feed(1, p.timestamp, p.payload, seq):
                got.append("4")
            seq += 1
    assert got == ["4", "4"]


def test_stream_sends_dtmf_instead_of_audio_and_peer_decodes_it() -> None:
    a, b = RtpStream(payload_type=8, ssrc=1), RtpStream(payload_type=8, ssrc=2)
    a.send_dtmf("12#")
    got = []
    for i in range(60):
        for ev in b.receive(a.send_frame(None), i * 0.02):
            got.append(getattr(ev, "digit", None))
    assert got == ["1", "2", "#"]
    assert not a.sending_dtmf


@pytest.mark.parametrize("name", sorted(SIPP_DIGITS))
def test_sipp_pcap_dtmf_decodes(name: str) -> None:
    """The pcaps SIPp plays in our scenarios carry the digit their file name says."""
    path = SIPP_DIR / f"dtmf_2833_{name}.pcap"
    if not path.is_file():
        pytest.skip(f"{path} not installed (Debian package sip-tester)")
    stream = RtpStream(payload_type=8, dtmf_payload_type=101)
    digits = []
    for t, payload in udp_payloads(path):
        for ev in stream.receive(payload, t):
            digits.append(ev.digit)  # type: ignore[union-attr]
    assert digits == [SIPP_DIGITS[name]]


def test_sipp_g711a_pcap_is_audio_not_dtmf() -> None:
    path = SIPP_DIR / "g711a.pcap"
    if not path.is_file():
        pytest.skip(f"{path} not installed")
    stream = RtpStream(payload_type=8)
    packets = udp_payloads(path)
    assert {RtpPacket.parse(p).payload_type for _, p in packets} == {8}
    frames = []
    for t, p in packets:  # one playout tick per packet, as the scheduler does
        assert stream.receive(p, t) == []
        frames.append(stream.playout())
    s = stream.stats()
    assert s.packets_received == len(packets) and s.malformed == 0 and s.packets_lost == 0
    voiced = [f for f in frames if f is not None and abs(f.astype(int)).max() > 500]
    assert len(voiced) > len(packets) // 2  # the recorded speech comes out of the jitter buffer
