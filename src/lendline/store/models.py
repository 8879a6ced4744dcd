"""Core tables: customers and loans (the built-in CRM / loan origination), agents, calls.

Feature packages add their own tables in their own modules (``store/models_*.py``) on the
same ``Base``; each has its own Alembic migration branch.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lendline.store.base import Base, UTCDateTime


class TeamRow(Base):
    __tablename__ = "teams"
    team_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))


class SkillRow(Base):
    __tablename__ = "skills"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    description: Mapped[str] = mapped_column(String(200), default="")


class AgentRow(Base):
    __tablename__ = "agents"
    agent_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    team_id: Mapped[str | None] = mapped_column(ForeignKey("teams.team_id"), nullable=True)
    languages: Mapped[str] = mapped_column(String(100), default="zh-CN")  # comma-separated
    sip_user: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    # digest credentials (RFC 7616 / RFC 8760): HA1 = H(user:realm:password)
    sip_ha1_md5: Mapped[str | None] = mapped_column(String(32), nullable=True)
    sip_ha1_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    skills: Mapped[list[AgentSkillRow]] = relationship(
        back_populates="agent", cascade="all, delete-orphan", lazy="selectin"
    )


class AgentSkillRow(Base):
    __tablename__ = "agent_skills"
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.agent_id"), primary_key=True)
    skill: Mapped[str] = mapped_column(ForeignKey("skills.name"), primary_key=True)
    proficiency: Mapped[int] = mapped_column(Integer)
    agent: Mapped[AgentRow] = relationship(back_populates="skills")


class CustomerRow(Base):
    __tablename__ = "customers"
    customer_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    # sensitive fields: AES-GCM sealed, keyed-hash digest for lookups (compliance.fieldcrypt)
    phone_cipher: Mapped[bytes] = mapped_column(LargeBinary)
    phone_digest: Mapped[str] = mapped_column(String(64), index=True)
    id_cipher: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    id_digest: Mapped[str | None] = mapped_column(String(64), index=True, nullable=True)
    birth_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    timezone: Mapped[str] = mapped_column(String(40), default="Asia/Shanghai")
    language: Mapped[str] = mapped_column(String(10), default="zh-CN")
    credit_score: Mapped[int] = mapped_column(Integer, default=600)
    loan_amount_fen: Mapped[int] = mapped_column(Integer, default=0)
    product: Mapped[str] = mapped_column(String(40), default="")
    overdue_days: Mapped[int] = mapped_column(Integer, default=0)
    first_call: Mapped[bool] = mapped_column(Boolean, default=True)
    last_contact_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    risk_flags: Mapped[str] = mapped_column(String(200), default="")  # comma-separated
    vip: Mapped[bool] = mapped_column(Boolean, default=False)
    segment: Mapped[str] = mapped_column(String(40), default="retail")
    team_id: Mapped[str | None] = mapped_column(ForeignKey("teams.team_id"), nullable=True)
    last_agent_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    quiet_hours_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    do_not_call: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    loans: Mapped[list[LoanAccountRow]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", lazy="selectin"
    )


class LoanAccountRow(Base):
    __tablename__ = "loan_accounts"
    loan_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"), index=True)
    product: Mapped[str] = mapped_column(String(40))
    loan_type: Mapped[str] = mapped_column(String(20))
    principal_fen: Mapped[int] = mapped_column(Integer)
    outstanding_fen: Mapped[int] = mapped_column(Integer)
    rate_pct: Mapped[Decimal] = mapped_column(Numeric(8, 4))
    term_months: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    overdue_days: Mapped[int] = mapped_column(Integer, default=0)
    next_due_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    next_due_fen: Mapped[int] = mapped_column(Integer, default=0)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    customer: Mapped[CustomerRow] = relationship(back_populates="loans")


class RepaymentRow(Base):
    __tablename__ = "repayments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    loan_id: Mapped[str] = mapped_column(ForeignKey("loan_accounts.loan_id"), index=True)
    due_date: Mapped[date] = mapped_column(Date)
    amount_fen: Mapped[int] = mapped_column(Integer)
    paid_fen: Mapped[int] = mapped_column(Integer, default=0)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    status: Mapped[str] = mapped_column(String(20))  # paid | due | late | missed


class ContactRow(Base):
    """Contact history: every past interaction with a customer (calls, SMS, bot sessions)."""

    __tablename__ = "contacts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    channel: Mapped[str] = mapped_column(String(20))  # call | sms | bot | app
    direction: Mapped[str] = mapped_column(String(10))  # inbound | outbound
    purpose: Mapped[str] = mapped_column(String(20), default="service")
    agent_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    connected: Mapped[bool] = mapped_column(Boolean, default=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(String(40), default="")


class CallRow(Base):
    """The call record (CDR). Written when a call arrives and updated as it moves on."""

    __tablename__ = "calls"
    call_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    direction: Mapped[str] = mapped_column(String(10), default="inbound")
    caller_masked: Mapped[str] = mapped_column(String(64), default="")
    caller_digest: Mapped[str] = mapped_column(String(64), default="", index=True)
    dialed: Mapped[str] = mapped_column(String(64), default="")
    customer_id: Mapped[str | None] = mapped_column(String(40), index=True, nullable=True)
    reason: Mapped[str] = mapped_column(String(40), default="")
    state: Mapped[str] = mapped_column(String(20))
    queue: Mapped[str | None] = mapped_column(String(40), nullable=True)
    agent_id: Mapped[str | None] = mapped_column(String(40), index=True, nullable=True)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    rule: Mapped[str | None] = mapped_column(String(80), nullable=True)
    routing_reason: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    wait_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    talk_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    end_reason: Mapped[str | None] = mapped_column(String(20), nullable=True)
    disposition_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    disposition_note: Mapped[str] = mapped_column(Text, default="")
    resolved: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    recording_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    quality: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # RTCP loss/jitter
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # bot hand-off context
    node_id: Mapped[str] = mapped_column(String(40), default="node-1")

    __table_args__ = (Index("ix_calls_agent_started", "agent_id", "started_at"),)
