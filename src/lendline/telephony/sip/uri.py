"""SIP and tel URIs (RFC 3261 §19.1, RFC 3966): parse, escape, serialize.

``parse_uri("sip:%61lice@[2001:db8::1]:5061;transport=tcp?subject=hi")`` gives a
``SipUri`` with the user unescaped, the IPv6 host kept in brackets and the port an int.
Malformed URIs raise ``RemoteProtocolError`` (status 400 or 416 for unknown schemes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

from lendline.errors import RemoteProtocolError

_HOSTNAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9\-.]*[A-Za-z0-9])?\.?$")
_IPV4 = re.compile(r"^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$")
_IPV6 = re.compile(r"^\[[0-9A-Fa-f:.]+\]$")
# characters allowed unescaped in the user part (unreserved / user-unreserved, RFC 3261 §25)
_USER_SAFE = "-_.!~*'()&=+$,;?/"
_SCHEMES = ("sip", "sips", "tel")


_GOOD_HOSTS: set[str] = set()  # hosts already validated (bounded)


def valid_host(host: str) -> bool:
    """True for a hostname, dotted IPv4 address, or bracketed IPv6 reference."""
    if host in _GOOD_HOSTS:
        return True
    ok = _valid_host(host)
    if ok and len(_GOOD_HOSTS) < 4096:
        _GOOD_HOSTS.add(host)
    return ok


def _valid_host(host: str) -> bool:
    if not host:
        return False
    if host[0] == "[":
        return _IPV6.match(host) is not None and host.count(":") >= 2
    if _IPV4.match(host):
        return all(int(p) < 256 for p in host.split("."))
    return _HOSTNAME.match(host) is not None


def split_hostport(text: str) -> tuple[str, int | None]:
    """``"[::1]:5060"`` → ``("[::1]", 5060)``; raises ``RemoteProtocolError`` when invalid."""
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise RemoteProtocolError(f"unterminated IPv6 reference in {text!r}")
        host, rest = text[: end + 1], text[end + 1 :]
        if rest and not rest.startswith(":"):
            raise RemoteProtocolError(f"bad host:port {text!r}")
        port_text = rest[1:] if rest else ""
    else:
        host, _, port_text = text.partition(":")
    if not valid_host(host):
        raise RemoteProtocolError(f"bad host {host!r}")
    if not port_text:
        return host, None
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise RemoteProtocolError(f"bad port {port_text!r}")
    return host, int(port_text)


def parse_params(text: str, sep: str = ";") -> dict[str, str | None]:
    """``"a=1;lr;b=x"`` → ``{"a": "1", "lr": None, "b": "x"}`` (names lower-cased)."""
    params: dict[str, str | None] = {}
    for part in text.split(sep):
        part = part.strip()
        if not part:
            continue
        name, eq, value = part.partition("=")
        name = name.strip().lower()
        if not name:
            raise RemoteProtocolError(f"empty parameter name in {text!r}")
        params[name] = value.strip() if eq else None
    return params


def format_params(params: dict[str, str | None]) -> str:
    return "".join(f";{k}" if v is None else f";{k}={v}" for k, v in params.items())


@dataclass(slots=True)
class SipUri:
    """A parsed URI. ``user`` is unescaped; ``host`` keeps IPv6 brackets; ``port`` may be None."""

    scheme: str = "sip"
    user: str | None = None
    host: str = ""
    port: int | None = None
    password: str | None = None
    params: dict[str, str | None] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        if self.scheme == "tel":
            return f"tel:{self.user or ''}{format_params(self.params)}"
        out = [self.scheme, ":"]
        if self.user is not None:
            out.append(quote(self.user, safe=_USER_SAFE))
            if self.password is not None:
                out.append(":" + quote(self.password, safe=_USER_SAFE))
            out.append("@")
        out.append(self.host)
        if self.port is not None:
            out.append(f":{self.port}")
        out.append(format_params(self.params))
        if self.headers:
            out.append("?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in self.headers.items()))
        return "".join(out)

    @property
    def transport(self) -> str:
        return (self.params.get("transport") or "udp").lower()


def parse_uri(text: str) -> SipUri:
    """Parse a sip:, sips: or tel: URI; raise ``RemoteProtocolError`` if malformed."""
    text = text.strip()
    if any(c in text for c in ' \t<>"') or ("%" in text and not _escapes_ok(text)):
        raise RemoteProtocolError(f"illegal character in URI {text!r}")
    scheme, colon, rest = text.partition(":")
    scheme = scheme.lower()
    if not colon or not rest:
        raise RemoteProtocolError(f"not a URI: {text!r}")
    if scheme not in _SCHEMES:
        raise RemoteProtocolError(f"unsupported URI scheme {scheme!r}", status=416)
    if scheme == "tel":
        number, _, ptext = rest.partition(";")
        return SipUri(scheme="tel", user=unquote(number), params=parse_params(ptext))
    # the user part may hold "?" and ";" (RFC 3261 §25.1): the last "@" ends it
    userinfo, at, hostpart = rest.rpartition("@")
    if not at:
        hostpart = rest
    hostpart, _, htext = hostpart.partition("?")
    hostport, _, ptext = hostpart.partition(";")
    host, port = split_hostport(hostport)
    uri = SipUri(scheme=scheme, host=host.lower(), port=port, params=parse_params(ptext))
    if at:
        user, pcolon, password = userinfo.partition(":")
        if not user:
            raise RemoteProtocolError(f"empty user in {text!r}")
        uri.user = unquote(user)
        uri.password = unquote(password) if pcolon else None
    if htext:
        for pair in htext.split("&"):
            name, _, value = pair.partition("=")
            uri.headers[unquote(name)] = unquote(value)
    return uri


def _escapes_ok(text: str) -> bool:
    i = text.find("%")
    while i >= 0:
        pair = text[i + 1 : i + 3]
        if len(pair) != 2 or any(c not in "0123456789abcdefABCDEF" for c in pair):
            return False
        i = text.find("%", i + 3)
    return True
