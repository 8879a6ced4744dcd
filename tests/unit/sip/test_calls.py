"""Two sans-I/O user agents calling each other over a fake network, on a manual clock."""

from __future__ import annotations

from lendline.telephony.sip.events import (
    CallAnswered,
    CallConfirmed,
    CallEnded,
    CallFailed,
    CallRinging,
    CallUpdated,
    IncomingCall,
    TransferRequested,
)
from lendline.telephony.sip.useragent import UserAgent

from .net import Net


def _pair() -> tuple[Net, UserAgent, UserAgent]:
    net = Net()
    a = net.add(UserAgent("10.0.0.1", 5060, user="alice"))
    b = net.add(UserAgent("10.0.0.2", 5080, user="ivr"))
    return net, a, b


def _call(net: Net, a: UserAgent, b: UserAgent):  # type: ignore[no-untyped-def]
    out = a.invite("sip:4001@10.0.0.2:5080", ("10.0.0.2", 5080), rtp_host="10.0.0.1", rtp_port=4000)
    net.pump()
    (inc,) = net.events(b)
    assert isinstance(inc, IncomingCall)
    return out, inc.call


def test_invite_ring_answer_ack_bye() -> None:
    net, a, b = _pair()
    out, call = _call(net, a, b)
    assert call.dialed == "4001"
    b.ring(call)
    net.pump()
    assert [type(e) for e in net.events(a)] == [CallRinging]
    audio = b.negotiate(call, "10.0.0.2", 30000)
    assert audio is not None and audio.codec == "PCMU" and audio.dtmf_payload_type == 101
    assert (audio.remote_host, audio.remote_port) == ("10.0.0.1", 4000)
    b.answer(call)
    net.pump()
    (ans,) = net.events(a)
    assert isinstance(ans, CallAnswered)
    assert out.audio is not None and out.audio.remote_port == 30000
    (conf,) = net.events(b)
    assert isinstance(conf, CallConfirmed)
    a.hangup(out)
    net.pump()
    assert [type(e) for e in net.events(a)] == [CallEnded]
    (ended,) = net.events(b)
    assert isinstance(ended, CallEnded) and ended.by == "remote"
    assert not a.sessions and not b.sessions


def test_lost_invite_is_retransmitted_by_timer_a() -> None:
    net, a, b = _pair()
    dropped: list[bytes] = []

    def drop_first_invite(data: bytes) -> bool:
        if data.startswith(b"INVITE") and not dropped:
            dropped.append(data)
            return True
        return False

    net.drop = drop_first_invite
    a.invite("sip:1@10.0.0.2:5080", ("10.0.0.2", 5080), rtp_host="10.0.0.1", rtp_port=4000)
    net.pump()
    assert net.events(b) == []
    net.advance(0.5)  # timer A = T1
    (inc,) = net.events(b)
    assert isinstance(inc, IncomingCall)
    assert len(net.sent("INVITE")) == 2


def test_retransmitted_invite_is_absorbed_and_100_sent_after_200ms() -> None:
    net, a, b = _pair()
    _out, _call_b = _call(net, a, b)
    net.advance(0.25)
    assert len(net.sent("SIP/2.0 100")) == 1
    net.advance(0.3)  # A fires at 0.5: the INVITE retransmission gets the 100 again
    assert net.events(b) == []


def test_lost_ack_makes_2xx_retransmit_then_bye_after_64_t1() -> None:
    net, a, b = _pair()
    net.drop = lambda data: data.startswith(b"ACK")
    out, call = _call(net, a, b)
    b.negotiate(call, "10.0.0.2", 30000)
    b.answer(call)
    net.pump()
    net.advance(33.0, step=0.25)
    oks = [d for d in net.sent("SIP/2.0 200") if b"INVITE" in d.split(b"CSeq:")[1][:20]]
    assert len(oks) >= 7  # 0, .5, 1.5, 3.5, 7.5, 11.5, 15.5, ...
    ended = [e for e in net.events(b) if isinstance(e, CallEnded)]
    assert ended and ended[0].reason == "no ACK"
    assert net.sent("BYE")
    assert out.state.value == "terminated"


def test_cancel_while_ringing_gives_487() -> None:
    net, a, b = _pair()
    out, call = _call(net, a, b)
    b.ring(call)
    net.pump()
    net.events(a)
    a.hangup(out)
    net.pump()
    (ended_b,) = net.events(b)
    assert isinstance(ended_b, CallEnded) and ended_b.reason == "cancelled"
    (ended_a,) = net.events(a)
    assert isinstance(ended_a, CallEnded)
    assert net.sent("SIP/2.0 487") and net.sent("CANCEL")
    assert net.sent("ACK")  # the 487 is ACKed by the client transaction


