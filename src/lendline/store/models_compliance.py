"""Tables of the compliance feature: audit chain, recording index and keys, OTP challenges,
contact decisions and the do-not-call list, rate reviews, API keys.

Times are aware UTC (``UTCDateTime``); rates are ``Numeric`` (Decimal), never float.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, Float, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lendline.store.base import Base, UTCDateTime


class AuditEntryRow(Base):
    """One link of the hash chain; ``entry_hash`` covers every other column and ``prev_hash``."""

    __tablename__ = "audit_log"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str] = mapped_column(String(200), default="")
    outcome: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(Text, default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))


class VaultKeyRow(Base):
    """A master key known to the vault: ``active`` wraps new data keys, ``decrypt_only`` still
    unwraps old ones, ``retired`` wraps nothing any more (its key material may be destroyed)."""

    __tablename__ = "vault_keys"
    key_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    state: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class RecordingRow(Base):
    """The index of the vault: one row per recording, linked to its call."""

    __tablename__ = "recordings"
    recording_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    call_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="call")
    customer_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    agent_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    team_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    caller_masked: Mapped[str] = mapped_column(String(64), default="")
    loan_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    duration_s: Mapped[float] = mapped_column(Float, default=0.0)
    paused_s: Mapped[float] = mapped_column(Float, default=0.0)
    audio_bytes: Mapped[int] = mapped_column(Integer, default=0)
    sample_rate_hz: Mapped[int] = mapped_column(Integer, default=8000)
    channels: Mapped[int] = mapped_column(Integer, default=2)
    key_id: Mapped[str] = mapped_column(String(40), index=True)
    # recording | sealed | purged | lost (cut by a crash before any of it was stored)
    state: Mapped[str] = mapped_column(String(20), default="recording")
    retain_until: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    legal_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    hold_reason: Mapped[str] = mapped_column(String(200), default="")
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    node_id: Mapped[str | None] = mapped_column(String(40), nullable=True)  # writer's node

    __table_args__ = (
        Index("ix_recordings_customer_started", "customer_id", "started_at"),
        Index("ix_recordings_agent_started", "agent_id", "started_at"),
        Index("ix_recordings_team_started", "team_id", "started_at"),
    )


class OtpChallengeRow(Base):
    __tablename__ = "otp_challenges"
    challenge_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    operation: Mapped[str] = mapped_column(String(40))
    params_digest: Mapped[str] = mapped_column(String(64))
    params_json: Mapped[str] = mapped_column(Text, default="{}")
    code_hash: Mapped[str] = mapped_column(String(64))
    phone_digest: Mapped[str] = mapped_column(String(64), default="")
    phone_masked: Mapped[str] = mapped_column(String(20), default="")
    customer_id: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    actor: Mapped[str] = mapped_column(String(64), default="")
    state: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sends: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ContactDecisionRow(Base):
    """Every decision of the contact policy (refusals with their reason codes)."""

    __tablename__ = "contact_decisions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(String(40), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    purpose: Mapped[str] = mapped_column(String(20))
    party: Mapped[str] = mapped_column(String(20), default="debtor")
    allowed: Mapped[bool] = mapped_column(Boolean)
    reasons: Mapped[str] = mapped_column(String(200), default="")  # comma-separated codes
    next_allowed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    actor: Mapped[str] = mapped_column(String(64), default="")


class DoNotCallRow(Base):
    __tablename__ = "do_not_call"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    phone_digest: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    source: Mapped[str] = mapped_column(String(40), default="agent")  # agent | bot | customer
    reason: Mapped[str] = mapped_column(String(200), default="")
    added_by: Mapped[str] = mapped_column(String(64), default="")
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class RateReviewRow(Base):
    __tablename__ = "rate_reviews"
    review_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    loan_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    call_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    contract_rate_pct: Mapped[Decimal] = mapped_column(Numeric(8, 4))
    offered_rate_pct: Mapped[Decimal] = mapped_column(Numeric(8, 4))
    threshold_pct: Mapped[Decimal] = mapped_column(Numeric(8, 4))
    state: Mapped[str] = mapped_column(
        String(20), index=True
    )  # auto_approved|pending|approved|rejected
    maker: Mapped[str] = mapped_column(String(64))
    checker: Mapped[str | None] = mapped_column(String(64), nullable=True)
    note: Mapped[str] = mapped_column(String(400), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ApiKeyRow(Base):
    """A system's API key: only a SHA-256 of the secret is kept; the key is shown once."""

    __tablename__ = "api_keys"
    key_id: Mapped[str] = mapped_column(String(24), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(32))
    scopes: Mapped[str] = mapped_column(Text, default="")  # comma-separated actions
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class AuditHeadRow(Base):
    """One row: the last sequence number and hash, locked while appending (one chain)."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    entry_hash: Mapped[str] = mapped_column(String(64))


__all__ = [
    "ApiKeyRow",
    "AuditEntryRow",
    "AuditHeadRow",
    "ContactDecisionRow",
    "DoNotCallRow",
    "OtpChallengeRow",
    "RateReviewRow",
    "RecordingRow",
    "VaultKeyRow",
]
