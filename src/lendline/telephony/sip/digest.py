"""HTTP Digest for SIP (RFC 3261 §22, RFC 7616 algorithms, RFC 8760 SHA-256 for SIP).

Server side: ``DigestChallenger.challenge()`` gives WWW-Authenticate values (SHA-256 first,
then MD5 for older phones); ``verify()`` checks an Authorization header against the stored
HA1 (``H(user:realm:password)``). Nonces are stateless: ``time:HMAC(secret, time)``, stale
after ``nonce_ttl_s``. Client side: ``authorization()`` answers a challenge.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass

from lendline.telephony.sip.headers import split_list

ALGORITHMS = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}


def h(algorithm: str, text: str) -> str:
    return ALGORITHMS[algorithm](text.encode()).hexdigest()


def ha1(algorithm: str, user: str, realm: str, password: str) -> str:
    """The stored credential: ``H(user:realm:password)`` (never the password itself)."""
    return h(algorithm, f"{user}:{realm}:{password}")


def parse_auth(value: str) -> tuple[str, dict[str, str]]:
    """``Digest a="b", c=d`` → ``("digest", {"a": "b", "c": "d"})``."""
    scheme, _, rest = value.strip().partition(" ")
    params: dict[str, str] = {}
    for part in split_list(rest):
        name, _, v = part.partition("=")
        v = v.strip()
        if len(v) >= 2 and v[0] == '"' and v[-1] == '"':
            v = v[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        params[name.strip().lower()] = v
    return scheme.lower(), params


@dataclass(frozen=True, slots=True)
class DigestResult:
    ok: bool
    user: str = ""
    reason: str = ""
    stale: bool = False


class DigestChallenger:
    def __init__(
        self,
        realm: str,
        *,
        secret: bytes | None = None,
        nonce_ttl_s: float = 300.0,
        algorithms: tuple[str, ...] = ("SHA-256", "MD5"),
    ) -> None:
        """``algorithms`` in order of preference, one challenge each (RFC 8760 §2.4).

        Some peers (SIPp 3.6, older phones) only read the first challenge and know only
        MD5: list MD5 first for them.
        """
        unknown = [a for a in algorithms if a not in ALGORITHMS]
        if unknown or not algorithms:
            raise ValueError(f"unsupported digest algorithms {unknown or algorithms}")
        self.algorithms = algorithms
        self.realm = realm
        self.secret = secret or os.urandom(32)
        self.nonce_ttl_s = nonce_ttl_s

    def nonce(self, now_s: float) -> str:
        stamp = f"{now_s:.3f}"
        mac = hmac.new(self.secret, stamp.encode(), hashlib.sha256).hexdigest()[:32]
        return f"{stamp}:{mac}"

    def _nonce_age(self, nonce: str, now_s: float) -> float | None:
        stamp, _, mac = nonce.partition(":")
        good = hmac.new(self.secret, stamp.encode(), hashlib.sha256).hexdigest()[:32]
        if not hmac.compare_digest(mac, good):
            return None
        try:
            return now_s - float(stamp)
        except ValueError:
            return None

    def challenge(self, now_s: float, *, stale: bool = False) -> list[str]:
        n = self.nonce(now_s)
        s = ", stale=true" if stale else ""
        return [
            f'Digest realm="{self.realm}", nonce="{n}", algorithm={alg}, qop="auth"{s}'
            for alg in self.algorithms
        ]

    def verify(
        self, header: str, method: str, lookup_ha1: dict[str, str | None], now_s: float
    ) -> DigestResult:
        """Check ``header``; ``lookup_ha1`` maps algorithm → stored HA1 for the claimed user."""
        scheme, p = parse_auth(header)
        user = p.get("username", "")
        if scheme != "digest":
            return DigestResult(False, user, "not a Digest credential")
        alg = (p.get("algorithm") or "MD5").upper()
        if alg not in self.algorithms:
            return DigestResult(False, user, f"unsupported algorithm {alg}")
        if p.get("realm") != self.realm:
            return DigestResult(False, user, "wrong realm")
        age = self._nonce_age(p.get("nonce", ""), now_s)
        if age is None:
            return DigestResult(False, user, "nonce not ours")
        stored = lookup_ha1.get(alg)
        if not stored:
            return DigestResult(False, user, "unknown user")
        ha2 = h(alg, f"{method}:{p.get('uri', '')}")
        qop = p.get("qop")
        if qop:
            if qop != "auth":
                return DigestResult(False, user, f"unsupported qop {qop}")
            expect = h(
                alg, f"{stored}:{p['nonce']}:{p.get('nc', '')}:{p.get('cnonce', '')}:auth:{ha2}"
            )
        else:
            expect = h(alg, f"{stored}:{p['nonce']}:{ha2}")
        if not hmac.compare_digest(expect, p.get("response", "")):
            return DigestResult(False, user, "wrong password")
        if age > self.nonce_ttl_s:
            return DigestResult(False, user, "stale nonce", stale=True)
        return DigestResult(True, user)


def authorization(
    challenge: str, method: str, uri: str, user: str, password: str, *, cnonce: str = "0a4f113b"
) -> str:
    """The Authorization value answering ``challenge`` (what a phone sends)."""
    _, p = parse_auth(challenge)
    alg = (p.get("algorithm") or "MD5").upper()
    realm, nonce = p.get("realm", ""), p.get("nonce", "")
    k1 = ha1(alg, user, realm, password)
    ha2 = h(alg, f"{method}:{uri}")
    nc = "00000001"
    if "qop" in p:
        resp = h(alg, f"{k1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
        extra = f', qop=auth, nc={nc}, cnonce="{cnonce}"'
    else:
        resp = h(alg, f"{k1}:{nonce}:{ha2}")
        extra = ""
    return (
        f'Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}", '
        f'response="{resp}", algorithm={alg}{extra}'
    )
