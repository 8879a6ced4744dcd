"""Tables of the dialogue feature: conversations and their turns, complaint tickets,
promises to pay, and identity-verification lockouts.

The conversation context (slots may hold an ID number) is sealed with the field cipher;
turn texts are stored masked.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, Float, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lendline.store.base import Base, UTCDateTime


class ConversationRow(Base):
    __tablename__ = "conversations"
    conversation_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str | None] = mapped_column(String(40), index=True, nullable=True)
    channel: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20))  # active | ended | handed_off
    state: Mapped[str] = mapped_column(String(80), default="")
    handoff_queue: Mapped[str | None] = mapped_column(String(40), nullable=True)
    handoff_reason: Mapped[str | None] = mapped_column(String(40), nullable=True)
    call_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    turns: Mapped[int] = mapped_column(Integer, default=0)
    context_cipher: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ConversationTurnRow(Base):
    __tablename__ = "conversation_turns"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.conversation_id"), index=True
    )
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    user_text: Mapped[str] = mapped_column(Text, default="")  # masked
    reply_text: Mapped[str] = mapped_column(Text, default="")
    intent: Mapped[str | None] = mapped_column(String(40), nullable=True)
    confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    state: Mapped[str] = mapped_column(String(80), default="")
    actions: Mapped[list[str]] = mapped_column(JSON, default=list)


class TicketRow(Base):
    __tablename__ = "tickets"
    ticket_no: Mapped[str] = mapped_column(String(32), primary_key=True)
    conversation_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    customer_id: Mapped[str | None] = mapped_column(String(40), index=True, nullable=True)
    category: Mapped[str] = mapped_column(String(40))
    details: Mapped[str] = mapped_column(Text, default="")  # masked
    status: Mapped[str] = mapped_column(String(20), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class PromiseToPayRow(Base):
    __tablename__ = "promises_to_pay"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(String(40), index=True)
    loan_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    conversation_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    kind: Mapped[str] = mapped_column(String(10))  # promise | unable
    promised_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    amount_fen: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(Text, default="")  # masked
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class VerifyLockoutRow(Base):
    """Failed identity checks per ID-number digest (keyed hash, never the number)."""

    __tablename__ = "verify_lockouts"
    subject_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


__all__ = [
    "ConversationRow",
    "ConversationTurnRow",
    "PromiseToPayRow",
    "TicketRow",
    "VerifyLockoutRow",
]
