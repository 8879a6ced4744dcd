"""Events the sans-I/O SIP endpoint and user agent hand to their caller."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lendline.telephony.sip.message import Request, Response

Address = tuple[str, int]


@dataclass(slots=True)
class Event:
    """Base of endpoint events."""


# --- transaction layer (Endpoint) ---
@dataclass(slots=True)
class RequestReceived(Event):
    """A new request. ``tx`` is its server transaction (None for an ACK to a 2xx)."""

    request: Request
    tx: Any
    source: Address
    transport: str


@dataclass(slots=True)
class ResponseReceived(Event):
    response: Response
    tx: Any  # the ClientTransaction it matched


@dataclass(slots=True)
class TransactionTimedOut(Event):
    """Timer B/F (no final response) or H (no ACK for our error response) fired."""

    tx: Any


@dataclass(slots=True)
class MessageRejected(Event):
    """Malformed input: answered with ``status`` (0 = dropped); the reason is for logs/metrics."""

    reason: str
    source: Address
    status: int


# --- user agent (calls) ---
@dataclass(slots=True)
class IncomingCall(Event):
    """A new INVITE: answer it with ``UserAgent.answer`` or refuse with ``reject``."""

    call: Any  # InviteSession


@dataclass(slots=True)
class CallRinging(Event):
    call: Any
    status: int


@dataclass(slots=True)
class CallAnswered(Event):
    """Our INVITE was answered (2xx, ACK sent) or the caller ACKed our 2xx."""

    call: Any


@dataclass(slots=True)
class CallConfirmed(Event):
    """The ACK for our 2xx arrived: the dialog is confirmed (UAS side)."""

    call: Any


@dataclass(slots=True)
class CallFailed(Event):
    """Our INVITE got a final error response, or timed out (status 408)."""

    call: Any
    status: int
    reason: str


@dataclass(slots=True)
class CallEnded(Event):
    """The call is over. ``by`` is ``remote`` (BYE/CANCEL received) or ``local``."""

    call: Any
    by: str
    reason: str


@dataclass(slots=True)
class CallUpdated(Event):
    """A re-INVITE changed the remote SDP (hold/resume); already answered by the UA."""

    call: Any
    on_hold: bool


@dataclass(slots=True)
class TransferRequested(Event):
    """REFER received (202 already sent): ``target`` is the Refer-To URI."""

    call: Any
    target: str
    replaces: str | None


@dataclass(slots=True)
class InfoReceived(Event):
    """SIP INFO inside a call (e.g. application/dtmf-relay)."""

    call: Any
    content_type: str
    body: bytes


@dataclass(slots=True)
class OutOfDialogRequest(Event):
    """REGISTER, MESSAGE, SUBSCRIBE, …: the application must answer ``tx``."""

    request: Request
    tx: Any
    source: Address
    transport: str
