"""Bytes → ``Request``/``Response`` (RFC 3261 §7, §18.3, §25), and TCP stream framing.

Everything wrong with a message raises ``SipParseError`` (a ``RemoteProtocolError``): its
``status`` is the response to send (400, or 505 for another SIP version, 416 for an unknown
URI scheme) and ``headers`` what could be read, so the endpoint can answer a request it
could not accept. Accepted: compact names, folded lines (LWS), comma lists, bare-LF line
ends, leading CRLFs; checked: start line, Via/From/To/Call-ID/CSeq, CSeq method,
Max-Forwards, Content-Length against the body.
"""

from __future__ import annotations

import re

from lendline.errors import RemoteProtocolError
from lendline.telephony.sip.headers import LIST_HEADERS, canonical_name, is_token, split_list
from lendline.telephony.sip.message import Headers, Request, Response, SipMessage
from lendline.telephony.sip.uri import SipUri, parse_uri

MAX_MESSAGE_BYTES = 65_535
_FOLD = re.compile(r"\r?\n[ \t]+")
_REQUIRED = ("via", "from", "to", "call-id", "cseq")
_KNOWN_NAMES: dict[str, str] = {}  # raw header name as seen on the wire -> canonical key


class SipParseError(RemoteProtocolError):
    """A message we cannot accept. ``headers``/``method`` hold what was readable, if anything."""

    def __init__(
        self,
        detail: str,
        *,
        status: int = 400,
        headers: Headers | None = None,
        method: str | None = None,
    ) -> None:
        super().__init__(detail, status=status)
        self.headers = headers
        self.method = method

    def can_respond(self) -> bool:
        """True when this was a request (not ACK) with enough headers to build a response."""
        if self.method in (None, "ACK") or self.headers is None:
            return False
        return all(k in self.headers for k in _REQUIRED)


def parse_message(data: bytes, *, stream: bool = False) -> Request | Response:
    """Parse one message. ``stream`` (TCP) requires Content-Length; UDP trims extra bytes."""
    if len(data) > MAX_MESSAGE_BYTES:
        raise SipParseError(f"message of {len(data)} bytes exceeds {MAX_MESSAGE_BYTES}")
    data = data.lstrip(b"\r\n")
    end = data.find(b"\r\n\r\n")
    sep = 4
    if end < 0:
        end = data.find(b"\n\n")
        sep = 2
        if end < 0:
            raise SipParseError("no blank line after the headers (truncated message?)")
    try:
        head = data[:end].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SipParseError(f"headers are not UTF-8 at byte {exc.start}") from None
    body = data[end + sep :]
    if "\n " in head or "\n\t" in head:
        head = _FOLD.sub(" ", head)
    lines = head.split("\r\n") if "\r\n" in head else head.split("\n")
    start = lines[0]
    headers = Headers()
    method = None if start.startswith("SIP/") else start.split(" ", 1)[0]
    try:
        msg = _parse_rest(start, lines, headers, body, stream)
    except SipParseError as exc:
        exc.headers = headers
        if exc.method is None and method is not None and is_token(method):
            exc.method = method
        raise
    return msg


def _parse_rest(
    start: str, lines: list[str], headers: Headers, body: bytes, stream: bool
) -> Request | Response:
    d = headers._d
    known = _KNOWN_NAMES
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        key = known.get(name)  # the common spellings: validated and canonical already
        if key is None:
            name = name.rstrip(" \t")
            if not colon or not is_token(name):
                raise SipParseError(f"malformed header line {line[:60]!r}")
            key = canonical_name(name)
            if len(known) < 2048:  # bounded: a flood of odd names cannot grow it
                known[name] = key
        value = value.strip(" \t")
        if key in LIST_HEADERS and "," in value:
            try:
                items = split_list(value)
            except RemoteProtocolError as exc:
                raise SipParseError(f"{key}: {exc.detail}") from None
            d.setdefault(key, []).extend(items)
        elif key in d:
            d[key].append(value)
        else:
            d[key] = [value]
    msg: Request | Response
    msg = _response(start, headers) if start.startswith("SIP/") else _request(start, headers)
    try:
        msg.body = _body(headers, body, stream)
        _check(msg)
    except SipParseError:
        raise
    except RemoteProtocolError as exc:
        raise SipParseError(exc.detail, status=exc.status) from None
    return msg


