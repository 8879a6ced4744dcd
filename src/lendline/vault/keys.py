"""The vault's master keys: where they come from, which is active, rotation bookkeeping.

Sources: the container master key (``LENDLINE_MASTER_KEY`` or the key file; a generated local
key on the embedded default, which ``lendline.app`` warns about loudly), from which the first
vault key is derived; later keys are files (base64, 32 bytes) named in ``vault_keys.source``.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

import structlog
from sqlalchemy import select

from lendline.clock import Clock
from lendline.compliance.keys import Keyring, derive_key, key_id_of
from lendline.errors import ConfigError
from lendline.store.base import Database
from lendline.store.models_compliance import VaultKeyRow

log = structlog.get_logger(__name__)
DERIVED = "derived:master_key"


def read_key_file(path: Path) -> bytes:
    try:
        key = base64.b64decode(path.read_text().strip(), validate=True)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read key file {path}: {exc}", code="bad_master_key") from exc
    if len(key) != 32:
        raise ConfigError(f"key file {path} must hold 32 bytes, base64", code="bad_master_key")
    return key


def write_key_file(path: Path, key: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(base64.b64encode(key).decode() + "\n")


class VaultKeys:
    """Loads the keyring from ``vault_keys`` and keeps it in step with rotations."""

    def __init__(self, db: Database, clock: Clock, master_key: bytes, keys_dir: Path) -> None:
        self._db = db
        self._clock = clock
        self._derived = derive_key(master_key, "lendline/vault-master/v1")
        self.keys_dir = keys_dir
        self._ring: Keyring | None = None  # loaded on first use (the tables may not exist yet)

    @property
    def keyring(self) -> Keyring:
        if self._ring is None:
            self.reload()
        assert self._ring is not None
        return self._ring

    def _load(self, source: str) -> bytes:
        return self._derived if source == DERIVED else read_key_file(Path(source))

    def reload(self) -> None:
        ring = Keyring()
        with self._db.session() as s:
            rows = s.scalars(select(VaultKeyRow)).all()
            if not rows:
                kid = key_id_of(self._derived)
                s.add(
                    VaultKeyRow(
                        key_id=kid, state="active", source=DERIVED, created_at=self._clock.now()
                    )
                )
                ring.add(self._derived)
                ring.active_id = kid
            for r in rows:
                if r.state == "retired":
                    continue
                try:
                    ring.add(self._load(r.source), expected_id=r.key_id)
                except ConfigError:
                    log.error("vault_key_unavailable", key_id=r.key_id, source=r.source)
                    continue
                if r.state == "active":
                    ring.active_id = r.key_id
        self._ring = ring

    def add_active(self, key: bytes, source: str) -> str:
        """Register ``key`` (stored at ``source``) as the active key; the old one unwraps only."""
        kid = key_id_of(key)
        with self._db.session() as s:
            for r in s.scalars(select(VaultKeyRow).where(VaultKeyRow.state == "active")):
                r.state = "decrypt_only"
            row = s.get(VaultKeyRow, kid)
            if row is None:
                s.add(
                    VaultKeyRow(
                        key_id=kid, state="active", source=source, created_at=self._clock.now()
                    )
                )
            else:
                row.state = "active"
        self.reload()
        return kid

    def generate(self) -> tuple[str, Path]:
        """A new random key written to ``keys_dir/<kid>.key`` (mode 600)."""
        key = os.urandom(32)
        path = self.keys_dir / f"{key_id_of(key)}.key"
        write_key_file(path, key)
        log.warning(
            "vault_key_generated",
            path=str(path),
            warning="back this file up: recordings wrapped under it are lost without it",
        )
        return self.add_active(key, str(path)), path

    def states(self) -> list[tuple[str, str, str]]:
        with self._db.session() as s:
            rows = s.scalars(select(VaultKeyRow).order_by(VaultKeyRow.created_at)).all()
            return [(r.key_id, r.state, r.source) for r in rows]

    def mark_retired(self, key_id: str) -> str:
        """Mark retired; returns its source (the caller may destroy the key file)."""
        with self._db.session() as s:
            row = s.get(VaultKeyRow, key_id)
            if row is None:
                raise ConfigError(f"no vault key {key_id}", code="unknown_key")
            row.state = "retired"
            row.retired_at = self._clock.now()
            source = row.source
        self.reload()
        return source
