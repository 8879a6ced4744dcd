"""Header values of RFC 3261 §20: names (compact forms), comma lists, Via, name-addr, CSeq.

All parsers take the header *value* (already unfolded) and raise ``RemoteProtocolError``
when it is malformed, so a bad header becomes a 400 naming it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lendline.errors import RemoteProtocolError
from lendline.telephony.sip.uri import format_params, parse_params, split_hostport

# compact form (RFC 3261 §7.3.3 and later RFCs) -> full name
COMPACT = {
    "i": "call-id",
    "m": "contact",
    "e": "content-encoding",
    "l": "content-length",
    "c": "content-type",
    "f": "from",
    "s": "subject",
    "k": "supported",
    "t": "to",
    "v": "via",
    "o": "event",
    "r": "refer-to",
    "b": "referred-by",
    "u": "allow-events",
    "x": "session-expires",
    "a": "accept-contact",
    "j": "reject-contact",
    "d": "request-disposition",
    "y": "identity",
}
# how each known header is spelled when we write it
_KNOWN = (
    "via",
    "from",
    "to",
    "contact",
    "route",
    "record-route",
    "max-forwards",
    "content-type",
    "content-length",
    "allow",
    "supported",
    "require",
    "proxy-require",
    "unsupported",
    "accept",
    "user-agent",
    "server",
    "expires",
    "min-expires",
    "authorization",
    "proxy-authorization",
    "proxy-authenticate",
    "subject",
    "event",
    "refer-to",
    "referred-by",
    "allow-events",
    "session-expires",
    "retry-after",
    "reason",
    "date",
    "content-disposition",
    "content-encoding",
    "content-language",
    "organization",
    "priority",
    "warning",
    "replaces",
    "min-se",
    "timestamp",
    "in-reply-to",
    "alert-info",
    "call-info",
    "error-info",
)
DISPLAY = {n: "-".join(p.capitalize() for p in n.split("-")) for n in _KNOWN}
DISPLAY.update(
    {
        "call-id": "Call-ID",
        "cseq": "CSeq",
        "www-authenticate": "WWW-Authenticate",
        "authentication-info": "Authentication-Info",
        "mime-version": "MIME-Version",
    }
)
# headers whose value is a comma-separated list that we split into separate entries
LIST_HEADERS = frozenset({"via", "contact", "route", "record-route"})


_TOKEN_RE = re.compile(r"[A-Za-z0-9\-.!%*_+`'~]+")
_CANONICAL: dict[str, str] = {}


def is_token(text: str) -> bool:
    return _TOKEN_RE.fullmatch(text) is not None


def canonical_name(raw: str) -> str:
    """Lower-case full name of a header: ``"v"`` → ``"via"``, ``"CALL-ID"`` → ``"call-id"``."""
    name = _CANONICAL.get(raw)
    if name is None:
        low = raw.lower()
        name = COMPACT.get(low, low)
        if len(_CANONICAL) < 4096:  # names seen on the wire; bounded against floods
            _CANONICAL[raw] = name
    return name


def display_name(key: str) -> str:
    return DISPLAY.get(key) or "-".join(p.capitalize() for p in key.split("-"))


def split_list(value: str) -> list[str]:
    """Split at commas that are outside quotes and angle brackets."""
    if "," not in value:
        return [value]
    parts: list[str] = []
    start = 0
    quoted = False
    angle = 0
    i = 0
    n = len(value)
    while i < n:
        c = value[i]
        if quoted:
            if c == "\\":
                i += 1
            elif c == '"':
                quoted = False
        elif c == '"':
            quoted = True
        elif c == "<":
            angle += 1
        elif c == ">":
            angle -= 1
        elif c == "," and angle == 0:
            parts.append(value[start:i].strip())
            start = i + 1
        i += 1
    if quoted:
        raise RemoteProtocolError(f"unterminated quoted string in {value!r}")
    parts.append(value[start:].strip())
    return [p for p in parts if p]


@dataclass(slots=True)
class Via:
    """One Via entry: ``SIP/2.0/UDP host:port;branch=…;rport``."""

    transport: str
    host: str
    port: int | None
    params: dict[str, str | None] = field(default_factory=dict)

    @property
    def branch(self) -> str:
        return self.params.get("branch") or ""

    def __str__(self) -> str:
        hp = self.host if self.port is None else f"{self.host}:{self.port}"
        return f"SIP/2.0/{self.transport} {hp}{format_params(self.params)}"


_VIA = re.compile(r"^\s*SIP\s*/\s*2\.0\s*/\s*([^\s/]+)\s+(.+)$", re.IGNORECASE | re.DOTALL)


def parse_via(value: str) -> Via:
    """Parse one Via value; LWS is allowed around the slashes (RFC 3261 §25.1 SLASH)."""
    m = _VIA.match(value)
    if m is None:
        raise RemoteProtocolError(f"bad Via {value!r}")
    transport, rest = m.group(1), m.group(2).strip()
    if not is_token(transport):
        raise RemoteProtocolError(f"bad Via transport {transport!r}")
    hostport, _, ptext = rest.partition(";")
    host, port = split_hostport(hostport.replace(" ", "").replace("\t", ""))
    return Via(transport.upper(), host, port, parse_params(ptext))


@dataclass(slots=True)
class NameAddr:
    """From/To/Contact/Route value: optional display name, URI text, header parameters."""

    uri: str
    display: str | None = None
    params: dict[str, str | None] = field(default_factory=dict)

    @property
    def tag(self) -> str | None:
        return self.params.get("tag")

    def __str__(self) -> str:
        disp = f'"{self.display}" ' if self.display else ""
        return f"{disp}<{self.uri}>{format_params(self.params)}"


def parse_name_addr(value: str) -> NameAddr:
    """Parse ``"Bob" <sip:bob@x>;tag=1`` or ``sip:bob@x;tag=1`` (params then belong to header)."""
    v = value.strip()
    if v == "*":
        return NameAddr(uri="*")
    display: str | None = None
    if v.startswith('"'):
        i = 1
        chars: list[str] = []
        while i < len(v) and v[i] != '"':
            if v[i] == "\\" and i + 1 < len(v):
                i += 1
            chars.append(v[i])
            i += 1
        if i >= len(v):
            raise RemoteProtocolError(f"unterminated display name in {value!r}")
        display = "".join(chars)
        v = v[i + 1 :].lstrip()
        if not v.startswith("<"):
            raise RemoteProtocolError(f"quoted display name without <URI> in {value!r}")
    lt = v.find("<")
    if lt >= 0:
        gt = v.find(">", lt)
        if gt < 0:
            raise RemoteProtocolError(f"unterminated <URI> in {value!r}")
        if display is None and v[:lt].strip():
            display = v[:lt].strip()
        uri = v[lt + 1 : gt].strip()
        rest = v[gt + 1 :].strip()
        if rest and not rest.startswith(";"):
            raise RemoteProtocolError(f"junk after URI in {value!r}")
        return NameAddr(uri=uri, display=display, params=parse_params(rest))
    uri, _, ptext = v.partition(";")
    if " " in uri.strip() or not uri.strip():
        raise RemoteProtocolError(f"bad address {value!r}")
    return NameAddr(uri=uri.strip(), params=parse_params(ptext))


def parse_cseq(value: str) -> tuple[int, str]:
    num, _, method = value.strip().partition(" ")
    method = method.strip()
    if not num.isdigit() or len(num) > 10 or not is_token(method):
        raise RemoteProtocolError(f"bad CSeq {value!r}")
    seq = int(num)
    if seq >= 2**31:
        raise RemoteProtocolError(f"CSeq number out of range {value!r}")
    return seq, method
