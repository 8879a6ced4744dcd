"""The calling side of ``UserAgent``: INVITE out, CANCEL, ACK for 2xx, re-INVITE, REFER."""

from __future__ import annotations

import os
from collections import deque
from typing import TYPE_CHECKING, Any

from lendline.errors import RemoteProtocolError
from lendline.telephony.sip.dialog import Dialog, DialogId
from lendline.telephony.sip.events import (
    Address,
    CallAnswered,
    CallEnded,
    CallFailed,
    CallRinging,
    Event,
    ResponseReceived,
    TransactionTimedOut,
)
from lendline.telephony.sip.message import Headers, Request
from lendline.telephony.sip.sdp import make_offer, parse_sdp, read_answer
from lendline.telephony.sip.session import InviteSession, SessionState

if TYPE_CHECKING:
    from lendline.telephony.sip.endpoint import Endpoint


class UacMixin:
    endpoint: Endpoint
    host: str
    port: int
    user: str
    sessions: dict[DialogId, InviteSession]
    _events: deque[Event]
    # our INVITEs that ended unanswered (timer B, CANCEL …): call-id → (session, when, the
    # dialogs a late 2xx created). Kept 64·T1 so a late 2xx is still ACKed and BYEd.
    _unanswered: dict[str, tuple[InviteSession, float, dict[str, Dialog]]]

    def contact(self, transport: str = "udp") -> str:
        raise NotImplementedError

    def _end(self, call: InviteSession, by: str, reason: str) -> None:
        raise NotImplementedError

    def _send_bye(self, call: InviteSession) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------------ API
    def invite(
        self,
        target: str,
        dest: Address,
        *,
        transport: str = "udp",
        rtp_host: str,
        rtp_port: int,
        from_user: str | None = None,
        display: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> InviteSession:
        """Call ``target`` (a SIP URI) at ``dest``; follow with the call events."""
        tag = os.urandom(6).hex()
        call_id = f"{os.urandom(10).hex()}@{self.host}"
        offer = make_offer(rtp_host, rtp_port, session_id=int.from_bytes(os.urandom(3), "big"))
        disp = f'"{display}" ' if display else ""
        h = Headers()
        h.set("max-forwards", "70")
        h.set("from", f"{disp}<sip:{from_user or self.user}@{self.host}:{self.port}>;tag={tag}")
        h.set("to", f"<{target}>")
        h.set("call-id", call_id)
        h.set("cseq", "1 INVITE")
        h.set("contact", self.contact(transport))
        h.set("allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, REFER, NOTIFY, INFO")
        for k, v in (headers or {}).items():
            h.set(k.lower(), v)
        h.set("content-type", "application/sdp")
        req = Request("INVITE", target, h, offer.to_bytes())
        call = InviteSession("uac", req, tag, dest, transport)
        call.owner = self
        call.local_sdp, call.local_host, call.local_port = offer, rtp_host, rtp_port
        call.invite_tx = self.endpoint.send_request(req, dest, transport)
        call.invite_tx.context = call
        return call

    def hold(self, call: InviteSession, on: bool = True) -> None:
        """re-INVITE with a sendonly (hold) or sendrecv (resume) offer (RFC 3264 §8.4)."""
        if call.dialog is None or call.state is not SessionState.CONFIRMED:
            return
        call.sdp_version += 1
        offer = make_offer(
            call.local_host,
            call.local_port,
            session_id=call.sdp_version + 1,
            version=call.sdp_version,
            direction="sendonly" if on else "sendrecv",
        )
        req = call.dialog.create_request(
            "INVITE",
            contact=self.contact(call.transport),
            body=offer.to_bytes(),
            content_type="application/sdp",
        )
        tx = self.endpoint.send_request(req, call.dialog.peer, call.dialog.transport)
        tx.context = call
        call.on_hold = on

    def refer(self, call: InviteSession, target: str) -> None:
        """Ask the peer to call ``target`` (blind transfer, RFC 3515)."""
        if call.dialog is None:
            return
        req = call.dialog.create_request("REFER", contact=self.contact(call.transport))
        req.headers.set("refer-to", f"<{target}>")
        req.headers.set("referred-by", f"<sip:{self.user}@{self.host}:{self.port}>")
        self.endpoint.send_request(req, call.dialog.peer, call.dialog.transport)

    def notify_transfer(self, call: InviteSession, status: int, reason: str) -> None:
        """Report a REFER's outcome to its sender (message/sipfrag NOTIFY)."""
        if call.dialog is None:
            return
        req = call.dialog.create_request(
            "NOTIFY",
            contact=self.contact(call.transport),
            body=f"SIP/2.0 {status} {reason}\r\n".encode(),
            content_type="message/sipfrag",
        )
        req.headers.set("event", "refer")
        req.headers.set("subscription-state", "terminated;reason=noresource")
        self.endpoint.send_request(req, call.dialog.peer, call.dialog.transport)

    # ------------------------------------------------------------------ responses
    def _on_response(self, ev: ResponseReceived) -> None:
        resp = ev.response
        tx: Any = ev.tx
        if tx is None:  # a 2xx to an INVITE whose client transaction has ended
            call = self.sessions.get((resp.call_id, resp.from_tag or "", resp.to_tag or ""))
            if call is not None and call.dialog is not None:
                self._send_ack(call, resp.cseq[0])  # a retransmission: ACK it again
            else:
                self._late_2xx(resp)
            return
        call = tx.context
        if not isinstance(call, InviteSession) or tx.request.method != "INVITE":
            return
        status = resp.status
        if tx is not call.invite_tx:  # our re-INVITE
            if 200 <= status < 300:
                self._send_ack(call, resp.cseq[0])
            return
        if status < 200:
            if status == 100:
                call.got_provisional = True
            else:
                call.got_provisional = True
                if call.state is not SessionState.CANCELLING:
                    call.apply("provisional")
                    self._events.append(CallRinging(call, status))
            if call.state is SessionState.CANCELLING and not call.cancel_sent:
                self._send_cancel(call)
            return
        if status < 300:
            self._on_2xx(call, resp, tx)
            return
        if call.state is SessionState.CANCELLING:
            call.apply("failed")
            self._end(call, "local", "cancelled")
        elif call.can("failed"):
            call.apply("failed")
            self._events.append(CallFailed(call, status, resp.reason))

    def _on_2xx(self, call: InviteSession, resp: Any, tx: Any) -> None:
        if call.state is SessionState.TERMINATED:  # we gave up on it already: ACK, BYE
            self._late_2xx(resp, call)
            return
        if call.state is SessionState.CONFIRMED:
            self._send_ack(call, resp.cseq[0])
            return
        call.dialog = Dialog.for_uac(call.invite, resp, tx.peer, tx.transport)
        self.sessions[call.dialog.id] = call
        self._send_ack(call, resp.cseq[0])
        if call.state is SessionState.CANCELLING:
            call.apply("accepted")
            self._send_bye(call)
            self._end(call, "local", "cancelled")
            return
        call.apply("accepted")
        try:
            call.remote_sdp = parse_sdp(resp.body)
            call.audio = read_answer(call.remote_sdp)
        except RemoteProtocolError:
            call.apply("bye") if call.can("bye") else None
            self._send_bye(call)
            self._end(call, "local", "no usable SDP answer")
            return
        self._events.append(CallAnswered(call))

    def _on_timeout(self, ev: TransactionTimedOut) -> None:
        tx: Any = ev.tx
        call = tx.context
        if isinstance(call, InviteSession) and tx is call.invite_tx and tx.is_client:
            if call.state is SessionState.CANCELLING:
                call.apply("failed")
                self._end(call, "local", "cancelled")
            elif call.can("failed"):
                call.apply("failed")
                self.remember_unanswered(call)  # the callee may still answer: ACK, BYE
                self._events.append(CallFailed(call, 408, "Request Timeout"))

    def remember_unanswered(self, call: InviteSession) -> None:
        """``call`` (ours) ended before any 2xx: keep it so a late 2xx is ACKed and BYEd."""
        now = self.endpoint.now_s
        keep = 64 * self.endpoint.timers_values.t1_s
        for cid, (_c, at, _d) in list(self._unanswered.items()):
            if now - at > keep:
                del self._unanswered[cid]
        self._unanswered[call.invite.call_id] = (call, now, {})

    def _late_2xx(self, resp: Any, call: InviteSession | None = None) -> None:
        """RFC 3261 §13.2.2.4 / RFC 6026: a 2xx to an INVITE we no longer want (it came
        after timer B, after our CANCEL was answered, after we hung up): ACK it, then BYE
        that dialog once; its retransmissions are only ACKed again."""
        entry = self._unanswered.get(resp.call_id)
        if call is None:
            if entry is None or entry[0].local_tag != (resp.from_tag or ""):
                return  # not one of ours
            call = entry[0]
        elif entry is None or entry[0] is not call:
            self.remember_unanswered(call)
            entry = self._unanswered[resp.call_id]
        dialogs = entry[2]
        to_tag = resp.to_tag or ""
        dialog = dialogs.get(to_tag)
        fresh = dialog is None
        if dialog is None:
            dialog = dialogs[to_tag] = Dialog.for_uac(
                call.invite, resp, call.source, call.transport
            )
        ack = dialog.create_request("ACK", cseq=resp.cseq[0])
        ep = self.endpoint
        ack.headers.add("via", ep.via_value(dialog.transport, ep.new_branch()), first=True)
        ep.send_stateless(ack, dialog.peer, dialog.transport)
        if fresh:
            bye = dialog.create_request("BYE")
            ep.send_request(bye, dialog.peer, dialog.transport)

    def _send_ack(self, call: InviteSession, cseq: int) -> None:
        assert call.dialog is not None
        ack = call.dialog.create_request("ACK", cseq=cseq)
        ep = self.endpoint
        ack.headers.add("via", ep.via_value(call.dialog.transport, ep.new_branch()), first=True)
        ep.send_stateless(ack, call.dialog.peer, call.dialog.transport)

    def _send_cancel(self, call: InviteSession) -> None:
        inv = call.invite
        h = Headers()
        h.set("via", inv.headers.get("via") or "")
        if "route" in inv.headers:
            h.set("route", inv.headers.get_all("route"))
        h.set("max-forwards", "70")
        h.set("from", inv.headers.get("from") or "")
        h.set("to", inv.headers.get("to") or "")
        h.set("call-id", inv.call_id)
        h.set("cseq", f"{inv.cseq[0]} CANCEL")
        cancel = Request("CANCEL", inv.uri, h)
        self.endpoint.send_request(cancel, call.source, call.transport, keep_via=True)
        call.cancel_sent = True


__all__ = ["CallEnded", "UacMixin"]
