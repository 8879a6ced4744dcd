"""Master keys: sub-key derivation and the keyring of the recording vault (pure).

A master key is 32 random bytes identified by a key id (``mk-`` + 12 hex of a SHA-256 of a
key-specific derivation, so the id names the key without revealing it). Purpose keys (audit
chain, OTP code hashes) are derived with HKDF-SHA256 and a label.
"""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from lendline.errors import ConfigError, NotFound


def derive_key(master_key: bytes, label: str) -> bytes:
    """A 32-byte purpose key derived from ``master_key`` (HKDF-SHA256, ``info=label``)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label.encode()).derive(
        master_key
    )


def key_id_of(key: bytes) -> str:
    """The public identifier of a master key."""
    return "mk-" + hashlib.sha256(b"lendline/key-id/v1" + key).hexdigest()[:12]


class Keyring:
    """Master keys by key id; ``active_id`` wraps new data keys, the others only unwrap."""

    def __init__(self, keys: dict[str, bytes] | None = None, active_id: str = "") -> None:
        self._keys: dict[str, bytes] = {}
        for kid, key in (keys or {}).items():
            self.add(key, expected_id=kid)
        self.active_id = active_id

    def add(self, key: bytes, *, expected_id: str | None = None) -> str:
        if len(key) != 32:
            raise ConfigError("a vault master key must be 32 bytes", code="bad_master_key")
        kid = key_id_of(key)
        if expected_id is not None and expected_id != kid:
            raise ConfigError(f"key file {expected_id} holds key {kid}", code="bad_master_key")
        self._keys[kid] = key
        return kid

    def get(self, key_id: str) -> bytes:
        try:
            return self._keys[key_id]
        except KeyError:
            raise NotFound(
                f"master key {key_id} is not available (retired or missing)",
                code="master_key_missing",
            ) from None

    def active(self) -> tuple[str, bytes]:
        if not self.active_id:
            raise ConfigError("no active vault master key", code="no_active_key")
        return self.active_id, self.get(self.active_id)

    def ids(self) -> list[str]:
        return sorted(self._keys)

    def discard(self, key_id: str) -> None:
        self._keys.pop(key_id, None)
