"""Encryption of sensitive database fields (phone numbers, ID numbers).

Each value is sealed with AES-256-GCM under a field key derived (HKDF-SHA256) from the
master key; a keyed hash (HMAC-SHA256 under a second derived key) makes exact lookups
possible without decrypting. Stored form: ``nonce(12) || ciphertext+tag``.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from lendline.errors import LendlineError


def _derive(master_key: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(master_key)


class FieldCipher:
    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != 32:
            raise ValueError("master key must be 32 bytes")
        self._aead = AESGCM(_derive(master_key, b"lendline/field-encryption/v1"))
        self._mac_key = _derive(master_key, b"lendline/field-lookup/v1")

    def encrypt(self, value: str, *, context: bytes = b"") -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, value.encode("utf-8"), context)

    def decrypt(self, blob: bytes, *, context: bytes = b"") -> str:
        try:
            return self._aead.decrypt(blob[:12], blob[12:], context).decode("utf-8")
        except Exception as exc:  # InvalidTag, short blob
            raise LendlineError("encrypted field failed authentication", code="tampered") from exc

    def digest(self, value: str) -> str:
        """Keyed hash for equality lookups (hex, 64 chars)."""
        return hmac.new(self._mac_key, value.encode("utf-8"), hashlib.sha256).hexdigest()
