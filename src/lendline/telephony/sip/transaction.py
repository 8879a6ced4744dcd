"""The four RFC 3261 §17 transaction machines (with RFC 6026's Accepted state).

Each machine is a table ``(state, event) → (new state, actions)``, interpreted by
``Transaction.fire``. Events are ``rx_1xx``/``rx_2xx``/``rx_final`` (response received),
``rx_request``/``rx_ack`` (request retransmission / ACK received), ``tx_1xx``/``tx_2xx``/
``tx_final`` (the TU sends a response), and ``timer_X``. A pair not in the table is
ignored (a late retransmission); for the TU sending, it raises ``LocalProtocolError``.

Client INVITE (timers A, B, D, M)::

    calling    rx_1xx   → proceeding  tu, stop A, stop B
    calling    rx_2xx   → accepted    tu, stop A, stop B, start M
    calling    rx_final → completed   ack, tu, stop A, stop B, start D
    calling    timer_A  → calling     resend, start A (doubled)
    calling    timer_B  → terminated  timeout
    proceeding rx_1xx   → proceeding  tu
    proceeding rx_2xx   → accepted    tu, start M
    proceeding rx_final → completed   ack, tu, start D
    accepted   rx_2xx   → accepted    tu                 (the TU re-ACKs)
    accepted   timer_M  → terminated
    completed  rx_final → completed   ack
    completed  timer_D  → terminated

Client non-INVITE (timers E, F, K)::

    trying     rx_1xx   → proceeding  tu
    trying     rx_final → completed   tu, stop E, stop F, start K   (rx_2xx likewise)
    trying     timer_E  → trying      resend, start E (doubled, ≤ T2)
    trying     timer_F  → terminated  timeout
    proceeding rx_1xx   → proceeding  tu
    proceeding rx_final → completed   tu, stop E, stop F, start K
    proceeding timer_E  → proceeding  resend, start E (T2)
    proceeding timer_F  → terminated  timeout
    completed  timer_K  → terminated

Server INVITE (timers G, H, I, L and the 200 ms Trying timer)::

    proceeding rx_request → proceeding  resend            (absorbed, last 1xx repeated)
    proceeding timer_T    → proceeding  send_trying
    proceeding tx_1xx     → proceeding  send, stop T
    proceeding tx_2xx     → accepted    send, stop T, start L
    proceeding tx_final   → completed   send, stop T, start G, start H
    accepted   rx_request → accepted
    accepted   tx_2xx     → accepted    send               (the TU retransmits its 2xx)
    accepted   timer_L    → terminated
    completed  rx_request → completed   resend
    completed  rx_ack     → confirmed   stop G, stop H, start I
    completed  timer_G    → completed   resend, start G (doubled, ≤ T2)
    completed  timer_H    → terminated  timeout
    confirmed  rx_ack     → confirmed
    confirmed  timer_I    → terminated

Server non-INVITE (timer J)::

    trying     rx_request → trying
    trying     tx_1xx     → proceeding  send
    trying     tx_final   → completed   send, start J     (tx_2xx likewise)
    proceeding rx_request → proceeding  resend
    proceeding tx_1xx     → proceeding  send
    proceeding tx_final   → completed   send, start J
    completed  rx_request → completed   resend
    completed  timer_J    → terminated

On a reliable transport (TCP) A, E and G never start and D, I, J, K are zero.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from lendline.errors import LocalProtocolError

if TYPE_CHECKING:
    from lendline.telephony.sip.events import Address
    from lendline.telephony.sip.message import Request, Response
    from lendline.telephony.sip.timers import TimerValues


class TxState(StrEnum):
    CALLING = "calling"
    TRYING = "trying"
    PROCEEDING = "proceeding"
    ACCEPTED = "accepted"
    COMPLETED = "completed"
    CONFIRMED = "confirmed"
    TERMINATED = "terminated"


_S = TxState
Table = dict[tuple[TxState, str], tuple[TxState, tuple[str, ...]]]

CLIENT_INVITE: Table = {
    (_S.CALLING, "rx_1xx"): (_S.PROCEEDING, ("tu", "stop_A", "stop_B")),
    (_S.CALLING, "rx_2xx"): (_S.ACCEPTED, ("tu", "stop_A", "stop_B", "start_M")),
    (_S.CALLING, "rx_final"): (_S.COMPLETED, ("ack", "tu", "stop_A", "stop_B", "start_D")),
    (_S.CALLING, "timer_A"): (_S.CALLING, ("resend", "start_A")),
    (_S.CALLING, "timer_B"): (_S.TERMINATED, ("timeout",)),
    (_S.PROCEEDING, "rx_1xx"): (_S.PROCEEDING, ("tu",)),
    (_S.PROCEEDING, "rx_2xx"): (_S.ACCEPTED, ("tu", "start_M")),
    (_S.PROCEEDING, "rx_final"): (_S.COMPLETED, ("ack", "tu", "start_D")),
    (_S.ACCEPTED, "rx_2xx"): (_S.ACCEPTED, ("tu",)),
    (_S.ACCEPTED, "timer_M"): (_S.TERMINATED, ()),
    (_S.COMPLETED, "rx_final"): (_S.COMPLETED, ("ack",)),
    (_S.COMPLETED, "timer_D"): (_S.TERMINATED, ()),
}
_NI_DONE = ("tu", "stop_E", "stop_F", "start_K")
CLIENT_NON_INVITE: Table = {
    (_S.TRYING, "rx_1xx"): (_S.PROCEEDING, ("tu",)),
    (_S.TRYING, "rx_2xx"): (_S.COMPLETED, _NI_DONE),
    (_S.TRYING, "rx_final"): (_S.COMPLETED, _NI_DONE),
    (_S.TRYING, "timer_E"): (_S.TRYING, ("resend", "start_E")),
    (_S.TRYING, "timer_F"): (_S.TERMINATED, ("timeout",)),
    (_S.PROCEEDING, "rx_1xx"): (_S.PROCEEDING, ("tu",)),
    (_S.PROCEEDING, "rx_2xx"): (_S.COMPLETED, _NI_DONE),
    (_S.PROCEEDING, "rx_final"): (_S.COMPLETED, _NI_DONE),
    (_S.PROCEEDING, "timer_E"): (_S.PROCEEDING, ("resend", "start_E")),
    (_S.PROCEEDING, "timer_F"): (_S.TERMINATED, ("timeout",)),
    (_S.COMPLETED, "timer_K"): (_S.TERMINATED, ()),
}
SERVER_INVITE: Table = {
    (_S.PROCEEDING, "rx_request"): (_S.PROCEEDING, ("resend",)),
    (_S.PROCEEDING, "timer_T"): (_S.PROCEEDING, ("send_trying",)),
    (_S.PROCEEDING, "tx_1xx"): (_S.PROCEEDING, ("send", "stop_T")),
    (_S.PROCEEDING, "tx_2xx"): (_S.ACCEPTED, ("send", "stop_T", "start_L")),
    (_S.PROCEEDING, "tx_final"): (_S.COMPLETED, ("send", "stop_T", "start_G", "start_H")),
    (_S.ACCEPTED, "rx_request"): (_S.ACCEPTED, ()),
    (_S.ACCEPTED, "tx_2xx"): (_S.ACCEPTED, ("send",)),
    (_S.ACCEPTED, "timer_L"): (_S.TERMINATED, ()),
    (_S.COMPLETED, "rx_request"): (_S.COMPLETED, ("resend",)),
    (_S.COMPLETED, "rx_ack"): (_S.CONFIRMED, ("stop_G", "stop_H", "start_I")),
    (_S.COMPLETED, "timer_G"): (_S.COMPLETED, ("resend", "start_G")),
    (_S.COMPLETED, "timer_H"): (_S.TERMINATED, ("timeout",)),
    (_S.CONFIRMED, "rx_ack"): (_S.CONFIRMED, ()),
    (_S.CONFIRMED, "timer_I"): (_S.TERMINATED, ()),
}
SERVER_NON_INVITE: Table = {
    (_S.TRYING, "rx_request"): (_S.TRYING, ()),
    (_S.TRYING, "tx_1xx"): (_S.PROCEEDING, ("send",)),
    (_S.TRYING, "tx_2xx"): (_S.COMPLETED, ("send", "start_J")),
    (_S.TRYING, "tx_final"): (_S.COMPLETED, ("send", "start_J")),
    (_S.PROCEEDING, "rx_request"): (_S.PROCEEDING, ("resend",)),
    (_S.PROCEEDING, "tx_1xx"): (_S.PROCEEDING, ("send",)),
    (_S.PROCEEDING, "tx_2xx"): (_S.COMPLETED, ("send", "start_J")),
    (_S.PROCEEDING, "tx_final"): (_S.COMPLETED, ("send", "start_J")),
    (_S.COMPLETED, "rx_request"): (_S.COMPLETED, ("resend",)),
    (_S.COMPLETED, "timer_J"): (_S.TERMINATED, ()),
}


class TransactionOwner(Protocol):
    """What a transaction needs from its endpoint (sans-I/O: it only queues work)."""

    timers_values: TimerValues

    def tx_send(self, tx: Transaction, data: bytes) -> None: ...

    def tx_schedule(self, tx: Transaction, name: str, delay_s: float) -> None: ...

    def tx_cancel(self, tx: Transaction, name: str) -> None: ...

    def tx_deliver(self, tx: Transaction, response: Response | None) -> None: ...

    def tx_terminated(self, tx: Transaction) -> None: ...

    def tx_ack_for(self, tx: Transaction, response: Response) -> bytes: ...

    def tx_trying(self, tx: Transaction) -> bytes: ...


def response_event(status: int) -> str:
    if status < 200:
        return "1xx"
    return "2xx" if status < 300 else "final"


class Transaction:
    """One transaction: its request, peer address, state, live timers and last message."""

    table: ClassVar[Table] = {}
    initial: TxState = TxState.TRYING
    is_invite = False
    is_client = False

    def __init__(
        self,
        owner: TransactionOwner,
        key: Any,
        request: Request,
        peer: Address,
        transport: str,
    ) -> None:
        self.owner = owner
        self.key = key
        self.request = request
        self.peer = peer
        self.transport = transport
        self.reliable = transport != "udp"
        self.state = self.initial
        self.timers: dict[str, float] = {}
        self.last: bytes | None = None  # last message sent (request or response)
        self.response: Response | None = None  # last response sent or received
        self.interval_s = 0.0  # current retransmission interval of A/E/G
        self.context: Any = None  # the TU's object (session, registration …)
        self.raw: bytes | None = None  # the request's bytes (server, UDP): retransmission key

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.request.method} {self.state.value}>"

    def fire(self, event: str, response: Response | None = None) -> bool:
        """Apply ``event``; False if the table has no such transition (ignored)."""
        entry = self.table.get((self.state, event))
        if entry is None:
            if event.startswith("tx_"):
                raise LocalProtocolError(
                    f"{type(self).__name__} in {self.state.value} cannot send a response"
                )
            return False
        self.state, actions = entry
        if response is not None:
            self.response = response
        owner = self.owner
        for action in actions:
            if action == "tu":
                owner.tx_deliver(self, response)
            elif action == "send":
                assert response is not None
                self.last = response.to_bytes()
                owner.tx_send(self, self.last)
            elif action == "resend":
                if self.last is not None:
                    owner.tx_send(self, self.last)
            elif action.startswith("start_"):
                name = action[6:]
                delay = self._delay(name)
                if delay is not None:
                    owner.tx_schedule(self, name, delay)
            elif action.startswith("stop_"):
                owner.tx_cancel(self, action[5:])
            elif action == "ack":
                assert response is not None
                owner.tx_send(self, owner.tx_ack_for(self, response))
            elif action == "send_trying":
                self.last = owner.tx_trying(self)
                owner.tx_send(self, self.last)
            elif action == "timeout":
                owner.tx_deliver(self, None)
        if self.state is TxState.TERMINATED:
            self.timers.clear()
            owner.tx_terminated(self)
        return True

    def _delay(self, name: str) -> float | None:
        """Seconds until timer ``name`` fires, or None when it does not run on this transport."""
        tv = self.owner.timers_values
        t1, t2 = tv.t1_s, tv.t2_s
        if name in ("A", "E", "G"):
            if self.reliable:
                return None
            if self.interval_s == 0.0:
                self.interval_s = t1
            elif name == "A":
                self.interval_s *= 2
            elif name == "E" and self.state is TxState.PROCEEDING:
                self.interval_s = t2
            else:
                self.interval_s = min(self.interval_s * 2, t2)
            return self.interval_s
        if name in ("B", "F", "H", "L", "M"):
            return 64 * t1
        if name == "T":
            return tv.trying_s
        if name == "D":
            return 0.0 if self.reliable else max(32.0, 64 * t1)
        if name == "J":
            return 0.0 if self.reliable else 64 * t1
        # I and K
        return 0.0 if self.reliable else tv.t4_s


class ClientInviteTransaction(Transaction):
    table = CLIENT_INVITE
    initial = TxState.CALLING
    is_invite = True
    is_client = True


class ClientNonInviteTransaction(Transaction):
    table = CLIENT_NON_INVITE
    initial = TxState.TRYING
    is_client = True


class ServerInviteTransaction(Transaction):
    table = SERVER_INVITE
    initial = TxState.PROCEEDING
    is_invite = True


class ServerNonInviteTransaction(Transaction):
    table = SERVER_NON_INVITE
    initial = TxState.TRYING
