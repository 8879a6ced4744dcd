"""The sans-I/O SIP transaction layer: bytes in, events out, time passed in, timers pulled.

``Endpoint`` parses what the transport received (``receive``), matches it to a transaction
(RFC 3261 §17.1.3 / §17.2.3) or creates one, and queues events for the transaction user
(``next_event``). What must go on the wire is queued too (``datagrams_to_send``); timers
are pulled (``get_timer``) and fired (``handle_timer``) by the caller, who owns the clock.
Malformed input never raises: it is answered 400 when possible, else dropped, and shows up
as a ``MessageRejected`` event and in ``counters``.
"""

from __future__ import annotations

import itertools
import os
from collections import deque
from typing import Any

from lendline.errors import RemoteProtocolError
from lendline.telephony.sip.events import (
    Address,
    Event,
    MessageRejected,
    RequestReceived,
    ResponseReceived,
    TransactionTimedOut,
)
from lendline.telephony.sip.message import Headers, Request, Response, make_response
from lendline.telephony.sip.parser import SipParseError, parse_message
from lendline.telephony.sip.timers import TimerHeap, TimerValues
from lendline.telephony.sip.transaction import (
    ClientInviteTransaction,
    ClientNonInviteTransaction,
    ServerInviteTransaction,
    ServerNonInviteTransaction,
    Transaction,
    TxState,
    response_event,
)

MAGIC = "z9hG4bK"
Datagram = tuple[bytes, Address, str]


def _token(prefix: str = "") -> str:
    return prefix + os.urandom(8).hex()


