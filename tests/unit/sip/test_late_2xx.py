"""A 2xx to our INVITE is always ACKed (RFC 3261 §13.2.2.4, §17.1.1.3, RFC 6026): late,
after our CANCEL, retransmitted after our ACK, or after the client transaction ended
(then we BYE the call we no longer want)."""

from __future__ import annotations

from lendline.telephony.sip.events import CallAnswered, CallConfirmed, CallEnded, CallFailed

from .test_calls import _call, _pair


def _is_invite_200(data: bytes) -> bool:
    return data.startswith(b"SIP/2.0 200") and b" INVITE\r\n" in data


def test_200_racing_our_cancel_is_acked_then_byed() -> None:
    net, a, b = _pair()
    out, call = _call(net, a, b)
    b.ring(call)
    net.pump()
    net.events(a)
    net.drop = lambda data: data.startswith(b"CANCEL")  # the CANCEL crosses the 200
    a.hangup(out)
    net.pump()
    net.drop = lambda data: False
    b.negotiate(call, "10.0.0.2", 30000)
    b.answer(call)
    net.pump()
    assert net.sent("ACK") and net.sent("BYE")
    ended_a = [e for e in net.events(a) if isinstance(e, CallEnded)]
    assert ended_a and ended_a[0].reason == "cancelled"
    assert [type(e) for e in net.events(b)] == [CallConfirmed, CallEnded]
    assert not a.sessions and not b.sessions


def test_hangup_before_any_response_then_200_is_acked_then_byed() -> None:
    net, a, b = _pair()
    held: list[bytes] = []
    net.drop = lambda data: data.startswith(b"SIP/2.0 100")
    out, call = _call(net, a, b)
    a.hangup(out)  # nothing heard yet: no CANCEL may be sent (§9.1)
    net.pump()
    assert not net.sent("CANCEL") and not held
    b.negotiate(call, "10.0.0.2", 30000)
    b.answer(call)
    net.pump()
    assert net.sent("ACK") and net.sent("BYE")
    assert [type(e) for e in net.events(b)] == [CallConfirmed, CallEnded]
    assert out.state.value == "terminated"


def test_200_retransmitted_after_our_ack_is_acked_again() -> None:
    net, a, b = _pair()
    acks: list[bytes] = []

    def drop_first_ack(data: bytes) -> bool:
        if data.startswith(b"ACK"):
            acks.append(data)
            return len(acks) == 1
        return False

    net.drop = drop_first_ack
    out, call = _call(net, a, b)
    b.negotiate(call, "10.0.0.2", 30000)
    b.answer(call)
    net.pump()
    assert [type(e) for e in net.events(a)] == [CallAnswered]
    net.advance(0.6, step=0.1)  # B retransmits its 200 at T1; A must ACK it again
    assert len(acks) >= 2
    assert [type(e) for e in net.events(b)] == [CallConfirmed]
    assert out.state.value == "confirmed"


def test_200_after_timer_b_is_acked_then_byed() -> None:
    """The callee's answer arrives after our INVITE timed out (408): ACK it, then BYE."""
    net, a, b = _pair()
    net.drop = lambda data: data.startswith(b"SIP/2.0")  # B's replies are lost for a while
    out, call = _call(net, a, b)
    b.ring(call)
    net.pump()
    net.advance(32.5, step=0.5)
    assert [type(e) for e in net.events(a)] == [CallFailed]
    assert out.state.value == "terminated"
    net.drop = lambda data: False
    b.negotiate(call, "10.0.0.2", 30000)
    b.answer(call)
    net.pump()
    assert net.sent("ACK") and net.sent("BYE")
    assert [type(e) for e in net.events(b)] == [CallConfirmed, CallEnded]
    assert not a.sessions and not b.sessions


def test_late_200_retransmissions_are_acked_but_byed_once() -> None:
    net, a, b = _pair()
    net.drop = lambda data: data.startswith(b"SIP/2.0")
    _out, call = _call(net, a, b)
    net.advance(32.5, step=0.5)
    assert [type(e) for e in net.events(a)] == [CallFailed]
    net.drop = lambda data: data.startswith((b"ACK", b"BYE"))  # B keeps sending its 200
    b.negotiate(call, "10.0.0.2", 30000)
    b.answer(call)
    net.advance(2.0, step=0.1)
    assert len(net.sent("ACK")) >= 3  # 0, 0.5, 1.5
    assert len(set(net.sent("BYE"))) == 1  # one BYE (and its own retransmissions)


def test_200_while_the_loop_was_stalled_past_t1_is_acked_once_it_runs() -> None:
    """The UAC's loop was busy: timer A fires late and the INVITE goes out again after the
    200 is already waiting; both orders still end in one confirmed call."""
    net, a, b = _pair()
    out, call = _call(net, a, b)
    b.negotiate(call, "10.0.0.2", 30000)
    b.answer(call)
    queued_for_a = [d for d in b.datagrams_to_send()]
    # a stall: A's timer A fires (INVITE retransmitted) before it reads B's 200
    net.clock.advance(2.0)
    a.handle_timer(net.clock.monotonic())
    net.pump()
    for data, _dest, transport in queued_for_a:
        a.receive(data, ("10.0.0.2", 5080), transport, net.clock.monotonic())
    net.pump()
    assert any(_is_invite_200(d) for d, _, _ in queued_for_a)
    assert [type(e) for e in net.events(a)] == [CallAnswered]
    assert [type(e) for e in net.events(b)] == [CallConfirmed]
    assert out.state.value == "confirmed" and call.state.value == "confirmed"
