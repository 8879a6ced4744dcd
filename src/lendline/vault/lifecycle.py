"""Vault operations over many recordings: legal hold, purge past retention, key rotation and
retirement. Each one is audited (``services["audit"]``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from lendline.compliance.audit import Auditor
from lendline.compliance.envelope import Header
from lendline.compliance.retention import purgeable
from lendline.errors import Conflict, NotFound, ValidationError
from lendline.store.models_compliance import RecordingRow
from lendline.vault.keys import DERIVED, read_key_file
from lendline.vault.service import RecordingVault


@dataclass
class PurgeReport:
    purged: list[str] = field(default_factory=list)
    held: int = 0  # past retention but on legal hold (kept)
    dry_run: bool = False


@dataclass
class RotateReport:
    new_key_id: str
    rewrapped: int
    key_file: str = ""


class VaultLifecycle:
    def __init__(self, vault: RecordingVault, audit: Auditor) -> None:
        self.vault = vault
        self.audit = audit

    def set_hold(self, recording_id: str, *, on: bool, reason: str, actor: str) -> None:
        if on and len(reason.strip()) < 4:
            raise ValidationError("a legal hold needs a reason", field="reason")
        with self.vault.db.session() as s:
            r = s.get(RecordingRow, recording_id)
            if r is None or r.state == "purged":
                raise NotFound(f"no recording {recording_id}", code="recording_not_found")
            r.legal_hold = on
            r.hold_reason = reason.strip()[:200] if on else ""
        self.audit.record(
            actor=actor,
            action="recording.hold" if on else "recording.release",
            target=recording_id,
            detail=reason,
        )

    def purge(self, *, actor: str, dry_run: bool = False, batch: int = 500) -> PurgeReport:
        """Delete recordings past retention and not on hold; the index row stays, ``purged``."""
        now = self.vault.clock.now()
        report = PurgeReport(dry_run=dry_run)
        with self.vault.db.session() as s:
            report.held = (
                s.scalar(
                    select(func.count())
                    .select_from(RecordingRow)
                    .where(RecordingRow.retain_until <= now, RecordingRow.legal_hold.is_(True))
                    .where(RecordingRow.state != "purged")
                )
                or 0
            )
        due = (
            select(RecordingRow)
            .where(RecordingRow.retain_until <= now, RecordingRow.legal_hold.is_(False))
            .where(RecordingRow.state.in_(("sealed", "lost")))  # lost: its key header goes
        )
        if dry_run:
            with self.vault.db.session() as s:
                report.purged = list(s.scalars(due.with_only_columns(RecordingRow.recording_id)))
        while not dry_run:
            done: list[tuple[str, str, str]] = []
            with self.vault.db.session() as s:
                for r in s.scalars(due.limit(batch)).all():
                    if not purgeable(r.retain_until, r.legal_hold, now):
                        continue  # defensive: the query already says so
                    self.vault.blobs.delete(f"{r.recording_id}.audio")
                    self.vault.blobs.delete(f"{r.recording_id}.key")
                    r.state = "purged"
                    r.purged_at = now
                    done.append((r.recording_id, r.call_id, r.retain_until.isoformat()))
            if not done:
                break
            for recording_id, call_id, until in done:  # after commit: SQLite has one writer
                report.purged.append(recording_id)
                self.audit.record(
                    actor=actor,
                    action="recording.purge",
                    target=recording_id,
                    detail=f"call {call_id}; retained until {until}",
                )
        self.audit.record(
            actor=actor,
            action="vault.purge",
            target="vault",
            outcome="dry_run" if dry_run else "ok",
            detail=f"purged {len(report.purged)}, kept on hold {report.held}",
        )
        return report

    def rotate(self, *, actor: str, key_file: Path | None = None, batch: int = 500) -> RotateReport:
        """Make a new master key active and re-wrap every data key under it."""
        keys = self.vault.keys
        if key_file is not None:
            kid = keys.add_active(read_key_file(key_file), str(key_file.resolve()))
            path = str(key_file)
        else:
            kid, generated = keys.generate()
            path = str(generated)
        ring = keys.keyring
        new_master = ring.get(kid)
        done = 0
        while True:
            with self.vault.db.session() as s:
                rows = s.scalars(
                    select(RecordingRow)
                    .where(RecordingRow.key_id != kid, RecordingRow.state != "purged")
                    .limit(batch)
                ).all()
                if not rows:
                    break
                for r in rows:
                    name = f"{r.recording_id}.key"
                    header = Header.from_bytes(self.vault.blobs.get(name))
                    new = header.rewrapped(ring.get(header.key_id), kid, new_master)
                    self.vault.blobs.put(name, new.to_bytes())
                    r.key_id = kid
                    done += 1
        self.audit.record(
            actor=actor,
            action="vault.rotate",
            target=kid,
            detail=f"re-wrapped {done} data keys",
        )
        return RotateReport(kid, done, path)

    def retire(self, key_id: str, *, actor: str, destroy: bool = False) -> None:
        """Retire a master key no recording still needs; ``destroy`` deletes its key file."""
        keys = self.vault.keys
        if key_id == keys.keyring.active_id:
            raise Conflict("the active key cannot be retired; rotate first", code="key_active")
        with self.vault.db.session() as s:
            in_use = s.scalar(
                select(func.count())
                .select_from(RecordingRow)
                .where(RecordingRow.key_id == key_id, RecordingRow.state != "purged")
            )
        if in_use:
            raise Conflict(f"{in_use} recordings still use {key_id}", code="key_in_use")
        source = keys.mark_retired(key_id)
        if destroy and source != DERIVED:
            Path(source).unlink(missing_ok=True)
        self.audit.record(
            actor=actor, action="vault.retire_key", target=key_id, detail=f"destroy={destroy}"
        )
