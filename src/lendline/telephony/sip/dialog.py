"""Dialogs (RFC 3261 §12): the state two user agents share, and in-dialog request building."""

from __future__ import annotations

from dataclasses import dataclass, field

from lendline.telephony.sip.events import Address
from lendline.telephony.sip.headers import parse_name_addr
from lendline.telephony.sip.message import Headers, Request, Response

DialogId = tuple[str, str, str]  # (Call-ID, local tag, remote tag)


@dataclass(slots=True)
class Dialog:
    """``local``/``remote`` are the full From/To header values (with tags) as we send them."""

    call_id: str
    local_tag: str
    remote_tag: str
    local: str
    remote: str
    remote_target: str  # the peer's Contact URI
    peer: Address  # where in-dialog requests go (the peer's source address: symmetric SIP)
    transport: str = "udp"
    route_set: list[str] = field(default_factory=list)
    local_seq: int = 1
    remote_seq: int | None = None

    @property
    def id(self) -> DialogId:
        return (self.call_id, self.local_tag, self.remote_tag)

    def create_request(
        self,
        method: str,
        *,
        contact: str | None = None,
        body: bytes = b"",
        content_type: str | None = None,
        cseq: int | None = None,
    ) -> Request:
        """A request inside this dialog (RFC 3261 §12.2.1.1); CSeq advances unless given."""
        if cseq is None:
            self.local_seq += 1
            cseq = self.local_seq
        h = Headers()
        if self.route_set:
            h.set("route", self.route_set)
        h.set("max-forwards", "70")
        h.set("from", self.local)
        h.set("to", self.remote)
        h.set("call-id", self.call_id)
        h.set("cseq", f"{cseq} {method}")
        if contact:
            h.set("contact", contact)
        if content_type:
            h.set("content-type", content_type)
        return Request(method, self.remote_target, h, body)

    @classmethod
    def for_uas(cls, invite: Request, local_tag: str, peer: Address, transport: str) -> Dialog:
        """The dialog a UAS creates when it answers ``invite`` (RFC 3261 §12.1.1)."""
        contact = invite.contact
        from_tag = invite.from_tag or ""
        return cls(
            call_id=invite.call_id,
            local_tag=local_tag,
            remote_tag=from_tag,
            local=f"{invite.headers.get('to')};tag={local_tag}",
            remote=invite.headers.get("from") or "",
            remote_target=contact.uri if contact else invite.from_addr.uri,
            peer=peer,
            transport=transport,
            route_set=invite.headers.get_all("record-route"),
            local_seq=0,
            remote_seq=invite.cseq[0],
        )

    @classmethod
    def for_uac(cls, invite: Request, response: Response, peer: Address, transport: str) -> Dialog:
        """The dialog a UAC creates from a 2xx (or tagged 1xx) to its INVITE (§12.1.2)."""
        contact = response.contact
        to_value = response.headers.get("to") or ""
        return cls(
            call_id=invite.call_id,
            local_tag=invite.from_tag or "",
            remote_tag=parse_name_addr(to_value).tag or "",
            local=invite.headers.get("from") or "",
            remote=to_value,
            remote_target=contact.uri if contact else invite.uri,
            peer=peer,
            transport=transport,
            route_set=list(reversed(response.headers.get_all("record-route"))),
            local_seq=invite.cseq[0],
        )
