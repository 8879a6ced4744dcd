"""API keys for systems (pure): ``ll_<key_id>_<secret>``; only SHA-256(secret) is stored.

The secret has 256 bits of entropy, so a plain SHA-256 (not a slow password hash) is the
right tool: it cannot be brute-forced and keeps each request's check in microseconds.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

PREFIX = "ll_"


def new_key() -> tuple[str, str, str]:
    """(key_id, full key shown once, hash to store)."""
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return key_id, f"{PREFIX}{key_id}_{secret}", hash_secret(secret)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def split_key(key: str) -> tuple[str, str] | None:
    """(key_id, secret) or None when the key is not of our form."""
    if not key.startswith(PREFIX):
        return None
    rest = key[len(PREFIX) :]
    key_id, sep, secret = rest.partition("_")
    if not sep or len(key_id) != 12 or not secret:
        return None
    return key_id, secret


def matches(stored_hash: str, secret: str) -> bool:
    return hmac.compare_digest(stored_hash, hash_secret(secret))