class Endpoint:
    """Transaction layer of one SIP node reachable at ``host:port`` (advertised in Via)."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        timers: TimerValues | None = None,
        user_agent: str = "lendline",
    ) -> None:
        self.host = host
        self.port = port
        self.user_agent = user_agent
        self.timers_values = timers or TimerValues()
        self.now_s = 0.0
        self.transactions: dict[Any, Transaction] = {}
        # byte-identical retransmissions of requests skip the parser (cheap under overload)
        self._raw_requests: dict[bytes, Transaction] = {}
        self.counters: dict[str, int] = {"rx": 0, "tx": 0, "rejected": 0, "retransmissions": 0}
        self._events: deque[Event] = deque()
        self._out: list[Datagram] = []
        self._heap = TimerHeap()
        self._branch_seq = itertools.count(1)
        self._branch_salt = os.urandom(4).hex()

    # ------------------------------------------------------------------ I/O surface
    def receive(self, data: bytes, source: Address, transport: str, now_s: float) -> None:
        """Feed one datagram (UDP) or one framed message (TCP) from ``source``."""
        self.now_s = now_s
        self.counters["rx"] += 1
        if not data.strip(b"\r\n"):
            return  # keep-alive (RFC 5626 CRLF ping)
        known = self._raw_requests.get(data)
        if known is not None and known.state is not TxState.TERMINATED:
            self.counters["retransmissions"] += 1
            known.fire("rx_request")
            return
        try:
            msg = parse_message(data, stream=transport != "udp")
        except SipParseError as exc:
            self._reject(exc, source, transport)
            return
        if isinstance(msg, Request):
            self._on_request(msg, source, transport, data)
        else:
            self._on_response(msg)

    def next_event(self) -> Event | None:
        return self._events.popleft() if self._events else None

    def datagrams_to_send(self) -> list[Datagram]:
        out, self._out = self._out, []
        return out

    def get_timer(self) -> float | None:
        """When ``handle_timer`` must next be called (same clock as ``now_s``), or None."""
        return self._heap.next_deadline()

    def handle_timer(self, now_s: float) -> None:
        self.now_s = now_s
        for owner, name in self._heap.pop_due(now_s):
            if isinstance(owner, Transaction):
                if owner.state is not TxState.TERMINATED:
                    if name in ("A", "E", "G"):
                        self.counters["retransmissions"] += 1
                    owner.fire("timer_" + name)
            else:
                owner.on_timer(name)

    # ------------------------------------------------------------------ TU API
    def new_branch(self) -> str:
        return f"{MAGIC}-{self._branch_salt}-{next(self._branch_seq)}"

    def via_value(self, transport: str, branch: str) -> str:
        return f"SIP/2.0/{transport.upper()} {self.host}:{self.port};branch={branch};rport"

    def send_request(
        self, request: Request, dest: Address, transport: str = "udp", *, keep_via: bool = False
    ) -> Transaction:
        """Send ``request`` in a new client transaction.

        Our Via (new branch) is added on top, unless ``keep_via`` (a CANCEL re-uses the
        INVITE's Via and branch, RFC 3261 §9.1).
        """
        if keep_via:
            branch = request.via.branch
        else:
            branch = self.new_branch()
            request.headers.add("via", self.via_value(transport, branch), first=True)
            request.invalidate()
        method = request.method
        key = (branch, "INVITE" if method == "ACK" else method)
        cls = ClientInviteTransaction if method == "INVITE" else ClientNonInviteTransaction
        tx = cls(self, key, request, dest, transport)
        self.transactions[key] = tx
        tx.last = request.to_bytes()
        self.tx_send(tx, tx.last)
        first = "A" if method == "INVITE" else "E"
        delay = tx._delay(first)
        if delay is not None:
            self.tx_schedule(tx, first, delay)
        self.tx_schedule(tx, "B" if method == "INVITE" else "F", 64 * self.timers_values.t1_s)
        return tx

    def send_response(self, tx: Transaction, response: Response) -> None:
        """Send ``response`` through server transaction ``tx``."""
        tx.fire("tx_" + response_event(response.status), response)

    def send_stateless(self, message: Request | Response, dest: Address, transport: str) -> None:
        """Send outside any transaction: ACK for a 2xx, retransmitted 2xx (RFC 3261 §13.3.1.4)."""
        self._out.append((message.to_bytes(), dest, transport))
        self.counters["tx"] += 1

    def send_raw(self, data: bytes, dest: Address, transport: str) -> None:
        self._out.append((data, dest, transport))
        self.counters["tx"] += 1

    def schedule(self, owner: Any, name: str, delay_s: float) -> None:
        """Start a TU timer; ``owner.on_timer(name)`` runs when it fires."""
        self._heap.schedule(owner, name, self.now_s + delay_s)

    def cancel(self, owner: Any, name: str) -> None:
        self._heap.cancel(owner, name)

    def find_invite(self, cancel: Request) -> ServerInviteTransaction | None:
        """The server INVITE transaction a CANCEL targets (same branch, RFC 3261 §9.2)."""
        tx = self.transactions.get(self._server_key(cancel, "INVITE"))
        return tx if isinstance(tx, ServerInviteTransaction) else None

    @staticmethod
    def response_address(request: Request, source: Address) -> Address:
        """Where responses go (RFC 3261 §18.2.2 with RFC 3581 rport): the source IP."""
        via = request.via
        if "rport" in via.params or (via.port is None and source[1] != 5060):
            return source
        return (source[0], via.port or 5060)

    # ------------------------------------------------------------------ transaction owner
    def tx_send(self, tx: Transaction, data: bytes) -> None:
        self._out.append((data, tx.peer, tx.transport))
        self.counters["tx"] += 1

    def tx_schedule(self, tx: Transaction, name: str, delay_s: float) -> None:
        self._heap.schedule(tx, name, self.now_s + delay_s)

    def tx_cancel(self, tx: Transaction, name: str) -> None:
        self._heap.cancel(tx, name)

    def tx_deliver(self, tx: Transaction, response: Response | None) -> None:
        if response is None:
            self._events.append(TransactionTimedOut(tx))
        else:
            self._events.append(ResponseReceived(response, tx))

    def tx_terminated(self, tx: Transaction) -> None:
        if self.transactions.get(tx.key) is tx:
            del self.transactions[tx.key]
        raw = tx.raw
        if raw is not None and self._raw_requests.get(raw) is tx:
            del self._raw_requests[raw]

    def tx_ack_for(self, tx: Transaction, response: Response) -> bytes:
        """ACK for a non-2xx final response (RFC 3261 §17.1.1.3): same branch, To from reply."""
        req = tx.request
        h = Headers()
        h.set("via", req.headers.get("via") or "")
        for key in ("route",):
            if key in req.headers:
                h.set(key, req.headers.get_all(key))
        h.set("max-forwards", "70")
        h.set("from", req.headers.get("from") or "")
        h.set("to", response.headers.get("to") or "")
        h.set("call-id", req.call_id)
        h.set("cseq", f"{req.cseq[0]} ACK")
        return Request("ACK", req.uri, h).to_bytes()

    def tx_trying(self, tx: Transaction) -> bytes:
        return make_response(tx.request, 100).to_bytes()

    # ------------------------------------------------------------------ internals
    @staticmethod
    def _server_key(request: Request, method: str) -> Any:
        via = request.via
        branch = via.branch
        if branch.startswith(MAGIC):
            return (branch, via.host, via.port, method)
        # RFC 2543 peers: match on the request's identity (RFC 3261 §17.2.3)
        return (request.call_id, request.from_tag, request.cseq[0], str(via), method)

    def _on_request(self, req: Request, source: Address, transport: str, raw: bytes = b"") -> None:
        method = req.method
        if method == "ACK":
            tx = self.transactions.get(self._server_key(req, "INVITE"))
            if isinstance(tx, ServerInviteTransaction) and tx.state in (
                TxState.COMPLETED,
                TxState.CONFIRMED,
            ):
                tx.fire("rx_ack")
                return
            self._events.append(RequestReceived(req, None, source, transport))
            return
        key = self._server_key(req, method)
        tx = self.transactions.get(key)
        if tx is not None:
            self.counters["retransmissions"] += 1
            tx.fire("rx_request")
            return
        peer = self.response_address(req, source)
        if method == "INVITE":
            stx: Transaction = ServerInviteTransaction(self, key, req, peer, transport)
            self.tx_schedule(stx, "T", self.timers_values.trying_s)
        else:
            stx = ServerNonInviteTransaction(self, key, req, peer, transport)
        self.transactions[key] = stx
        if raw and transport == "udp":
            stx.raw = raw
            self._raw_requests[raw] = stx
        self._events.append(RequestReceived(req, stx, source, transport))

    def _on_response(self, resp: Response) -> None:
        via = resp.via
        key = (via.branch, resp.cseq[1])
        tx = self.transactions.get(key)
        if tx is None:
            if 200 <= resp.status < 300 and resp.cseq[1] == "INVITE":
                # a 2xx retransmission after the transaction ended: the TU re-ACKs it
                self._events.append(ResponseReceived(resp, None))
            return
        tx.fire("rx_" + response_event(resp.status), resp)

    def _reject(self, exc: SipParseError, source: Address, transport: str) -> None:
        self.counters["rejected"] += 1
        status = 0
        if exc.can_respond() and exc.headers is not None:
            req = Request(exc.method or "OPTIONS", "sip:invalid", exc.headers)
            reason = exc.detail.replace("\r", " ").replace("\n", " ")[:120]
            try:
                tag = None if ";tag=" in (exc.headers.get("to") or "") else _token()
                resp = make_response(req, exc.status, _reason_phrase(exc.status, reason))
                if tag:
                    resp.headers.set("to", f"{exc.headers.get('to')};tag={tag}")
                dest = self.response_address(req, source)
            except RemoteProtocolError:  # Via itself is unreadable: nowhere to answer
                resp = None
            if resp is not None:
                status = exc.status
                self.send_stateless(resp, dest, transport)
        self._events.append(MessageRejected(exc.detail, source, status))


def _reason_phrase(status: int, detail: str) -> str:
    base = {400: "Bad Request", 505: "Version Not Supported", 416: "Unsupported URI Scheme"}
    return f"{base.get(status, 'Bad Request')} ({detail})"
