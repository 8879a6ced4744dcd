"""A registrar (RFC 3261 §10) with digest authentication, sans-I/O.

``Registrar.handle(request, source, transport, now_s)`` returns ``(status, reason, headers)``
for the REGISTER; bindings live in memory (``lookup(user)``) with their expiry. Credentials
come from a ``CredentialStore`` (the agents table in production).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from lendline.errors import RemoteProtocolError
from lendline.telephony.sip.digest import DigestChallenger
from lendline.telephony.sip.events import Address
from lendline.telephony.sip.headers import parse_name_addr
from lendline.telephony.sip.message import Request
from lendline.telephony.sip.uri import parse_uri

ReplyHeaders = dict[str, str | list[str]]
MIN_EXPIRES_S = 60
MAX_EXPIRES_S = 3600
DEFAULT_EXPIRES_S = 3600


class CredentialStore(Protocol):
    def ha1(self, user: str) -> dict[str, str | None]:
        """{"MD5": …, "SHA-256": …} for ``user``; empty when the user is unknown."""
        ...


@dataclass(slots=True)
class Binding:
    user: str
    contact: str  # the Contact URI the phone registered
    source: Address  # where its REGISTER came from: we send INVITEs there (NAT-friendly)
    transport: str
    expires_at_s: float


class Registrar:
    def __init__(self, credentials: CredentialStore, challenger: DigestChallenger) -> None:
        self.credentials = credentials
        self.challenger = challenger
        self.bindings: dict[str, dict[str, Binding]] = {}
        self.counters = {"registered": 0, "rejected": 0, "challenged": 0}

    def lookup(self, user: str, now_s: float) -> list[Binding]:
        """Live bindings of ``user`` (expired ones are dropped)."""
        live = [b for b in self.bindings.get(user, {}).values() if b.expires_at_s > now_s]
        if not live:
            self.bindings.pop(user, None)
        return live

    def handle(
        self, req: Request, source: Address, transport: str, now_s: float
    ) -> tuple[int, str, ReplyHeaders]:
        """Authenticate and apply one REGISTER; the response to send."""
        none: ReplyHeaders = {}
        try:
            aor = parse_uri(req.to_addr.uri)
        except RemoteProtocolError as exc:
            return 400, f"Bad Request (To: {exc.detail[:60]})", none
        user = aor.user or ""
        auth = req.headers.get("authorization")
        if not auth:
            self.counters["challenged"] += 1
            return 401, "Unauthorized", self._challenge(now_s)
        result = self.challenger.verify(auth, "REGISTER", self.credentials.ha1(user), now_s)
        if not result.ok:
            if result.stale:
                return 401, "Unauthorized", self._challenge(now_s, stale=True)
            self.counters["rejected"] += 1
            return 403, f"Forbidden ({result.reason})", none
        if result.user != user:
            self.counters["rejected"] += 1
            return 403, "Forbidden (user does not own this address)", none
        default = req.headers.get("expires")
        contacts = req.headers.get_all("contact")
        table = self.bindings.setdefault(user, {})
        for value in contacts:
            na = parse_name_addr(value)
            expires = na.params.get("expires") or default
            secs = int(expires) if expires and expires.isdigit() else DEFAULT_EXPIRES_S
            if na.uri == "*":
                if secs != 0:
                    return 400, "Bad Request (* needs Expires: 0)", none
                table.clear()
                continue
            if 0 < secs < MIN_EXPIRES_S:
                return 423, "Interval Too Brief", {"min-expires": str(MIN_EXPIRES_S)}
            if secs == 0:
                table.pop(na.uri, None)
            else:
                secs = min(secs, MAX_EXPIRES_S)
                table[na.uri] = Binding(user, na.uri, source, transport, now_s + secs)
        self.counters["registered"] += 1
        live = self.lookup(user, now_s)
        headers: ReplyHeaders = {}
        if live:
            headers["contact"] = ", ".join(
                f"<{b.contact}>;expires={int(b.expires_at_s - now_s)}" for b in live
            )
        return 200, "OK", headers

    def _challenge(self, now_s: float, stale: bool = False) -> ReplyHeaders:
        return {"www-authenticate": list(self.challenger.challenge(now_s, stale=stale))}
