"""Torture messages in the spirit of RFC 4475 (cases written from its descriptions).

Valid-but-strange messages must be accepted; malformed ones answered 400/505/416 when a
response can be formed, dropped otherwise; nothing may raise out of ``Endpoint.receive``.
"""

from __future__ import annotations

import pytest

from lendline.telephony.sip.endpoint import Endpoint
from lendline.telephony.sip.events import MessageRejected, RequestReceived
from lendline.telephony.sip.message import Request, Response
from lendline.telephony.sip.parser import SipParseError, parse_message

SRC = ("192.0.2.10", 5060)


def _msg(*lines: str, body: str = "") -> bytes:
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


BASE = [
    "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1",
    "From: <sip:caller@example.com>;tag=a1",
    "To: <sip:ivr@example.net>",
    "Call-ID: torture-1@192.0.2.10",
    "Max-Forwards: 70",
]

_MULTIPART = "--7a9cbec02ceef655\r\nContent-Type: text/plain\r\n\r\n你好 lendline\r\n--7a9cbec02ceef655--\r\n"

VALID = {
    "whitespace and folding": _msg(
        "INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0",
        "TO :\r\n sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n",
        'from   : "J Rosenberg \\\\\\""       <sip:jdrosen@example.com>\r\n  ;\r\n  tag = 98asjd8',
        "MaX-fOrWaRdS: 0068",
        "Call-ID: wsinv.ndaksdj@192.0.2.1",
        "Content-Length   : 0",
        "cseq: 0009\r\n  INVITE",
        "Via  : SIP  /   2.0\r\n  /UDP\r\n    192.0.2.2;rport;branch=z9hG4bK390skdjuw",
        "s :",
        "NewFangledHeader:   newfangled value\r\n continued newfangled value",
        "v:  SIP  / 2.0  / TCP     spindle.example.com   ;\r\n  branch  =   z9hG4bK9ikj8  ,\r\n SIP  /    2.0   / UDP  192.168.255.111   ; branch=\r\n z9hG4bK30239",
        'm:"Quoted string \\"\\"" <sip:jdrosen@example.com> ; newparam =\r\n      newvalue ;\r\n  secondparam ; q = 0.33',
    ),
    "unusual method token": _msg(
        "!interesting-Method0123456789_*+`.%indeed'~ sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com SIP/2.0",
        "Via: SIP/2.0/TCP host1.example.com;branch=z9hG4bK-.!%66*_+`'~",
        'To: "BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f" <sip:1_unusual.URI~(to-be!sure)&isn\'t+it$/crazy?,/;;*@example.com>',
        "From: token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;fromParam''~+*_!.-%=\"\\\"\\\"\";tag=_token~1'+`*%!-.",
        "Call-ID: intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{",
        "CSeq: 139122385 !interesting-Method0123456789_*+`.%indeed'~",
        "Max-Forwards: 255",
        "extensionHeader-!.%*+_`'~: \U0001f600 unicode",
        "Content-Length: 0",
    ),
    "escaped user part and null escape": _msg(
        "INVITE sip:sips%3Auser%40example.com@example.net SIP/2.0",
        *BASE,
        "CSeq: 1 INVITE",
        "Contact: <sip:null-%00-null@192.0.2.10>",
        "Content-Length: 0",
    ),
    "no LWS before <": _msg(
        "OPTIONS sip:user@example.com SIP/2.0",
        "To: sip:user@example.com",
        "From: caller<sip:caller@example.com>;tag=323",
        "Max-Forwards: 70",
        "Call-ID: lwsdisp.1234abcd@funky.example.com",
        "CSeq: 60 OPTIONS",
        "Via: SIP/2.0/UDP funky.example.com;branch=z9hG4bKkdjuw",
        "l: 0",
    ),
    "semicolons in user part": _msg(
        "OPTIONS sip:user;par=u%40example.net@example.com SIP/2.0",
        *BASE,
        "CSeq: 2 OPTIONS",
        "Content-Length: 0",
    ),
    "IPv6 everywhere": _msg(
        "REGISTER sip:[2001:db8::10]:5070 SIP/2.0",
        "Via: SIP/2.0/UDP [2001:db8::9:1];branch=z9hG4bKas3-111;rport",
        "From: <sip:agent01@[2001:db8::10]>;tag=268923",
        "To: <sip:agent01@[2001:db8::10]>",
        "Call-ID: SSG9559905523997077@hlau_4100",
        "CSeq: 1 REGISTER",
        'Contact: "Caller" <sip:caller@[2001:db8::1]:5060>',
        "Max-Forwards: 70",
        "Content-Length: 0",
    ),
    "two messages in one datagram (extra ignored)": _msg(
        "OPTIONS sip:ivr@example.net SIP/2.0",
        *BASE,
        "CSeq: 3 OPTIONS",
        "Content-Length: 0",
    )
    + b"OPTIONS sip:x@y SIP/2.0\r\n\r\n",
    "multipart body": _msg(
        "MESSAGE sip:ivr@example.net SIP/2.0",
        *BASE,
        "CSeq: 4 MESSAGE",
        "Content-Type: multipart/mixed;boundary=7a9cbec02ceef655",
        f"Content-Length: {len(_MULTIPART.encode())}",
        body="--7a9cbec02ceef655\r\nContent-Type: text/plain\r\n\r\n你好 lendline\r\n--7a9cbec02ceef655--\r\n",
    ),
    "bare LF line ends": (
        "OPTIONS sip:ivr@example.net SIP/2.0\n" + "\n".join(BASE) + "\nCSeq: 5 OPTIONS\n\n"
    ).encode(),
}

