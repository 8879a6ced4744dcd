"""The §17 machines driven directly through an Endpoint on a manual clock: timers E/F/K
(non-INVITE client), J (non-INVITE server), G/H/I (INVITE server, error response)."""

from __future__ import annotations

from lendline.telephony.sip.endpoint import Endpoint
from lendline.telephony.sip.events import RequestReceived, ResponseReceived, TransactionTimedOut
from lendline.telephony.sip.message import Headers, Request, make_response
from lendline.telephony.sip.parser import parse_message
from lendline.telephony.sip.transaction import TxState

PEER = ("10.0.0.9", 5060)


def _options() -> Request:
    h = Headers()
    for k, v in (
        ("from", "<sip:a@10.0.0.1>;tag=1"),
        ("to", "<sip:b@10.0.0.9>"),
        ("call-id", "tx-1"),
        ("cseq", "1 OPTIONS"),
        ("max-forwards", "70"),
    ):
        h.set(k, v)
    return Request("OPTIONS", "sip:b@10.0.0.9", h)


def _fire_until(ep: Endpoint, until_s: float, step_s: float = 0.01) -> list[float]:
    """Advance time; returns the times at which something was sent."""
    sent: list[float] = []
    t = ep.now_s
    while t < until_s:
        t = round(t + step_s, 6)
        at = ep.get_timer()
        if at is not None and at <= t:
            ep.handle_timer(t)
        if ep.datagrams_to_send():
            sent.append(t)
    return sent


def test_non_invite_client_retransmits_on_e_and_times_out_on_f() -> None:
    ep = Endpoint("10.0.0.1", 5060)
    tx = ep.send_request(_options(), PEER)
    assert len(ep.datagrams_to_send()) == 1
    sent = _fire_until(ep, 33.0)
    # E: 0.5, 1.5, 3.5, 7.5 then every T2 = 4 s until F at 32 s
    assert [round(s, 1) for s in sent[:5]] == [0.5, 1.5, 3.5, 7.5, 11.5]
    assert len(sent) == 10
    assert isinstance(ep.next_event(), TransactionTimedOut)
    assert tx.state is TxState.TERMINATED and not ep.transactions


def test_non_invite_client_final_response_stops_e_and_k_ends_it() -> None:
    ep = Endpoint("10.0.0.1", 5060)
    req = _options()
    tx = ep.send_request(req, PEER)
    ep.datagrams_to_send()
    ep.receive(make_response(req, 200, to_tag="x").to_bytes(), PEER, "udp", 0.2)
    assert isinstance(ep.next_event(), ResponseReceived)
    assert tx.state is TxState.COMPLETED
    assert _fire_until(ep, 6.0) == []  # no retransmission after the answer
    assert tx.state is TxState.TERMINATED  # timer K = T4 = 5 s


def test_non_invite_server_absorbs_and_answers_retransmissions_until_j() -> None:
    ep = Endpoint("10.0.0.1", 5060)
    raw = _options()
    raw.headers.add("via", "SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bKsrv", first=True)
    data = raw.to_bytes()
    ep.receive(data, PEER, "udp", 0.0)
    ev = ep.next_event()
    assert isinstance(ev, RequestReceived)
    req = parse_message(data)
    assert isinstance(req, Request)
    ep.send_response(ev.tx, make_response(req, 200, to_tag="t"))
    assert len(ep.datagrams_to_send()) == 1
    ep.receive(data, PEER, "udp", 1.0)  # retransmission: the same 200 again, no new event
    assert len(ep.datagrams_to_send()) == 1 and ep.next_event() is None
    _fire_until(ep, 33.0, step_s=0.5)
    assert ev.tx.state is TxState.TERMINATED  # timer J = 64·T1
    ep.receive(data, PEER, "udp", 33.5)  # now it is a new request
    assert isinstance(ep.next_event(), RequestReceived)


def test_invite_server_error_response_retransmits_on_g_until_ack() -> None:
    ep = Endpoint("10.0.0.1", 5060)
    inv = _options()
    inv.method = "INVITE"
    inv.headers.set("cseq", "1 INVITE")
    inv.headers.add("via", "SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bKinv", first=True)
    ep.receive(inv.to_bytes(), PEER, "udp", 0.0)
    ev = ep.next_event()
    assert isinstance(ev, RequestReceived)
    req = ev.request
    ep.send_response(ev.tx, make_response(req, 486, to_tag="busy"))
    ep.datagrams_to_send()
    sent = _fire_until(ep, 2.0)
    assert [round(s, 1) for s in sent] == [0.5, 1.5]  # G: T1, 2·T1 …
    ack = Request("ACK", req.uri, req.headers.copy())
    ack.headers.set("cseq", "1 ACK")
    ack.headers.set("to", "<sip:b@10.0.0.9>;tag=busy")
    ep.receive(ack.to_bytes(), PEER, "udp", 2.0)
    assert ev.tx.state is TxState.CONFIRMED and ep.next_event() is None  # ACK absorbed
    assert _fire_until(ep, 8.0) == []  # no more 486
    assert ev.tx.state is TxState.TERMINATED  # timer I = T4
