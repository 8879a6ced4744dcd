"""The hash chain of the audit log (pure: no I/O, no clock).

Each entry carries ``prev_hash`` (the hash of the entry before it; 64 zeros for the first)
and ``entry_hash = HMAC-SHA256(audit_key, canonical(entry fields + prev_hash))``. The key is
derived from the master key, so an attacker with write access to the database alone cannot
re-forge a consistent chain after editing a row. ``first_broken`` walks a chain and names
the first entry whose hash, link or sequence number does not hold.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

GENESIS = "0" * 64


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    at: datetime  # aware UTC
    actor: str
    action: str
    target: str
    outcome: str  # ok | denied | failed | held | …
    detail: str
    prev_hash: str
    entry_hash: str = ""


def _canonical(e: AuditEntry) -> bytes:
    at = e.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    fields = [e.seq, at, e.actor, e.action, e.target, e.outcome, e.detail, e.prev_hash]
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def entry_hash(key: bytes, e: AuditEntry) -> str:
    """The hash an entry must carry (hex, 64 chars)."""
    return hmac.new(key, _canonical(e), hashlib.sha256).hexdigest()


def seal(key: bytes, e: AuditEntry) -> AuditEntry:
    """The same entry with its ``entry_hash`` filled in."""
    return AuditEntry(
        e.seq,
        e.at,
        e.actor,
        e.action,
        e.target,
        e.outcome,
        e.detail,
        e.prev_hash,
        entry_hash(key, e),
    )


@dataclass(frozen=True, slots=True)
class BrokenLink:
    seq: int
    problem: str  # hash_mismatch | link_mismatch | sequence_gap


def first_broken(key: bytes, entries: Iterable[AuditEntry]) -> tuple[int, BrokenLink | None]:
    """Walk ``entries`` in order; return (entries checked, first broken link or None)."""
    prev = GENESIS
    expected_seq = 1
    n = 0
    for e in entries:
        n += 1
        if e.seq != expected_seq:
            return n, BrokenLink(e.seq, "sequence_gap")
        if e.prev_hash != prev:
            return n, BrokenLink(e.seq, "link_mismatch")
        if not hmac.compare_digest(e.entry_hash, entry_hash(key, e)):
            return n, BrokenLink(e.seq, "hash_mismatch")
        prev = e.entry_hash
        expected_seq += 1
    return n, None


class Auditor(Protocol):
    """What services need of the audit log (``services["audit"]``)."""

    def record(
        self, *, actor: str, action: str, target: str = "", outcome: str = "ok", detail: str = ""
    ) -> int: ...
