"""The envelope format of the recording vault (pure crypto, no I/O).

Each recording gets a fresh 256-bit data key (DEK). Audio is sealed with AES-256-GCM in
chunks of ``CHUNK_BYTES`` of plaintext (a long call never sits whole in memory); the DEK is
wrapped with AES-256-GCM under a master key named by its key id (envelope encryption).

Two stored objects per recording:

* ``<id>.audio`` — the chunks, each ``ciphertext || tag`` (plaintext size + 16 bytes). Chunk
  ``i`` uses nonce ``prefix(7) || i (4, big-endian) || last (1)`` and the recording id as
  associated data. Reordering, truncation, appending, flipped bits or chunks moved from
  another recording all fail authentication on read.
* ``<id>.key`` — a small JSON header: metadata, nonce prefix, chunk size, key id, the
  wrapped DEK and ``meta_tag`` = HMAC-SHA256 of the canonical metadata under a key derived
  from the DEK. The header is written when recording starts (so a crash loses nothing
  decryptable) and sealed again on close with the final metadata (call links, length), so
  edited metadata fails on read. Rotation rewrites only this header (unwrap with the old
  master key, wrap with the new one; the tag stays valid); the audio is not re-encrypted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from lendline.errors import LendlineError

CHUNK_BYTES = 64 * 1024  # plaintext bytes per sealed chunk
TAG_BYTES = 16
FORMAT = "lendline-vault/1"


class TamperedError(LendlineError):
    """A recording or its metadata failed authentication."""

    code = "recording_tampered"
    http_status = 409


def _canonical(meta: dict[str, Any]) -> bytes:
    return json.dumps(meta, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _meta_key(dek: bytes) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"lendline/vault-meta/v1"
    ).derive(dek)


def meta_tag(dek: bytes, meta: dict[str, Any]) -> str:
    """HMAC-SHA256 (hex) of the canonical metadata under a key derived from the data key."""
    return hmac.new(_meta_key(dek), _canonical(meta), hashlib.sha256).hexdigest()


def _chunk_aad(recording_id: str) -> bytes:
    return f"lendline-vault-audio|{recording_id}".encode()


def _wrap_aad(recording_id: str, key_id: str) -> bytes:
    return f"lendline-vault-dek|{recording_id}|{key_id}".encode()


def wrap_key(master: bytes, key_id: str, recording_id: str, dek: bytes) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(master).encrypt(nonce, dek, _wrap_aad(recording_id, key_id))
    return base64.b64encode(nonce + sealed).decode()


def unwrap_key(master: bytes, key_id: str, recording_id: str, wrapped: str) -> bytes:
    try:
        raw = base64.b64decode(wrapped)
        return AESGCM(master).decrypt(raw[:12], raw[12:], _wrap_aad(recording_id, key_id))
    except (InvalidTag, ValueError) as exc:
        raise TamperedError(f"data key of {recording_id} failed to unwrap") from exc


@dataclass(frozen=True, slots=True)
class Header:
    recording_id: str
    meta: dict[str, Any]  # authenticated: call, customer, agent, times, format
    nonce_prefix: bytes  # 7 bytes
    chunk_bytes: int
    key_id: str
    wrapped_dek: str
    meta_tag: str = ""  # empty while recording; set when sealed

    def to_bytes(self) -> bytes:
        d = {
            "format": FORMAT,
            "recording_id": self.recording_id,
            "meta": self.meta,
            "nonce_prefix": base64.b64encode(self.nonce_prefix).decode(),
            "chunk_bytes": self.chunk_bytes,
            "key_id": self.key_id,
            "wrapped_dek": self.wrapped_dek,
            "meta_tag": self.meta_tag,
        }
        return json.dumps(d, sort_keys=True, ensure_ascii=False).encode("utf-8")

    @classmethod
    def from_bytes(cls, blob: bytes) -> Header:
        try:
            d = json.loads(blob.decode("utf-8"))
            if d.get("format") != FORMAT:
                raise ValueError("unknown format")
            return cls(
                recording_id=str(d["recording_id"]),
                meta=dict(d["meta"]),
                nonce_prefix=base64.b64decode(d["nonce_prefix"]),
                chunk_bytes=int(d["chunk_bytes"]),
                key_id=str(d["key_id"]),
                wrapped_dek=str(d["wrapped_dek"]),
                meta_tag=str(d.get("meta_tag", "")),
            )
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
            raise TamperedError("recording header is unreadable") from exc

    def rewrapped(self, old_master: bytes, new_key_id: str, new_master: bytes) -> Header:
        dek = unwrap_key(old_master, self.key_id, self.recording_id, self.wrapped_dek)
        return Header(
            self.recording_id,
            self.meta,
            self.nonce_prefix,
            self.chunk_bytes,
            new_key_id,
            wrap_key(new_master, new_key_id, self.recording_id, dek),
            self.meta_tag,
        )

    def sealed(self, dek: bytes, meta: dict[str, Any]) -> Header:
        """The header with its final metadata and their tag."""
        return replace(self, meta=meta, meta_tag=meta_tag(dek, meta))

    def check_meta(self, dek: bytes) -> None:
        """Raise ``TamperedError`` unless the metadata carry their tag."""
        if not self.meta_tag or not hmac.compare_digest(self.meta_tag, meta_tag(dek, self.meta)):
            raise TamperedError(f"metadata of {self.recording_id} failed authentication")


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    return prefix + index.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


def new_header(
    recording_id: str, meta: dict[str, Any], key_id: str, master: bytes
) -> tuple[Header, bytes]:
    """A header with a fresh data key; returns (header, dek)."""
    dek = AESGCM.generate_key(bit_length=256)
    header = Header(
        recording_id,
        meta,
        os.urandom(7),
        CHUNK_BYTES,
        key_id,
        wrap_key(master, key_id, recording_id, dek),
    )
    return header, dek


class ChunkSealer:
    """Seals a stream: ``feed`` returns full sealed chunks, ``finish`` the last one.

    One chunk of plaintext is held back so the final chunk can be flagged as last.
    """

    def __init__(self, header: Header, dek: bytes) -> None:
        self._aead = AESGCM(dek)
        self._aad = _chunk_aad(header.recording_id)
        self._prefix = header.nonce_prefix
        self._size = header.chunk_bytes
        self._buf = bytearray()
        self._index = 0
        self.plaintext_bytes = 0

    def _seal(self, data: bytes, last: bool) -> bytes:
        out = self._aead.encrypt(_nonce(self._prefix, self._index, last), data, self._aad)
        self._index += 1
        return out

    def feed(self, data: bytes) -> list[bytes]:
        self._buf += data
        self.plaintext_bytes += len(data)
        out: list[bytes] = []
        while len(self._buf) > self._size:  # strictly more: keep one chunk for "last"
            out.append(self._seal(bytes(self._buf[: self._size]), last=False))
            del self._buf[: self._size]
        return out

    def finish(self) -> bytes:
        out = self._seal(bytes(self._buf), last=True)
        self._buf.clear()
        return out


def seal_chunk(header: Header, dek: bytes, index: int, last: bool, data: bytes) -> bytes:
    """Seal one chunk at ``index`` (used to re-seal the final chunk of a salvaged stream;
    its nonce differs from the non-final one by the flag, so it is never reused)."""
    return AESGCM(dek).encrypt(
        _nonce(header.nonce_prefix, index, last), data, _chunk_aad(header.recording_id)
    )


def open_chunks(header: Header, dek: bytes, sealed: Iterable[bytes]) -> Iterator[bytes]:
    """Decrypt sealed chunks in order (each exactly as written); raise on any tampering."""
    aead = AESGCM(dek)
    aad = _chunk_aad(header.recording_id)
    it = iter(sealed)
    current = next(it, None)
    if current is None:
        raise TamperedError(f"recording {header.recording_id} has no audio chunks")
    index = 0
    while current is not None:
        following = next(it, None)
        last = following is None
        try:
            yield aead.decrypt(_nonce(header.nonce_prefix, index, last), current, aad)
        except InvalidTag as exc:
            raise TamperedError(
                f"recording {header.recording_id}: chunk {index} failed authentication"
            ) from exc
        index += 1
        current = following


def sealed_chunk_bytes(header: Header) -> int:
    """Size of a full sealed chunk on disk (bytes)."""
    return header.chunk_bytes + TAG_BYTES


def chunk_count(header: Header, plaintext_bytes: int) -> int:
    """How many sealed chunks a recording of ``plaintext_bytes`` has (at least one)."""
    return max(1, -(-plaintext_bytes // header.chunk_bytes))


def open_chunk(header: Header, dek: bytes, index: int, last: bool, sealed: bytes) -> bytes:
    """Decrypt one chunk read on its own (for range requests); raise on tampering."""
    try:
        return AESGCM(dek).decrypt(
            _nonce(header.nonce_prefix, index, last), sealed, _chunk_aad(header.recording_id)
        )
    except InvalidTag as exc:
        raise TamperedError(
            f"recording {header.recording_id}: chunk {index} failed authentication"
        ) from exc
