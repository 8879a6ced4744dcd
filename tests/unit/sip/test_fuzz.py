"""Bounded property-based fuzzing of the parser and the endpoint (runs in CI).

Properties: parsing any bytes either gives a message or raises ``SipParseError``;
``Endpoint.receive`` never raises; whatever parses re-serializes to something that parses
to the same request line, Call-ID and CSeq.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lendline.telephony.sip.endpoint import Endpoint
from lendline.telephony.sip.message import Request
from lendline.telephony.sip.parser import SipParseError, parse_message

SEED = (
    b"INVITE sip:4001@127.0.0.1:5080;user=phone SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 10.0.0.1:5061;branch=z9hG4bK-abc;rport\r\n"
    b'From: "A" <sip:13800138000@10.0.0.1>;tag=f1\r\n'
    b"To: <sip:4001@127.0.0.1>\r\nCall-ID: c1@10.0.0.1\r\nCSeq: 7 INVITE\r\n"
    b"Contact: <sip:a@10.0.0.1:5061>\r\nMax-Forwards: 70\r\n"
    b"Content-Type: application/sdp\r\nContent-Length: 22\r\n\r\n"
    b"v=0\r\nm=audio 4000 RTP/AVP 0\r\n"
)
FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))


def _parse_or_error(data: bytes) -> None:
    try:
        msg = parse_message(data)
    except SipParseError:
        return
    again = parse_message(msg.to_bytes())
    assert again.call_id == msg.call_id and again.cseq == msg.cseq
    if isinstance(msg, Request):
        assert isinstance(again, Request) and again.method == msg.method


@FUZZ
@given(st.binary(max_size=1500))
def test_random_bytes(data: bytes) -> None:
    _parse_or_error(data)
    Endpoint("127.0.0.1", 5080).receive(data, ("127.0.0.1", 9), "udp", 0.0)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(SEED)
    for _ in range(draw(st.integers(1, 8))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "dup"]))
        i = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[i] = draw(st.sampled_from(b' \t\r\n:;,<>"@%[]=/\x00\xff0aZ'))
        elif op == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=12))
        elif op == "delete":
            del data[i : i + draw(st.integers(1, 10))]
        elif op == "truncate":
            del data[i:]
        else:
            j = draw(st.integers(i, min(len(data), i + 40)))
            data[j:j] = data[i:j]
    return bytes(data)


@FUZZ
@given(mutated())
def test_mutated_invites(data: bytes) -> None:
    _parse_or_error(data)
    ep = Endpoint("127.0.0.1", 5080)
    ep.receive(data, ("127.0.0.1", 9), "udp", 0.0)
    for out, _dest, _t in ep.datagrams_to_send():
        assert out.startswith(b"SIP/2.0 ")