# (description, message, expected status; 0 = dropped)
INVALID = [
    (
        "Content-Length beyond the body",
        _msg(
            "INVITE sip:a@b SIP/2.0",
            *BASE,
            "CSeq: 1 INVITE",
            "Content-Length: 9999",
            body="v=0\r\n",
        ),
        400,
    ),
    (
        "negative Content-Length",
        _msg("OPTIONS sip:a@b SIP/2.0", *BASE, "CSeq: 1 OPTIONS", "Content-Length: -999"),
        400,
    ),
    (
        "CSeq number over 2**31",
        _msg("OPTIONS sip:a@b SIP/2.0", *BASE, "CSeq: 36893488147419103232 OPTIONS"),
        400,
    ),
    (
        "Max-Forwards over 255",
        _msg("OPTIONS sip:a@b SIP/2.0", *BASE[:4], "Max-Forwards: 300", "CSeq: 1 OPTIONS"),
        400,
    ),
    (
        "unterminated quote in display name",
        _msg(
            "OPTIONS sip:a@b SIP/2.0",
            BASE[0],
            'From: "Bob <sip:bob@b>;tag=1',
            *BASE[2:],
            "CSeq: 1 OPTIONS",
        ),
        400,
    ),
    (
        "Request-URI in angle brackets",
        _msg("INVITE <sip:user@example.com> SIP/2.0", *BASE, "CSeq: 1 INVITE"),
        400,
    ),
    (
        "LWS inside Request-URI",
        _msg("INVITE sip:user@example.com; lr SIP/2.0", *BASE, "CSeq: 1 INVITE"),
        400,
    ),
    ("two spaces in request line", _msg("OPTIONS  sip:a@b SIP/2.0", *BASE, "CSeq: 1 OPTIONS"), 400),
    (
        "trailing space after version",
        _msg("OPTIONS sip:a@b SIP/2.0 ", *BASE, "CSeq: 1 OPTIONS"),
        400,
    ),
    (
        "unescaped space in URI user",
        _msg("OPTIONS sip:a b@c SIP/2.0", *BASE, "CSeq: 1 OPTIONS"),
        400,
    ),
    ("bad percent escape", _msg("OPTIONS sip:a%zz@c SIP/2.0", *BASE, "CSeq: 1 OPTIONS"), 400),
    ("SIP/7.0", _msg("OPTIONS sip:a@b SIP/7.0", *BASE, "CSeq: 1 OPTIONS"), 505),
    ("unknown URI scheme", _msg("OPTIONS nobody:a@b SIP/2.0", *BASE, "CSeq: 1 OPTIONS"), 416),
    ("CSeq method mismatch", _msg("OPTIONS sip:a@b SIP/2.0", *BASE, "CSeq: 1 INVITE"), 400),
    (
        "conflicting Content-Lengths",
        _msg(
            "OPTIONS sip:a@b SIP/2.0",
            *BASE,
            "CSeq: 1 OPTIONS",
            "Content-Length: 0",
            "Content-Length: 5",
            body="hello",
        ),
        400,
    ),
    ("missing Call-ID", _msg("OPTIONS sip:a@b SIP/2.0", *BASE[:3], "CSeq: 1 OPTIONS"), 0),
    ("missing Via", _msg("OPTIONS sip:a@b SIP/2.0", *BASE[1:], "CSeq: 1 OPTIONS"), 0),
    (
        "header without colon",
        _msg("OPTIONS sip:a@b SIP/2.0", *BASE, "CSeq: 1 OPTIONS", "Garbage line"),
        400,
    ),
    (
        "status code out of range",
        _msg("SIP/2.0 4294967301 better not break the receiver", *BASE, "CSeq: 1 OPTIONS"),
        0,
    ),
    (
        "truncated: no blank line",
        b"INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP x;branch=z9hG4bK1\r\n",
        0,
    ),
    ("non-UTF-8 headers", b"OPTIONS sip:a@b SIP/2.0\r\nVia: \xff\xfe\r\n\r\n", 0),
    ("oversized datagram", b"OPTIONS sip:a@b SIP/2.0\r\n" + b"X: " + b"a" * 70000 + b"\r\n\r\n", 0),
    (
        "Via with a bad port",
        _msg(
            "OPTIONS sip:a@b SIP/2.0",
            "Via: SIP/2.0/UDP h:99999;branch=z9hG4bK1",
            *BASE[1:],
            "CSeq: 1 OPTIONS",
        ),
        0,
    ),
    ("empty datagram of spaces", b"   \t  ", 0),
]


