"""The sans-I/O user agent core: INVITE sessions (UAS and UAC) on top of the ``Endpoint``.

Same surface as the endpoint (``receive``/``datagrams_to_send``/``get_timer``/
``handle_timer``/``next_event``); the events are call-level (``IncomingCall``,
``CallConfirmed``, ``CallEnded`` …, see ``events``). The application acts with ``ring``,
``negotiate``, ``answer``, ``reject``, ``hangup``, ``invite``, ``hold``, ``refer`` and
answers out-of-dialog requests (REGISTER …) with ``respond``. OPTIONS is answered here.
"""

from __future__ import annotations

import itertools
import os
from collections import deque

from lendline.errors import RemoteProtocolError
from lendline.telephony.sip.dialog import Dialog, DialogId
from lendline.telephony.sip.endpoint import Endpoint
from lendline.telephony.sip.events import (
    Address,
    CallConfirmed,
    CallEnded,
    CallUpdated,
    Event,
    IncomingCall,
    InfoReceived,
    OutOfDialogRequest,
    RequestReceived,
    ResponseReceived,
    TransactionTimedOut,
    TransferRequested,
)
from lendline.telephony.sip.message import Headers, Request, Response, make_response
from lendline.telephony.sip.sdp import (
    NegotiatedAudio,
    SdpNotAcceptable,
    answer_offer,
    make_offer,
    parse_sdp,
    read_answer,
)
from lendline.telephony.sip.session import InviteSession, SessionState
from lendline.telephony.sip.timers import TimerValues
from lendline.telephony.sip.uac import UacMixin

ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, REFER, NOTIFY, INFO, REGISTER"
SDP = "application/sdp"
SUPPORTED = frozenset({"replaces"})  # option tags we implement (Require: 100rel → 420)


def new_tag() -> str:
    return os.urandom(6).hex()


