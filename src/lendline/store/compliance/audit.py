"""The append-only, hash-chained audit log in the database (``services["audit"]``).

Appends are serialised: a process lock plus ``SELECT … FOR UPDATE`` on the single
``audit_head`` row (PostgreSQL; SQLite serialises writers itself), so several nodes extend
one chain. Targets and details are masked before they are stored.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lendline.clock import Clock
from lendline.compliance.audit import GENESIS, AuditEntry, BrokenLink, first_broken, seal
from lendline.compliance.masking import mask_text
from lendline.store.base import Database
from lendline.store.models_compliance import AuditEntryRow, AuditHeadRow


@dataclass(frozen=True, slots=True)
class VerifyReport:
    checked: int
    broken: BrokenLink | None

    @property
    def ok(self) -> bool:
        return self.broken is None


def _to_entry(r: AuditEntryRow) -> AuditEntry:
    return AuditEntry(
        r.seq, r.at, r.actor, r.action, r.target, r.outcome, r.detail, r.prev_hash, r.entry_hash
    )


class AuditLog:
    """``record(actor=, action=, target=, outcome=, detail=)`` appends one sealed entry."""

    def __init__(self, db: Database, clock: Clock, key: bytes) -> None:
        self._db = db
        self._clock = clock
        self._key = key
        self._lock = threading.Lock()

    def record(
        self, *, actor: str, action: str, target: str = "", outcome: str = "ok", detail: str = ""
    ) -> int:
        """Append an entry; returns its sequence number."""
        for attempt in range(3):
            try:
                with self._lock, self._db.session() as s:
                    return self._append(s, actor, action, target, outcome, detail)
            except IntegrityError:  # another node created the head row first
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _append(
        self, s: Session, actor: str, action: str, target: str, outcome: str, detail: str
    ) -> int:
        head = s.scalars(select(AuditHeadRow).where(AuditHeadRow.id == 1).with_for_update()).first()
        if head is None:
            head = AuditHeadRow(id=1, seq=0, entry_hash=GENESIS)
            s.add(head)
            s.flush()
        entry = seal(
            self._key,
            AuditEntry(
                seq=head.seq + 1,
                at=self._clock.now(),
                actor=actor[:64],
                action=action[:64],
                target=mask_text(target)[:200],
                outcome=outcome[:20],
                detail=mask_text(detail),
                prev_hash=head.entry_hash,
            ),
        )
        s.add(
            AuditEntryRow(
                seq=entry.seq,
                at=entry.at,
                actor=entry.actor,
                action=entry.action,
                target=entry.target,
                outcome=entry.outcome,
                detail=entry.detail,
                prev_hash=entry.prev_hash,
                entry_hash=entry.entry_hash,
            )
        )
        head.seq = entry.seq
        head.entry_hash = entry.entry_hash
        return entry.seq

    def _walk(self, batch: int = 5000) -> Iterator[AuditEntry]:
        after = 0
        while True:
            with self._db.session() as s:
                rows = s.scalars(
                    select(AuditEntryRow)
                    .where(AuditEntryRow.seq > after)
                    .order_by(AuditEntryRow.seq)
                    .limit(batch)
                ).all()
            if not rows:
                return
            for r in rows:
                yield _to_entry(r)
            after = rows[-1].seq

    def verify(self) -> VerifyReport:
        """Walk the whole chain; report the first broken link (and check the head row)."""
        checked, broken = first_broken(self._key, self._walk())
        if broken is None:
            with self._db.session() as s:
                head = s.get(AuditHeadRow, 1)
                last = s.scalars(
                    select(AuditEntryRow).order_by(AuditEntryRow.seq.desc()).limit(1)
                ).first()
            if head is not None and (last is None or head.seq != last.seq):
                broken = BrokenLink(last.seq + 1 if last else 1, "truncated")
            elif head is not None and last is not None and head.entry_hash != last.entry_hash:
                broken = BrokenLink(last.seq, "head_mismatch")
        return VerifyReport(checked, broken)

    def search(
        self,
        *,
        actor: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 200,
    ) -> list[AuditEntry]:
        q = select(AuditEntryRow).order_by(AuditEntryRow.seq.desc()).limit(limit)
        if actor:
            q = q.where(AuditEntryRow.actor == actor)
        if action:
            q = q.where(AuditEntryRow.action == action)
        if since:
            q = q.where(AuditEntryRow.at >= since)
        if until:
            q = q.where(AuditEntryRow.at < until)
        with self._db.session() as s:
            return [_to_entry(r) for r in s.scalars(q).all()]
