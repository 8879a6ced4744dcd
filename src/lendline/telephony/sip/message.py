"""SIP requests and responses as plain objects, and their serialization.

Headers are kept under their lower-case full names (compact forms expanded); values of
Via/Contact/Route/Record-Route are split into one entry per element. ``to_bytes()`` writes
the canonical spelling of each name and always a correct ``Content-Length``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lendline.telephony.sip.headers import (
    NameAddr,
    Via,
    display_name,
    parse_cseq,
    parse_name_addr,
    parse_via,
)
from lendline.telephony.sip.uri import SipUri, parse_uri

REASONS = {
    100: "Trying",
    180: "Ringing",
    181: "Call Is Being Forwarded",
    182: "Queued",
    183: "Session Progress",
    200: "OK",
    202: "Accepted",
    301: "Moved Permanently",
    302: "Moved Temporarily",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    407: "Proxy Authentication Required",
    408: "Request Timeout",
    415: "Unsupported Media Type",
    416: "Unsupported URI Scheme",
    420: "Bad Extension",
    423: "Interval Too Brief",
    480: "Temporarily Unavailable",
    481: "Call/Transaction Does Not Exist",
    482: "Loop Detected",
    483: "Too Many Hops",
    486: "Busy Here",
    487: "Request Terminated",
    488: "Not Acceptable Here",
    491: "Request Pending",
    500: "Server Internal Error",
    501: "Not Implemented",
    503: "Service Unavailable",
    505: "Version Not Supported",
    603: "Decline",
}


class Headers:
    """An ordered multi-map from lower-case header name to its values."""

    __slots__ = ("_d",)

    def __init__(self, items: dict[str, list[str]] | None = None) -> None:
        self._d: dict[str, list[str]] = items if items is not None else {}

    def get(self, key: str, default: str | None = None) -> str | None:
        v = self._d.get(key)
        return v[0] if v else default

    def get_all(self, key: str) -> list[str]:
        return list(self._d.get(key, ()))

    def add(self, key: str, value: str, *, first: bool = False) -> None:
        vals = self._d.setdefault(key, [])
        if first:
            vals.insert(0, value)
        else:
            vals.append(value)

    def set(self, key: str, value: str | list[str]) -> None:
        self._d[key] = [value] if isinstance(value, str) else list(value)

    def remove(self, key: str) -> None:
        self._d.pop(key, None)

    def copy(self) -> Headers:
        return Headers({k: list(v) for k, v in self._d.items()})

    def __contains__(self, key: object) -> bool:
        return key in self._d

    def items(self) -> Iterator[tuple[str, str]]:
        for k, vals in self._d.items():
            for v in vals:
                yield k, v


class SipMessage:
    """What requests and responses share: headers, body, and cached parsed header values."""

    __slots__ = ("_cache", "body", "headers")

    def __init__(self, headers: Headers | None = None, body: bytes = b"") -> None:
        self.headers = headers if headers is not None else Headers()
        self.body = body
        self._cache: dict[str, Any] = {}

    def start_line(self) -> str:
        raise NotImplementedError

    def to_bytes(self) -> bytes:
        lines = [self.start_line()]
        for key, vals in self.headers._d.items():
            if key == "content-length":
                continue
            name = display_name(key)
            for v in vals:
                lines.append(f"{name}: {v}")
        lines.append(f"Content-Length: {len(self.body)}\r\n\r\n")
        return "\r\n".join(lines).encode() + self.body

    # --- parsed views (cached; the parser has validated them on the way in) ---
    @property
    def call_id(self) -> str:
        return self.headers.get("call-id") or ""

    @property
    def cseq(self) -> tuple[int, str]:
        c = self._cache.get("cseq")
        if c is None:
            c = self._cache["cseq"] = parse_cseq(self.headers.get("cseq") or "")
        return c

    @property
    def via(self) -> Via:
        v = self._cache.get("via")
        if v is None:
            v = self._cache["via"] = parse_via(self.headers.get("via") or "")
        return v

    @property
    def from_addr(self) -> NameAddr:
        v = self._cache.get("from")
        if v is None:
            v = self._cache["from"] = parse_name_addr(self.headers.get("from") or "")
        return v

    @property
    def to_addr(self) -> NameAddr:
        v = self._cache.get("to")
        if v is None:
            v = self._cache["to"] = parse_name_addr(self.headers.get("to") or "")
        return v

    @property
    def from_tag(self) -> str | None:
        return self.from_addr.tag

    @property
    def to_tag(self) -> str | None:
        return self.to_addr.tag

    @property
    def contact(self) -> NameAddr | None:
        v = self.headers.get("contact")
        return parse_name_addr(v) if v else None

    def invalidate(self) -> None:
        """Forget cached views after editing headers."""
        self._cache.clear()


class Request(SipMessage):
    __slots__ = ("method", "uri")

    def __init__(
        self, method: str, uri: str, headers: Headers | None = None, body: bytes = b""
    ) -> None:
        super().__init__(headers, body)
        self.method = method
        self.uri = uri

    def start_line(self) -> str:
        return f"{self.method} {self.uri} SIP/2.0"

    @property
    def parsed_uri(self) -> SipUri:
        u = self._cache.get("ruri")
        if u is None:
            u = self._cache["ruri"] = parse_uri(self.uri)
        return u

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.uri} call-id={self.call_id}>"


class Response(SipMessage):
    __slots__ = ("reason", "status")

    def __init__(
        self, status: int, reason: str = "", headers: Headers | None = None, body: bytes = b""
    ) -> None:
        super().__init__(headers, body)
        self.status = status
        self.reason = reason or REASONS.get(status, "Unknown")

    def start_line(self) -> str:
        return f"SIP/2.0 {self.status} {self.reason}"

    def __repr__(self) -> str:
        return f"<Response {self.status} {self.reason} call-id={self.call_id}>"


def make_response(
    request: Request,
    status: int,
    reason: str = "",
    *,
    to_tag: str | None = None,
    body: bytes = b"",
    content_type: str | None = None,
) -> Response:
    """A response to ``request``: Via/From/To/Call-ID/CSeq copied (RFC 3261 §8.2.6)."""
    src = request.headers._d
    d: dict[str, list[str]] = {}
    for key in ("via", "from", "to", "call-id", "cseq"):
        vals = src.get(key)
        if vals:
            d[key] = list(vals)
    if status > 100 and to_tag and "to" in d and request.to_tag is None:
        d["to"] = [f"{d['to'][0]};tag={to_tag}"]
    if status == 100 and "timestamp" in src:
        d["timestamp"] = list(src["timestamp"])
    resp = Response(status, reason, Headers(d), body)
    if content_type:
        resp.headers.set("content-type", content_type)
    return resp
