from __future__ import annotations

import pytest

from lendline.errors import RemoteProtocolError
from lendline.telephony.sip.message import Request, Response, make_response
from lendline.telephony.sip.parser import SipParseError, StreamFramer, parse_message
from lendline.telephony.sip.uri import parse_uri

INVITE = (
    "INVITE sip:4001@127.0.0.1:5080 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 10.0.0.1:5061;branch=z9hG4bK-abc;rport\r\n"
    'From: "张三" <sip:13800138000@10.0.0.1>;tag=f1\r\n'
    "To: <sip:4001@127.0.0.1>\r\n"
    "Call-ID: c1@10.0.0.1\r\n"
    "CSeq: 7 INVITE\r\n"
    "Contact: <sip:13800138000@10.0.0.1:5061>\r\n"
    "Max-Forwards: 70\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 4\r\n\r\n"
    "v=0\r\n"
)


def test_parses_request_and_roundtrips() -> None:
    m = parse_message(INVITE.encode())
    assert isinstance(m, Request)
    assert m.method == "INVITE"
    assert m.parsed_uri.user == "4001"
    assert m.parsed_uri.port == 5080
    assert m.cseq == (7, "INVITE")
    assert m.from_addr.display == "张三"
    assert m.from_tag == "f1"
    assert m.to_tag is None
    assert m.via.branch == "z9hG4bK-abc"
    assert m.body == b"v=0\r"  # Content-Length 4 trims the rest of the datagram
    again = parse_message(m.to_bytes())
    assert isinstance(again, Request)
    assert again.headers.get("from") == m.headers.get("from")
    assert again.body == m.body


def test_compact_names_folding_and_comma_lists() -> None:
    raw = (
        "OPTIONS sip:x@h SIP/2.0\r\n"
        "v: SIP/2.0/UDP a:1;branch=z9hG4bK1 , SIP/2.0/TCP b;branch=z9hG4bK2\r\n"
        "f: <sip:a@b>;tag=1\r\nt: <sip:x@h>\r\ni: abc\r\n"
        "CSeq:\r\n  9\r\n\tOPTIONS\r\n"
        'm: <sip:a@b>, "x, y" <sip:c@d>\r\n'
        "l: 0\r\n\r\n"
    )
    m = parse_message(raw.encode())
    assert m.headers.get_all("via") == [
        "SIP/2.0/UDP a:1;branch=z9hG4bK1",
        "SIP/2.0/TCP b;branch=z9hG4bK2",
    ]
    assert m.cseq == (9, "OPTIONS")
    assert m.call_id == "abc"
    assert len(m.headers.get_all("contact")) == 2
    assert b"Call-ID: abc" in m.to_bytes()


def test_ipv6_and_escaped_uri() -> None:
    u = parse_uri("sip:%61lice@[2001:db8::10]:5070;transport=TCP?subject=hi%20there")
    assert u.user == "alice"
    assert u.host == "[2001:db8::10]"
    assert u.port == 5070
    assert u.transport == "tcp"
    assert u.headers["subject"] == "hi there"
    assert parse_uri(str(u)) == u


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (INVITE.replace("SIP/2.0\r\nVia", "SIP/7.0\r\nVia"), 505),
        (INVITE.replace("sip:4001@127.0.0.1:5080", "xyz:4001@h"), 416),
        (INVITE.replace("CSeq: 7 INVITE", "CSeq: 7 BYE"), 400),
        (INVITE.replace("Content-Length: 4", "Content-Length: 400"), 400),
        (INVITE.replace("Max-Forwards: 70", "Max-Forwards: many"), 400),
        (INVITE.replace("Call-ID: c1@10.0.0.1\r\n", ""), 400),
    ],
)
def test_malformed_requests_carry_status(raw: str, status: int) -> None:
    with pytest.raises(SipParseError) as ei:
        parse_message(raw.encode())
    assert ei.value.status == status
    assert isinstance(ei.value, RemoteProtocolError)


def test_missing_call_id_cannot_be_answered_but_bad_cseq_can() -> None:
    with pytest.raises(SipParseError) as ei:
        parse_message(INVITE.replace("Call-ID: c1@10.0.0.1\r\n", "").encode())
    assert not ei.value.can_respond()
    with pytest.raises(SipParseError) as ei:
        parse_message(INVITE.replace("CSeq: 7 INVITE", "CSeq: 7 BYE").encode())
    assert ei.value.can_respond()


def test_stream_framer_splits_and_requires_length() -> None:
    f = StreamFramer()
    data = b"\r\n\r\n" + INVITE.encode()[:-1] + INVITE.encode()[:-1]
    msgs = f.feed(data[:50]) + f.feed(data[50:])
    assert len(msgs) == 2
    assert all(parse_message(m, stream=True).call_id == "c1@10.0.0.1" for m in msgs)
    with pytest.raises(SipParseError):
        parse_message(INVITE.replace("Content-Length: 4\r\n", "").encode(), stream=True)


def test_response_copies_dialog_headers() -> None:
    req = parse_message(INVITE.encode())
    assert isinstance(req, Request)
    resp = make_response(req, 180, to_tag="t9")
    again = parse_message(resp.to_bytes())
    assert isinstance(again, Response)
    assert again.status == 180
    assert again.to_tag == "t9"
    assert again.call_id == req.call_id
    assert again.cseq == (7, "INVITE")