class UserAgent(UacMixin):
    """Calls in and out of one SIP address ``user@host:port``."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        user: str = "lendline",
        timers: TimerValues | None = None,
        server: str = "lendline",
    ) -> None:
        self.endpoint = Endpoint(host, port, timers=timers)
        self.host = host
        self.port = port
        self.user = user
        self.server = server
        self.sessions: dict[DialogId, InviteSession] = {}
        self._events: deque[Event] = deque()
        self._sdp_ids = itertools.count(int.from_bytes(os.urandom(3), "big"))
        self._unanswered = {}

    # ------------------------------------------------------------------ I/O surface
    def receive(self, data: bytes, source: Address, transport: str, now_s: float) -> None:
        self.endpoint.receive(data, source, transport, now_s)
        self._drain()

    def handle_timer(self, now_s: float) -> None:
        self.endpoint.handle_timer(now_s)
        self._drain()

    def get_timer(self) -> float | None:
        return self.endpoint.get_timer()

    def datagrams_to_send(self) -> list[tuple[bytes, Address, str]]:
        return self.endpoint.datagrams_to_send()

    def next_event(self) -> Event | None:
        return self._events.popleft() if self._events else None

    @property
    def now_s(self) -> float:
        return self.endpoint.now_s

    def contact(self, transport: str = "udp") -> str:
        t = "" if transport == "udp" else f";transport={transport}"
        return f"<sip:{self.user}@{self.host}:{self.port}{t}>"

    # ------------------------------------------------------------------ UAS API
    def ring(self, call: InviteSession) -> None:
        """Send 180 Ringing (with our tag: the dialog becomes early)."""
        call.apply("ring")
        resp = make_response(call.invite, 180, to_tag=call.local_tag)
        resp.headers.set("contact", self.contact(call.transport))
        self.endpoint.send_response(call.invite_tx, resp)

    def negotiate(
        self, call: InviteSession, rtp_host: str, rtp_port: int
    ) -> NegotiatedAudio | None:
        """Prepare our SDP: the answer to the caller's offer, or an offer if it sent none.

        Raises ``SdpNotAcceptable`` (answer with ``reject(call, 488, …)``). Returns None for
        a late offer: the media parameters then arrive with the ACK (``CallConfirmed``).
        """
        call.local_host, call.local_port = rtp_host, rtp_port
        sid = next(self._sdp_ids)
        if call.remote_sdp is None:
            call.local_sdp = make_offer(rtp_host, rtp_port, session_id=sid)
            call.answer_sdp = call.local_sdp.to_bytes()
            return None
        answer, audio = answer_offer(call.remote_sdp, rtp_host, rtp_port, session_id=sid)
        call.local_sdp, call.answer_sdp, call.audio = answer, answer.to_bytes(), audio
        call.on_hold = audio.on_hold
        return audio

    def answer(self, call: InviteSession) -> None:
        """Send 200 OK with our SDP; it is retransmitted until the ACK (RFC 3261 §13.3.1.4)."""
        call.apply("answer")
        resp = make_response(
            call.invite,
            200,
            to_tag=call.local_tag,
            body=call.answer_sdp,
            content_type=SDP if call.answer_sdp else None,
        )
        h = resp.headers
        h.set("contact", self.contact(call.transport))
        h.set("allow", ALLOW)
        if call.invite.headers.get("record-route"):
            h.set("record-route", call.invite.headers.get_all("record-route"))
        self.endpoint.send_response(call.invite_tx, resp)
        if call.transport == "udp":
            call.retransmit = call.invite_tx.last
            call.retransmit_interval_s = self.endpoint.timers_values.t1_s
            call.answered_at_s = self.now_s
            self.endpoint.schedule(call, "2xx", call.retransmit_interval_s)

    def reject(self, call: InviteSession, status: int, reason: str = "", warning: str = "") -> None:
        """Refuse an unanswered incoming call (3xx-6xx)."""
        call.apply("reject")
        resp = make_response(call.invite, status, reason, to_tag=call.local_tag)
        if warning:
            resp.headers.set("warning", f'399 {self.host} "{warning}"')
        self.endpoint.send_response(call.invite_tx, resp)
        self._forget(call)

    def hangup(self, call: InviteSession, reason: str = "local hangup") -> None:
        """End the leg whatever its state: reject, CANCEL or BYE as fits."""
        st = call.state
        if st in (SessionState.INCOMING, SessionState.EARLY) and call.role == "uas":
            self.reject(call, 480)
            self._events.append(CallEnded(call, "local", reason))
        elif st in (SessionState.CALLING, SessionState.EARLY):
            call.apply("hangup")
            if call.got_provisional and not call.cancel_sent:
                self._send_cancel(call)
        elif st in (SessionState.ANSWERING, SessionState.CONFIRMED):
            call.apply("bye")
            self._send_bye(call)
            self._end(call, "local", reason)

    def respond(
        self,
        tx: object,
        status: int,
        reason: str = "",
        headers: dict[str, str | list[str]] | None = None,
    ) -> None:
        """Answer an out-of-dialog request (REGISTER, MESSAGE …) delivered to the app."""
        req: Request = tx.request  # type: ignore[attr-defined]
        resp = make_response(req, status, reason, to_tag=new_tag())
        for k, v in (headers or {}).items():
            resp.headers.set(k, v)
        self.endpoint.send_response(tx, resp)  # type: ignore[arg-type]

    # ------------------------------------------------------------------ dispatch
    def _drain(self) -> None:
        ep = self.endpoint
        while (ev := ep.next_event()) is not None:
            try:
                if isinstance(ev, RequestReceived):
                    self._on_request(ev)
                elif isinstance(ev, ResponseReceived):
                    self._on_response(ev)
                elif isinstance(ev, TransactionTimedOut):
                    self._on_timeout(ev)
                else:
                    self._events.append(ev)
            except RemoteProtocolError as exc:  # a header we only read now is malformed
                if isinstance(ev, RequestReceived) and ev.tx is not None:
                    self._reply(ev.tx, exc.status, f"Bad Request ({exc.detail[:80]})")

    def _reply(self, tx: object, status: int, reason: str = "", **hdrs: str) -> None:
        req: Request = tx.request  # type: ignore[attr-defined]
        resp = make_response(req, status, reason, to_tag=None if req.to_tag else new_tag())
        for k, v in hdrs.items():
            resp.headers.set(k.replace("_", "-"), v)
        self.endpoint.send_response(tx, resp)  # type: ignore[arg-type]

    def _on_request(self, ev: RequestReceived) -> None:
        req = ev.request
        if ev.tx is None:
            self._on_ack(req)
            return
        if req.method not in ("CANCEL",) and not self._acceptable(req, ev.tx):
            return
        to_tag = req.to_tag
        if to_tag:
            call = self.sessions.get((req.call_id, to_tag, req.from_tag or ""))
            if call is None:
                self._reply(ev.tx, 481)
            else:
                self._in_dialog(call, req, ev.tx)
            return
        method = req.method
        if method == "INVITE":
            self._new_invite(ev)
        elif method == "CANCEL":
            self._on_cancel(req, ev.tx)
        elif method == "OPTIONS":
            self._reply(ev.tx, 200, allow=ALLOW, accept=SDP, supported="replaces")
        elif method in ("BYE", "INFO", "REFER", "NOTIFY", "UPDATE", "PRACK"):
            self._reply(ev.tx, 481)
        else:
            self._events.append(OutOfDialogRequest(req, ev.tx, ev.source, ev.transport))

    def _acceptable(self, req: Request, tx: object) -> bool:
        """RFC 3261 §8.2.2.3 / §16.3: refuse extensions we lack (420) and exhausted hops (483)."""
        required = [
            opt.strip()
            for value in req.headers.get_all("require")
            for opt in value.split(",")
            if opt.strip()
        ]
        unsupported = [o for o in required if o.lower() not in SUPPORTED]
        if unsupported:
            self._reply(tx, 420, unsupported=", ".join(unsupported))
            return False
        mf = req.headers.get("max-forwards")
        if mf == "0" and req.method != "OPTIONS" and not req.to_tag:
            self._reply(tx, 483)
            return False
        return True

    def _new_invite(self, ev: RequestReceived) -> None:
        req = ev.request
        call = InviteSession("uas", req, new_tag(), ev.source, ev.transport)
        call.owner = self
        call.invite_tx = ev.tx
        ev.tx.context = call
        if req.body:
            ctype = (req.headers.get("content-type") or "").split(";")[0].strip().lower()
            if ctype != SDP:
                self._reply(ev.tx, 415, accept=SDP)
                return
            try:
                call.remote_sdp = parse_sdp(req.body)
            except RemoteProtocolError as exc:
                self._reply(ev.tx, 400, f"Bad Request (SDP: {exc.detail[:80]})")
                return
        call.dialog = Dialog.for_uas(req, call.local_tag, ev.source, ev.transport)
        self.sessions[call.dialog.id] = call
        self._events.append(IncomingCall(call))

    def _on_ack(self, ack: Request) -> None:
        call = self.sessions.get((ack.call_id, ack.to_tag or "", ack.from_tag or ""))
        if call is None or call.retransmit is None:
            return
        call.retransmit = None
        self.endpoint.cancel(call, "2xx")
        if call.state is SessionState.ANSWERING:
            call.apply("ack")
            if call.remote_sdp is None and ack.body:
                try:
                    call.remote_sdp = parse_sdp(ack.body)
                    call.audio = read_answer(call.remote_sdp)
                except RemoteProtocolError:
                    self.hangup(call, "bad SDP answer in ACK")
                    return
            self._events.append(CallConfirmed(call))

    def _on_cancel(self, req: Request, tx: object) -> None:
        inv = self.endpoint.find_invite(req)
        if inv is None:
            self._reply(tx, 481)
            return
        self._reply(tx, 200)
        call = inv.context
        if isinstance(call, InviteSession) and call.can("cancel"):
            call.apply("cancel")
            resp = make_response(call.invite, 487, to_tag=call.local_tag)
            self.endpoint.send_response(inv, resp)
            self._end(call, "remote", "cancelled")

    def _in_dialog(self, call: InviteSession, req: Request, tx: object) -> None:
        method = req.method
        if method == "BYE":
            self._reply(tx, 200)
            if call.can("bye"):
                call.apply("bye")
                self._end(call, "remote", "bye")
        elif method == "INVITE":
            self._on_reinvite(call, req, tx)
        elif method in ("INFO", "NOTIFY", "OPTIONS"):
            self._reply(tx, 200)
            if method == "INFO":
                ctype = req.headers.get("content-type") or ""
                self._events.append(InfoReceived(call, ctype, req.body))
        elif method == "REFER":
            target = req.headers.get("refer-to")
            if not target:
                self._reply(tx, 400, "Bad Request (missing Refer-To)")
                return
            self._reply(tx, 202)
            addr = target.strip().strip("<>").split(">")[0]
            replaces = None
            if "?" in addr and "replaces=" in addr.lower():
                replaces = addr.split("?", 1)[1]
            self._events.append(TransferRequested(call, addr.split("?")[0], replaces))
        elif method == "CANCEL":
            self._reply(tx, 200)
        else:
            self._reply(tx, 405, allow=ALLOW)

    def _on_reinvite(self, call: InviteSession, req: Request, tx: object) -> None:
        if call.state is not SessionState.CONFIRMED or call.retransmit is not None:
            self._reply(tx, 491)
            return
        tx.context = call  # type: ignore[attr-defined]
        body = call.answer_sdp
        if req.body:
            try:
                offer = parse_sdp(req.body)
                call.sdp_version += 1
                answer, audio = answer_offer(
                    offer,
                    call.local_host,
                    call.local_port,
                    session_id=next(self._sdp_ids),
                    version=call.sdp_version,
                )
            except SdpNotAcceptable as exc:
                self._reply(tx, 488, f"Not Acceptable Here ({exc.detail[:60]})")
                return
            except RemoteProtocolError as exc:
                self._reply(tx, 400, f"Bad Request (SDP: {exc.detail[:60]})")
                return
            call.remote_sdp, call.audio, body = offer, audio, answer.to_bytes()
            call.on_hold = audio.on_hold
        resp = make_response(req, 200, body=body, content_type=SDP if body else None)
        resp.headers.set("contact", self.contact(call.transport))
        self.endpoint.send_response(tx, resp)  # type: ignore[arg-type]
        self._events.append(CallUpdated(call, call.on_hold))

    def session_timer(self, call: InviteSession, name: str) -> None:
        """2xx retransmission (UAS): T1 doubling to T2, give up after 64·T1 and send BYE."""
        if name != "2xx" or call.retransmit is None:
            return
        tv = self.endpoint.timers_values
        if self.now_s - call.answered_at_s >= 64 * tv.t1_s - 1e-9:
            call.retransmit = None
            if call.state is SessionState.ANSWERING:
                call.apply("ack_timeout")
                self._send_bye(call)
                self._end(call, "local", "no ACK")
            return
        self.endpoint.counters["retransmissions"] += 1
        self.endpoint.send_raw(call.retransmit, call.invite_tx.peer, call.transport)
        call.retransmit_interval_s = min(call.retransmit_interval_s * 2, tv.t2_s)
        left = call.answered_at_s + 64 * tv.t1_s - self.now_s
        self.endpoint.schedule(call, "2xx", min(call.retransmit_interval_s, left))

    # ------------------------------------------------------------------ helpers
    def _send_bye(self, call: InviteSession) -> None:
        if call.dialog is None:
            return
        bye = call.dialog.create_request("BYE")
        self.endpoint.send_request(bye, call.dialog.peer, call.dialog.transport)

    def _forget(self, call: InviteSession) -> None:
        if call.dialog is not None:
            self.sessions.pop(call.dialog.id, None)
        self.endpoint.cancel(call, "2xx")
        call.retransmit = None

    def _end(self, call: InviteSession, by: str, reason: str) -> None:
        self._forget(call)
        if call.role == "uac" and call.dialog is None:
            self.remember_unanswered(call)
        self._events.append(CallEnded(call, by, reason))

    def _new_headers(self) -> Headers:
        return Headers()

    def _response_for(self, req: Request, status: int) -> Response:
        return make_response(req, status, to_tag=new_tag())