@pytest.mark.parametrize("name", list(VALID))
def test_valid_torture_messages_are_accepted(name: str) -> None:
    msg = parse_message(VALID[name])
    assert isinstance(msg, Request | Response)
    ep = Endpoint("192.0.2.99", 5080)
    ep.receive(VALID[name], SRC, "udp", 0.0)
    ev = ep.next_event()
    assert isinstance(ev, RequestReceived), ev


def test_folded_values_are_unfolded() -> None:
    msg = parse_message(VALID["whitespace and folding"])
    assert msg.cseq == (9, "INVITE")
    assert msg.headers.get("newfangledheader") == "newfangled value continued newfangled value"
    assert len(msg.headers.get_all("via")) == 3
    assert msg.to_tag == "1918181833n"


@pytest.mark.parametrize(("name", "raw", "status"), INVALID, ids=[c[0] for c in INVALID])
def test_malformed_messages_are_answered_or_dropped(name: str, raw: bytes, status: int) -> None:
    if raw.strip():
        with pytest.raises(SipParseError):
            parse_message(raw)
    ep = Endpoint("192.0.2.99", 5080)
    ep.receive(raw, SRC, "udp", 0.0)  # must not raise
    sent = ep.datagrams_to_send()
    if status:
        ((data, dest, _t),) = sent
        assert data.startswith(f"SIP/2.0 {status} ".encode()), data[:80]
        assert dest == SRC
        to_line = next(ln for ln in data.split(b"\r\n") if ln.startswith(b"To: "))
        assert b";tag=" in to_line  # the peer's headers are echoed, ours gets a tag
    else:
        assert sent == []
    ev = ep.next_event()
    if raw.strip():
        assert isinstance(ev, MessageRejected) and ev.status == status and ev.reason
