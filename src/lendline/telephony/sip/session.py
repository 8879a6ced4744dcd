"""An INVITE session: one call leg, as UAS (they called us) or UAC (we called them).

State table (``(state, event) → new state``)::

    incoming   ring        → early        UAS sent 180
    incoming   answer      → answering    UAS sent 2xx; retransmits it until the ACK
    early      answer      → answering
    answering  ack         → confirmed
    incoming   reject      → terminated   UAS sent 3xx-6xx
    early      reject      → terminated
    incoming   cancel      → terminated   CANCEL received: 487 sent
    early      cancel      → terminated
    answering  ack_timeout → terminated   no ACK in 64·T1: BYE sent
    answering  bye         → terminated   BYE (either side) before the ACK
    confirmed  bye         → terminated
    calling    provisional → early        UAC got 1xx
    calling    accepted    → confirmed    UAC got 2xx, ACK sent
    early      provisional → early
    early      accepted    → confirmed
    calling    failed      → terminated   3xx-6xx or timer B
    early      failed      → terminated
    calling    cancel      → cancelling   we hang up before the answer
    early      cancel      → cancelling
    cancelling accepted    → terminated   2xx raced our CANCEL: ACK then BYE
    cancelling failed      → terminated   487 after our CANCEL
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from lendline.errors import LocalProtocolError
from lendline.telephony.sip.dialog import Dialog
from lendline.telephony.sip.events import Address
from lendline.telephony.sip.message import Request
from lendline.telephony.sip.sdp import NegotiatedAudio, SessionDescription


class SessionState(StrEnum):
    INCOMING = "incoming"
    EARLY = "early"
    ANSWERING = "answering"
    CONFIRMED = "confirmed"
    CALLING = "calling"
    CANCELLING = "cancelling"
    TERMINATED = "terminated"


_S = SessionState
SESSION_TRANSITIONS: dict[tuple[SessionState, str], SessionState] = {
    (_S.INCOMING, "ring"): _S.EARLY,
    (_S.EARLY, "ring"): _S.EARLY,
    (_S.INCOMING, "answer"): _S.ANSWERING,
    (_S.EARLY, "answer"): _S.ANSWERING,
    (_S.ANSWERING, "ack"): _S.CONFIRMED,
    (_S.INCOMING, "reject"): _S.TERMINATED,
    (_S.EARLY, "reject"): _S.TERMINATED,
    (_S.INCOMING, "cancel"): _S.TERMINATED,
    (_S.EARLY, "cancel"): _S.TERMINATED,
    (_S.ANSWERING, "ack_timeout"): _S.TERMINATED,
    (_S.ANSWERING, "bye"): _S.TERMINATED,
    (_S.CONFIRMED, "bye"): _S.TERMINATED,
    (_S.CALLING, "provisional"): _S.EARLY,
    (_S.CALLING, "accepted"): _S.CONFIRMED,
    (_S.EARLY, "provisional"): _S.EARLY,
    (_S.EARLY, "accepted"): _S.CONFIRMED,
    (_S.CALLING, "failed"): _S.TERMINATED,
    (_S.EARLY, "failed"): _S.TERMINATED,
    (_S.CALLING, "hangup"): _S.CANCELLING,
    (_S.EARLY, "hangup"): _S.CANCELLING,
    (_S.CANCELLING, "accepted"): _S.TERMINATED,
    (_S.CANCELLING, "failed"): _S.TERMINATED,
}


class InviteSession:
    """One call leg. ``context`` belongs to the application (its call object)."""

    __slots__ = (
        "answer_sdp",
        "answered_at_s",
        "audio",
        "cancel_sent",
        "context",
        "dialog",
        "got_provisional",
        "id",
        "invite",
        "invite_tx",
        "local_host",
        "local_port",
        "local_sdp",
        "local_tag",
        "on_hold",
        "owner",
        "remote_sdp",
        "retransmit",
        "retransmit_interval_s",
        "role",
        "sdp_version",
        "source",
        "state",
        "timers",
        "transport",
    )

    def __init__(
        self,
        role: str,
        invite: Request,
        local_tag: str,
        source: Address,
        transport: str,
    ) -> None:
        self.role = role  # "uas" | "uac"
        self.invite = invite
        self.local_tag = local_tag
        self.id = f"{invite.call_id};{local_tag}"
        self.source = source
        self.transport = transport
        self.state = SessionState.INCOMING if role == "uas" else SessionState.CALLING
        self.invite_tx: Any = None
        self.dialog: Dialog | None = None
        self.remote_sdp: SessionDescription | None = None
        self.local_sdp: SessionDescription | None = None
        self.answer_sdp: bytes = b""
        self.audio: NegotiatedAudio | None = None
        self.local_host = ""
        self.local_port = 0
        self.sdp_version = 0
        self.on_hold = False
        self.got_provisional = False
        self.cancel_sent = False
        self.retransmit: bytes | None = None  # our 2xx, until the ACK comes
        self.retransmit_interval_s = 0.0
        self.answered_at_s = 0.0
        self.timers: dict[str, float] = {}
        self.context: Any = None
        self.owner: Any = None  # the UserAgent, which handles this leg's timers

    def __repr__(self) -> str:
        return f"<InviteSession {self.role} {self.id} {self.state.value}>"

    @property
    def call_id(self) -> str:
        return self.invite.call_id

    @property
    def caller(self) -> str:
        """The From URI of the INVITE (who called)."""
        return self.invite.from_addr.uri

    @property
    def dialed(self) -> str:
        """The user part of the Request-URI (the number dialed), or the URI itself."""
        uri = self.invite.parsed_uri
        return uri.user or str(uri)

    def apply(self, event: str) -> SessionState:
        new = SESSION_TRANSITIONS.get((self.state, event))
        if new is None:
            raise LocalProtocolError(f"call leg in state {self.state.value} cannot {event}")
        self.state = new
        return new

    def can(self, event: str) -> bool:
        return (self.state, event) in SESSION_TRANSITIONS

    def on_timer(self, name: str) -> None:
        if self.owner is not None:
            self.owner.session_timer(self, name)
