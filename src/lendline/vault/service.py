"""``RecordingVault``: the ``RecordingSink`` of lendline (``services["recording_sink"]``).

Writes: ``open(meta)`` inserts the index row and the key header, then seals PCM chunk by
chunk into the blob store. Reads: every read authenticates the header against the index row
and each chunk against the header; ``TamperedError`` on any difference.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from lendline.clock import Clock
from lendline.compliance.envelope import (
    TAG_BYTES,
    ChunkSealer,
    Header,
    TamperedError,
    chunk_count,
    new_header,
    open_chunk,
    open_chunks,
    seal_chunk,
    sealed_chunk_bytes,
    unwrap_key,
)
from lendline.compliance.masking import mask_text
from lendline.compliance.retention import RetentionRules
from lendline.compliance.scope import RowScope
from lendline.domain.recording import RecordingInfo, RecordingMeta
from lendline.errors import Conflict, NotFound
from lendline.store.base import Database
from lendline.store.models import AgentRow, CallRow
from lendline.store.models_compliance import RecordingRow
from lendline.vault.blobs import BlobStore, BlobWriter
from lendline.vault.keys import VaultKeys

AUTH_FIELDS = (
    "call_id",
    "kind",
    "customer_id",
    "agent_id",
    "team_id",
    "caller_masked",
    "loan_id",
    "started_at",
    "sample_rate_hz",
    "channels",
)


def _iso(t: datetime) -> str:
    return t.isoformat()


def meta_of_row(r: RecordingRow) -> dict[str, Any]:
    """The authenticated metadata as it must appear in the header."""
    d: dict[str, Any] = {f: getattr(r, f) for f in AUTH_FIELDS}
    d["started_at"] = _iso(r.started_at)
    return d


@dataclass(frozen=True, slots=True)
class RecordingView:
    """A recording as the API shows it (caller already masked)."""

    recording_id: str
    call_id: str
    kind: str
    customer_id: str | None
    agent_id: str | None
    team_id: str | None
    caller_masked: str
    loan_id: str | None
    started_at: datetime
    ended_at: datetime | None
    duration_s: float
    audio_bytes: int
    state: str
    retain_until: datetime
    legal_hold: bool
    key_id: str
    sample_rate_hz: int = 8000
    channels: int = 2


def view_of(r: RecordingRow) -> RecordingView:
    return RecordingView(
        r.recording_id,
        r.call_id,
        r.kind,
        r.customer_id,
        r.agent_id,
        r.team_id,
        r.caller_masked,
        r.loan_id,
        r.started_at,
        r.ended_at,
        r.duration_s,
        r.audio_bytes,
        r.state,
        r.retain_until,
        r.legal_hold,
        r.key_id,
        r.sample_rate_hz,
        r.channels,
    )


@dataclass(frozen=True)
class RecoveryOutcome:
    """What ``recover_interrupted`` did with one recording left open by an unclean stop."""

    recording_id: str
    call_id: str
    outcome: str  # recovered | completed | lost | failed: <why>
    duration_s: float
    chunks: int


class VaultWriter:
    """One recording being written; not thread-safe (one media task writes it)."""

    def __init__(
        self, vault: RecordingVault, recording_id: str, header: Header, dek: bytes
    ) -> None:
        self.recording_id = recording_id
        self._vault = vault
        self._header = header
        self._dek = dek
        self._sealer = ChunkSealer(header, dek)
        self._blob: BlobWriter = vault.blobs.open_write(f"{recording_id}.audio")
        self._paused_since: float | None = None
        self._paused_s = 0.0
        self._closed = False

    def write(self, pcm16_stereo: bytes) -> None:
        if self._closed:
            raise Conflict("recording is closed", code="recording_closed")
        if self._paused_since is not None:
            return
        for chunk in self._sealer.feed(pcm16_stereo):
            self._blob.write(chunk)

    def pause(self) -> None:
        if self._paused_since is None:
            self._paused_since = self._vault.clock.monotonic()

    def resume(self) -> None:
        if self._paused_since is not None:
            self._paused_s += self._vault.clock.monotonic() - self._paused_since
            self._paused_since = None

    def close(self) -> RecordingInfo:
        if self._closed:
            raise Conflict("recording is closed", code="recording_closed")
        self.resume()
        self._closed = True
        self._blob.write(self._sealer.finish())
        self._blob.close()
        with self._vault._lock:
            self._vault._writing.discard(self.recording_id)
        return self._vault._sealed(
            self._header, self._dek, self._sealer.plaintext_bytes, self._paused_s
        )


class RecordingVault:
    def __init__(
        self,
        db: Database,
        blobs: BlobStore,
        keys: VaultKeys,
        clock: Clock,
        retention: RetentionRules,
        *,
        node_id: str = "node-1",
    ) -> None:
        self.node_id = node_id  # stamped on every recording this process writes
        self.db = db
        self.blobs = blobs
        self.keys = keys
        self.clock = clock
        self.retention = retention
        self._lock = threading.Lock()
        self._writing: set[str] = set()  # recordings this process has open

    # --- RecordingSink ---
    def open(self, meta: RecordingMeta, *, team_id: str | None = None) -> VaultWriter:
        recording_id = "rec-" + uuid.uuid4().hex[:20]
        started_at = meta.started_at.astimezone(UTC)
        row = RecordingRow(
            recording_id=recording_id,
            call_id=meta.call_id,
            kind=meta.kind,
            customer_id=meta.customer_id,
            agent_id=meta.agent_id,
            team_id=team_id,
            caller_masked=mask_text(meta.caller_masked),
            loan_id=meta.loan_id,
            started_at=started_at,
            sample_rate_hz=meta.sample_rate_hz,
            channels=meta.channels,
            state="recording",
            retain_until=self.retention.retain_until(meta.kind, started_at),
            legal_hold=False,
            hold_reason="",
            duration_s=0.0,
            paused_s=0.0,
            audio_bytes=0,
            node_id=self.node_id,
        )
        if row.team_id is None and row.agent_id:
            with self.db.session() as s:
                row.team_id = s.scalar(
                    select(AgentRow.team_id).where(AgentRow.agent_id == row.agent_id)
                )
        kid, master = self.keys.keyring.active()
        row.key_id = kid
        header, dek = new_header(recording_id, meta_of_row(row), kid, master)
        self.blobs.put(f"{recording_id}.key", header.to_bytes())
        with self.db.session() as s:
            s.add(row)
        with self._lock:
            self._writing.add(recording_id)
        return VaultWriter(self, recording_id, header, dek)

    def _sealed(
        self,
        header: Header,
        dek: bytes,
        audio_bytes: int,
        paused_s: float,
        *,
        recovered: bool = False,
    ) -> RecordingInfo:
        """Close the index row: link it to its call, then seal the final metadata.

        ``recovered``: salvaged after an unclean stop, so it ended when its audio did,
        not now.
        """
        recording_id = header.recording_id
        with self.db.session() as s:
            r = s.get(RecordingRow, recording_id)
            if r is None:
                raise NotFound(f"no recording {recording_id}", code="recording_not_found")
            call = s.get(CallRow, r.call_id)
            if call is not None:  # the call record knows who was on it by now
                r.customer_id = r.customer_id or call.customer_id
                r.agent_id = r.agent_id or call.agent_id
            if r.team_id is None and r.agent_id:
                r.team_id = s.scalar(
                    select(AgentRow.team_id).where(AgentRow.agent_id == r.agent_id)
                )
            bytes_per_s = r.sample_rate_hz * r.channels * 2
            r.audio_bytes = audio_bytes
            r.duration_s = audio_bytes / bytes_per_s if bytes_per_s else 0.0
            r.paused_s = paused_s
            r.ended_at = (
                r.started_at + timedelta(seconds=r.duration_s) if recovered else self.clock.now()
            )
            r.state = "sealed"
            self.blobs.put(f"{recording_id}.key", header.sealed(dek, meta_of_row(r)).to_bytes())
            return RecordingInfo(recording_id, r.call_id, r.duration_s, audio_bytes, paused_s)

    # --- after an unclean stop ---
    def recover_interrupted(self, node_id: str) -> list[RecoveryOutcome]:
        """Seal the recordings this node was writing when it last stopped uncleanly.

        Run at start-up. A recording still ``recording`` whose call is this node's and
        that no writer of this process holds lost its writer with the process. Every
        complete sealed chunk that reached the store is authenticated and kept; the last
        one is re-sealed as the final chunk (a fresh nonce: the "last" flag is part of
        it), so the recording reads, verifies and plays like any other, up to the last
        whole chunk (≤ ``CHUNK_BYTES`` of audio, about two seconds of a call, is lost
        with the process). A recording whose writer finished but whose row was not sealed
        is completed whole. A store that cannot hand back unfinished objects (S3: the
        multipart upload is not completed) marks the row ``lost``, reported once.
        Recordings of other nodes sharing the database are never touched.
        """
        with self.db.session() as s:
            candidates = [
                (r.recording_id, r.call_id)
                for r, call_node in s.execute(
                    select(RecordingRow, CallRow.node_id)
                    .outerjoin(CallRow, CallRow.call_id == RecordingRow.call_id)
                    .where(RecordingRow.state == "recording")
                )
                # stamped with its node; rows from before that column: their call's node
                if (r.node_id or call_node) == node_id
            ]
        with self._lock:
            candidates = [c for c in candidates if c[0] not in self._writing]
        outcomes = []
        for rid, call_id in candidates:
            try:
                outcomes.append(self._recover(rid, call_id))
            except Exception as exc:  # one bad recording never stops the node starting
                outcomes.append(RecoveryOutcome(rid, call_id, f"failed: {exc}"[:200], 0.0, 0))
        return outcomes

    def _recover(self, recording_id: str, call_id: str) -> RecoveryOutcome:
        name = f"{recording_id}.audio"
        salvage = getattr(self.blobs, "salvage_partial", None)
        partial: str | None = salvage(name) if salvage is not None else None
        header = Header.from_bytes(self.blobs.get(f"{recording_id}.key"))
        master = self.keys.keyring.get(header.key_id)
        dek = unwrap_key(master, header.key_id, recording_id, header.wrapped_dek)
        block = sealed_chunk_bytes(header)
        if partial is None and self.blobs.exists(name):
            # the writer finished (its last chunk is flagged) but the row was never sealed
            audio_bytes = sum(
                len(p) for p in open_chunks(header, dek, self.blobs.read_blocks(name, block))
            )
            info = self._sealed(header, dek, audio_bytes, 0.0, recovered=True)
            return RecoveryOutcome(recording_id, call_id, "completed", info.duration_s, 0)
        if partial is None and salvage is None:
            # kept as the record that a recording existed and was cut: state "lost", so it
            # is reported once and reads say so (its bytes never became an object)
            with self.db.session() as s:
                r = s.get(RecordingRow, recording_id)
                if r is not None:
                    r.state = "lost"
                    r.ended_at = self.clock.now()
            return RecoveryOutcome(recording_id, call_id, "lost", 0.0, 0)
        out = self.blobs.open_write(name)
        kept = 0
        previous: tuple[bytes, bytes] | None = None  # (sealed, plaintext) of the newest chunk
        final: bytes | None = None  # the writer's own final chunk, when it got that far
        try:
            for sealed in self.blobs.read_blocks(partial, block) if partial else iter(()):
                pcm: bytes | None = None
                if len(sealed) == block:
                    with contextlib.suppress(TamperedError):
                        pcm = open_chunk(header, dek, kept, False, sealed)
                if pcm is None:  # short, or not a middle chunk: the final one, or torn
                    try:
                        final = open_chunk(header, dek, kept, True, sealed)
                    except TamperedError:
                        break  # torn write: the process died inside this chunk
                    if previous is not None:
                        out.write(previous[0])
                    out.write(sealed)
                    break
                if previous is not None:
                    out.write(previous[0])  # not the last: kept exactly as sealed
                previous = (sealed, pcm)
                kept += 1
            if final is None:
                last_pcm = previous[1] if previous is not None else b""
                out.write(seal_chunk(header, dek, max(kept - 1, 0), True, last_pcm))
            out.close()
        except BaseException:
            out.abort()
            raise
        if partial:
            self.blobs.delete(partial)
        audio_bytes = kept * header.chunk_bytes + (len(final) if final is not None else 0)
        info = self._sealed(header, dek, audio_bytes, 0.0, recovered=True)
        outcome = "completed" if final is not None else "recovered"
        return RecoveryOutcome(recording_id, call_id, outcome, info.duration_s, kept)

    # --- reads ---
    def get(self, recording_id: str) -> RecordingView:
        with self.db.session() as s:
            r = s.get(RecordingRow, recording_id)
            if r is None:
                raise NotFound(f"no recording {recording_id}", code="recording_not_found")
            return view_of(r)

    def _checked_header(self, r: RecordingRow) -> tuple[Header, bytes]:
        """The sealed header and data key, after checking the metadata against the index."""
        header = Header.from_bytes(self.blobs.get(f"{r.recording_id}.key"))
        if header.recording_id != r.recording_id:
            raise TamperedError(f"header of {r.recording_id} belongs to another recording")
        master = self.keys.keyring.get(header.key_id)
        dek = unwrap_key(master, header.key_id, r.recording_id, header.wrapped_dek)
        header.check_meta(dek)
        if header.meta != meta_of_row(r):
            raise TamperedError(f"metadata of {r.recording_id} does not match its sealed header")
        return header, dek

    def pcm_chunks(self, recording_id: str) -> Iterator[bytes]:
        """Authenticated PCM, chunk by chunk; raises ``TamperedError`` where it breaks."""
        with self.db.session() as s:
            r = s.get(RecordingRow, recording_id)
            if r is None or r.state == "purged":
                raise NotFound(f"no recording {recording_id}", code="recording_not_found")
            if r.state == "lost":
                raise NotFound(
                    f"recording {recording_id} was cut by a crash before any of it was stored",
                    code="recording_lost",
                )
            if r.state != "sealed":
                raise Conflict("recording is still being written", code="recording_open")
            header, dek = self._checked_header(r)
            expected = r.audio_bytes
        blocks = self.blobs.read_blocks(f"{recording_id}.audio", sealed_chunk_bytes(header))
        total = 0
        for pcm in open_chunks(header, dek, blocks):
            total += len(pcm)
            if total > expected:
                raise TamperedError(f"recording {recording_id} is longer than its index says")
            yield pcm
        if total != expected:
            raise TamperedError(f"recording {recording_id} is shorter than its index says")

    def pcm_range(self, recording_id: str, start: int, end: int) -> Iterator[bytes]:
        """PCM bytes ``start``..``end`` (inclusive), decrypting only the chunks they span;
        each chunk is authenticated (index, last flag, recording id, metadata)."""
        with self.db.session() as s:
            r = s.get(RecordingRow, recording_id)
            if r is None or r.state != "sealed":
                raise NotFound(f"no recording {recording_id}", code="recording_not_found")
            header, dek = self._checked_header(r)
            total = r.audio_bytes
        end = min(end, total - 1)
        size = header.chunk_bytes
        n = chunk_count(header, total)
        name = f"{recording_id}.audio"
        for i in range(start // size, end // size + 1):
            sealed = self.blobs.read_range(name, i * sealed_chunk_bytes(header), size + TAG_BYTES)
            pcm = open_chunk(header, dek, i, i == n - 1, sealed)
            lo = max(start - i * size, 0)
            hi = min(end - i * size + 1, len(pcm))
            yield pcm[lo:hi]

    def verify(self, recording_id: str) -> int:
        """Decrypt the whole recording without keeping it; returns the PCM byte count."""
        return sum(len(c) for c in self.pcm_chunks(recording_id))

    def search(
        self,
        *,
        scope: RowScope,
        call_id: str | None = None,
        customer_id: str | None = None,
        agent_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
        include_purged: bool = False,
    ) -> list[RecordingView]:
        """Lookup by call, customer, agent and/or start-time range (newest first)."""
        if scope.nothing:
            return []
        q = select(RecordingRow)
        if call_id:
            q = q.where(RecordingRow.call_id == call_id)
        if customer_id:
            q = q.where(RecordingRow.customer_id == customer_id)
        if agent_id:
            q = q.where(RecordingRow.agent_id == agent_id)
        if scope.agent_id is not None:
            q = q.where(RecordingRow.agent_id == scope.agent_id)
        if scope.team_id is not None:
            q = q.where(RecordingRow.team_id == scope.team_id)
        if since:
            q = q.where(RecordingRow.started_at >= since)
        if until:
            q = q.where(RecordingRow.started_at < until)
        if not include_purged:
            q = q.where(RecordingRow.state != "purged")
        q = q.order_by(RecordingRow.started_at.desc()).limit(max(1, min(limit, 1000)))
        with self.db.session() as s:
            return [view_of(r) for r in s.scalars(q).all()]