def _request(start: str, headers: Headers) -> Request:
    parts = start.split(" ")
    if len(parts) != 3:
        raise SipParseError(f"malformed request line {start[:80]!r}", headers=headers)
    method, uri, version = parts
    if not is_token(method):
        raise SipParseError(f"bad method {method[:20]!r}", headers=headers)
    if version != "SIP/2.0":
        status = 505 if version.upper().startswith("SIP/") else 400
        raise SipParseError(
            f"unsupported version {version[:20]!r}", status=status, headers=headers, method=method
        )
    req = Request(method, uri, headers)
    try:
        req._cache["ruri"] = _request_uri(uri)
    except RemoteProtocolError as exc:
        raise SipParseError(
            f"Request-URI: {exc.detail}", status=exc.status, headers=headers, method=method
        ) from None
    return req


_URI_CACHE: dict[str, SipUri] = {}


def _request_uri(text: str) -> SipUri:
    """Parsed Request-URIs, remembered: callers reuse a handful (the IVR number, our Contact).
    Entries are shared, so nobody may modify a parsed Request-URI."""
    uri = _URI_CACHE.get(text)
    if uri is None:
        uri = parse_uri(text)
        if len(_URI_CACHE) >= 1024:
            _URI_CACHE.clear()
        _URI_CACHE[text] = uri
    return uri


def _response(start: str, headers: Headers) -> Response:
    parts = start.split(" ", 2)
    if len(parts) < 2 or parts[0] != "SIP/2.0":
        raise SipParseError(f"malformed status line {start[:80]!r}")
    code = parts[1]
    if len(code) != 3 or not code.isdigit() or not 100 <= int(code) <= 699:
        raise SipParseError(f"bad status code {code[:10]!r}")
    return Response(int(code), parts[2] if len(parts) == 3 else "", headers)


def _body(headers: Headers, body: bytes, stream: bool) -> bytes:
    cl = headers._d.get("content-length")
    if cl is None:
        if stream:
            raise SipParseError("Content-Length is required on a stream transport")
        return body
    if len(cl) > 1 and len(set(cl)) > 1:
        raise SipParseError("conflicting Content-Length headers")
    text = cl[0]
    if not text.isdigit() or len(text) > 9:
        raise SipParseError(f"bad Content-Length {text[:20]!r}")
    n = int(text)
    if n > len(body):
        raise SipParseError(f"Content-Length {n} but only {len(body)} body bytes (truncated)")
    return body[:n]


def _check(msg: SipMessage) -> None:
    d = msg.headers._d
    for key in _REQUIRED:
        if not d.get(key):
            raise SipParseError(f"missing {key} header")
    if len(d["call-id"]) > 1 or len(d["from"]) > 1 or len(d["to"]) > 1 or len(d["cseq"]) > 1:
        raise SipParseError("duplicate Call-ID/From/To/CSeq header")
    if not d["call-id"][0]:
        raise SipParseError("empty Call-ID")
    _seq, method = msg.cseq
    _ = msg.via, msg.from_addr, msg.to_addr
    if isinstance(msg, Request):
        if method != msg.method:
            raise SipParseError(f"CSeq method {method} does not match {msg.method}")
        mf = d.get("max-forwards")
        if mf is not None and (not mf[0].isdigit() or int(mf[0]) > 255):
            raise SipParseError(f"bad Max-Forwards {mf[0][:10]!r}")
        exp = d.get("expires")
        if exp is not None and not exp[0].isdigit():
            raise SipParseError(f"bad Expires {exp[0][:20]!r}")


class StreamFramer:
    """Cuts a TCP byte stream into messages by Content-Length (RFC 3261 §18.3).

    ``feed(data)`` returns the complete messages now available (as bytes, for
    ``parse_message(..., stream=True)``); CRLF keep-alives between messages are skipped.
    A header block or body larger than ``MAX_MESSAGE_BYTES`` raises ``SipParseError``:
    the stream cannot be resynchronised and the connection must be closed.
    """

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        self._buf += data
        out: list[bytes] = []
        buf = self._buf
        while True:
            i = 0
            while i < len(buf) and buf[i] in (13, 10):
                i += 1
            if i:
                del buf[:i]
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                if len(buf) > MAX_MESSAGE_BYTES:
                    raise SipParseError("header block too large")
                return out
            length = _content_length(bytes(buf[:end]))
            total = end + 4 + length
            if total > MAX_MESSAGE_BYTES:
                raise SipParseError(f"message of {total} bytes exceeds {MAX_MESSAGE_BYTES}")
            if len(buf) < total:
                return out
            out.append(bytes(buf[:total]))
            del buf[:total]


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() in (b"content-length", b"l"):
            v = value.strip()
            if not v.isdigit() or len(v) > 9:
                raise SipParseError(f"bad Content-Length {v[:20]!r}")
            return int(v)
    raise SipParseError("Content-Length is required on a stream transport")
