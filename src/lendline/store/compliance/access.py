"""Access at the edge: login throttling/lockout (``services["login_guard"]``) and scoped API
keys for systems (``services["api_keys"]``)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from lendline.clock import Clock
from lendline.compliance import apikeys
from lendline.compliance.audit import Auditor
from lendline.compliance.principal import Principal
from lendline.compliance.rbac import PERMISSIONS, Role, allowed
from lendline.compliance.throttle import AddressThrottle, LoginRules, after_failure
from lendline.errors import LendlineError, NotFound, ValidationError
from lendline.store.base import Database
from lendline.store.models_auth import UserRow
from lendline.store.models_compliance import ApiKeyRow


class TooManyAttempts(LendlineError):
    code = "too_many_attempts"
    http_status = 429


class AccountLocked(LendlineError):
    code = "account_locked"
    http_status = 423


class LoginGuard:
    """``before_attempt(username, ip)`` raises when throttled or locked;
    ``after_attempt(username, ok)`` counts failures and locks (its own transaction)."""

    def __init__(self, db: Database, clock: Clock, audit: Auditor, rules: LoginRules) -> None:
        self._db = db
        self._clock = clock
        self._audit = audit
        self.rules = rules
        self._ips = AddressThrottle(rules)
        self._unknown: dict[str, tuple[int, datetime | None]] = {}
        self._lock = threading.Lock()
        self._sessions: dict[str, tuple[float, bool, str]] = {}  # user → (checked at, active, role)

    SESSION_CHECK_TTL_S = 5.0

    def session_valid(self, user_id: str, role: str) -> bool:
        """A session stays valid while its user is active with the same role (looked up at
        most every ``SESSION_CHECK_TTL_S`` seconds per user)."""
        now_s = self._clock.monotonic()
        cached = self._sessions.get(user_id)
        if cached is None or now_s - cached[0] >= self.SESSION_CHECK_TTL_S:
            with self._db.session() as s:
                row = s.get(UserRow, user_id)
                cached = (now_s, bool(row and row.active), row.role if row else "")
            if len(self._sessions) > 50_000:
                self._sessions.clear()
            self._sessions[user_id] = cached
        return cached[1] and cached[2] == role

    def _locked_until(self, username: str) -> datetime | None:
        with self._db.session() as s:
            row = s.scalars(select(UserRow).where(UserRow.username == username)).first()
            if row is not None:
                return row.locked_until
        return self._unknown.get(username, (0, None))[1]

    def before_attempt(self, username: str, ip: str) -> None:
        with self._lock:
            wait = self._ips.allow(ip or "?", self._clock.monotonic())
        if wait > 0:
            self._audit.record(
                actor=username, action="session.login", target=ip, outcome="throttled"
            )
            raise TooManyAttempts(f"too many login attempts; retry in {int(wait) + 1} s")
        until = self._locked_until(username)
        if until is not None and until > self._clock.now():
            self._audit.record(
                actor=username, action="session.login", target=username, outcome="locked"
            )
            raise AccountLocked(
                f"account locked until {until.isoformat()} (账户已锁定，请稍后再试)"
            )

    def after_attempt(self, username: str, ok: bool) -> None:
        with self._db.session() as s:
            self._count(s, username, ok)

    def _count(self, s: Session, username: str, ok: bool) -> None:
        now = self._clock.now()
        lock_until = now + timedelta(seconds=self.rules.lock_s)
        row = s.scalars(select(UserRow).where(UserRow.username == username)).first()
        if row is None:
            with self._lock:
                n, _ = self._unknown.get(username, (0, None))
                n, lock = after_failure(n, self.rules)
                self._unknown[username] = (0, lock_until) if lock else (n, None)
            return
        if ok:
            row.failed_logins = 0
            row.locked_until = None
            return
        row.failed_logins, lock = after_failure(row.failed_logins or 0, self.rules)
        if lock:
            row.failed_logins = 0
            row.locked_until = lock_until

    def unlock(self, username: str, *, actor: str) -> None:
        with self._db.session() as s:
            row = s.scalars(select(UserRow).where(UserRow.username == username)).first()
            if row is None:
                raise NotFound(f"no user {username!r}", code="user_not_found")
            row.locked_until = None
            row.failed_logins = 0
        self._audit.record(actor=actor, action="session.unlock", target=username)


@dataclass(frozen=True, slots=True)
class ApiKeyInfo:
    key_id: str
    name: str
    role: str
    scopes: tuple[str, ...]
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked: bool


def _info(r: ApiKeyRow) -> ApiKeyInfo:
    return ApiKeyInfo(
        r.key_id,
        r.name,
        r.role,
        tuple(x for x in r.scopes.split(",") if x),
        r.created_by,
        r.created_at,
        r.expires_at,
        r.last_used_at,
        r.revoked_at is not None,
    )


class ApiKeyService:
    """Keys carry a role and a list of actions (scopes) within that role's rights."""

    def __init__(self, db: Database, clock: Clock, audit: Auditor) -> None:
        self._db = db
        self._clock = clock
        self._audit = audit

    def create(
        self, *, name: str, role: str, scopes: list[str], actor: str, ttl_days: int | None = None
    ) -> tuple[ApiKeyInfo, str]:
        """Create a key; returns (info, the full key — shown this once, never stored)."""
        try:
            Role(role)
        except ValueError:
            raise ValidationError(f"unknown role {role!r}", field="role") from None
        if not scopes:
            raise ValidationError("give at least one action", field="scopes")
        for action in scopes:
            if action not in PERMISSIONS:
                raise ValidationError(f"unknown action {action!r}", field="scopes")
            if not allowed(role, action):
                raise ValidationError(f"role {role} may not {action}", field="scopes")
        key_id, full, digest = apikeys.new_key()
        now = self._clock.now()
        row = ApiKeyRow(
            key_id=key_id,
            name=name[:100],
            role=role,
            scopes=",".join(sorted(set(scopes))),
            secret_hash=digest,
            created_by=actor,
            created_at=now,
            expires_at=now + timedelta(days=ttl_days) if ttl_days else None,
        )
        with self._db.session() as s:
            s.add(row)
            info = _info(row)
        self._audit.record(
            actor=actor,
            action="apikeys.create",
            target=key_id,
            detail=f"{name}: role {role}, scopes {row.scopes}",
        )
        return info, full

    def authenticate(self, key: str) -> Principal | None:
        """The principal of a valid key, else None (web.auth answers 401)."""
        parts = apikeys.split_key(key.strip())
        if parts is None:
            return None
        key_id, secret = parts
        now = self._clock.now()
        with self._db.session() as s:
            r = s.get(ApiKeyRow, key_id)
            if r is None or r.revoked_at is not None or not apikeys.matches(r.secret_hash, secret):
                return None
            if r.expires_at is not None and r.expires_at <= now:
                return None
            if r.last_used_at is None or now - r.last_used_at > timedelta(minutes=1):
                r.last_used_at = now  # coarse, to keep reads cheap
            return Principal(
                user_id=f"apikey:{key_id}",
                username=f"apikey:{r.name}",
                role=r.role,
                via="api_key",
                scopes=frozenset(x for x in r.scopes.split(",") if x),
            )

    def revoke(self, key_id: str, *, actor: str) -> None:
        with self._db.session() as s:
            r = s.get(ApiKeyRow, key_id)
            if r is None:
                raise NotFound(f"no API key {key_id!r}", code="api_key_not_found")
            r.revoked_at = self._clock.now()
        self._audit.record(actor=actor, action="apikeys.revoke", target=key_id)

    def list(self) -> list[ApiKeyInfo]:
        with self._db.session() as s:
            return [_info(r) for r in s.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created_at))]