def test_reject_with_488_reaches_caller_and_is_acked() -> None:
    net, a, b = _pair()
    out, call = _call(net, a, b)
    b.reject(call, 488, warning="no common codec")
    net.pump()
    (failed,) = net.events(a)
    assert isinstance(failed, CallFailed) and failed.status == 488
    assert len(net.sent("ACK")) == 1
    assert out.state.value == "terminated"


def test_bye_from_the_answering_side_and_hold_resume() -> None:
    net, a, b = _pair()
    out, call = _call(net, a, b)
    b.negotiate(call, "10.0.0.2", 30000)
    b.answer(call)
    net.pump()
    net.events(a)
    net.events(b)
    a.hold(out, True)
    net.pump()
    (upd,) = net.events(b)
    assert isinstance(upd, CallUpdated) and upd.on_hold
    a.hold(out, False)
    net.pump()
    (upd,) = net.events(b)
    assert isinstance(upd, CallUpdated) and not upd.on_hold
    b.hangup(call)
    net.pump()
    (ended,) = net.events(a)
    assert isinstance(ended, CallEnded) and ended.by == "remote"


def test_refer_is_accepted_and_reported() -> None:
    net, a, b = _pair()
    out, call = _call(net, a, b)
    b.negotiate(call, "10.0.0.2", 30000)
    b.answer(call)
    net.pump()
    net.events(a)
    net.events(b)
    a.refer(out, "sip:agent07@10.0.0.2")
    net.pump()
    (ev,) = net.events(b)
    assert isinstance(ev, TransferRequested) and ev.target == "sip:agent07@10.0.0.2"
    assert net.sent("SIP/2.0 202")


def test_options_and_unknown_dialog() -> None:
    _net, _a, b = _pair()
    raw = (
        "OPTIONS sip:ivr@10.0.0.2:5080 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKo1\r\n"
        "From: <sip:mon@10.0.0.1>;tag=m\r\nTo: <sip:ivr@10.0.0.2>\r\nCall-ID: o1\r\nCSeq: 1 OPTIONS\r\n"
        "Content-Length: 0\r\n\r\n"
    )
    b.receive(raw.encode(), ("10.0.0.1", 5060), "udp", 0.0)
    ((data, dest, _t),) = b.datagrams_to_send()
    assert (
        data.startswith(b"SIP/2.0 200 OK")
        and b"Allow: INVITE" in data
        and dest == ("10.0.0.1", 5060)
    )
    bye = raw.replace("OPTIONS", "BYE").replace(
        "To: <sip:ivr@10.0.0.2>", "To: <sip:ivr@10.0.0.2>;tag=zz"
    )
    b.receive(bye.encode(), ("10.0.0.1", 5060), "udp", 0.1)
    ((data, _d, _t),) = b.datagrams_to_send()
    assert data.startswith(b"SIP/2.0 481")


def test_invite_timeout_without_answer_fails_with_408() -> None:
    net, a, _b = _pair()
    net.drop = lambda data: data.startswith(b"INVITE")
    out = a.invite("sip:1@10.0.0.2:5080", ("10.0.0.2", 5080), rtp_host="10.0.0.1", rtp_port=4000)
    net.advance(33.0, step=0.25)
    (failed,) = net.events(a)
    assert isinstance(failed, CallFailed) and failed.status == 408
    assert len(net.sent("INVITE")) == 7  # 0, .5, 1.5, 3.5, 7.5, 15.5, 31.5
    assert out.state.value == "terminated"


def test_require_100rel_is_420_and_max_forwards_zero_is_483() -> None:
    _net, _a, b = _pair()
    base = (
        "INVITE sip:ivr@10.0.0.2:5080 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKq{n}\r\n"
        "From: <sip:a@10.0.0.1>;tag=q\r\nTo: <sip:ivr@10.0.0.2>\r\nCall-ID: q{n}\r\nCSeq: 1 INVITE\r\n"
        "{extra}Content-Length: 0\r\n\r\n"
    )
    b.receive(
        base.format(n=1, extra="Require: 100rel\r\n").encode(), ("10.0.0.1", 5060), "udp", 0.0
    )
    ((data, _d, _t),) = b.datagrams_to_send()
    assert data.startswith(b"SIP/2.0 420") and b"Unsupported: 100rel" in data
    b.receive(
        base.format(n=2, extra="Max-Forwards: 0\r\n").encode(), ("10.0.0.1", 5060), "udp", 0.1
    )
    ((data, _d, _t),) = b.datagrams_to_send()
    assert data.startswith(b"SIP/2.0 483")
    assert b.next_event() is None  # neither became a call
