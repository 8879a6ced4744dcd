"""Outbound campaigns, their targets and every attempt (dials and policy refusals)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lendline.store.base import Base, UTCDateTime


class CampaignRow(Base):
    __tablename__ = "campaigns"
    campaign_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    purpose: Mapped[str] = mapped_column(String(20))
    definition: Mapped[str] = mapped_column(Text)  # the YAML as submitted
    status: Mapped[str] = mapped_column(String(20), default="active")  # active | paused
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    tokens: Mapped[float] = mapped_column(Float, default=0.0)  # pacing bucket
    tokens_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class CampaignTargetRow(Base):
    __tablename__ = "campaign_targets"
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.campaign_id"), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"), primary_key=True)
    stage: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(20), index=True)
    next_at: Mapped[datetime] = mapped_column(UTCDateTime())
    result: Mapped[str | None] = mapped_column(String(40), nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(10), nullable=True)


class CampaignAttemptRow(Base):
    __tablename__ = "campaign_attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.campaign_id"), index=True)
    customer_id: Mapped[str] = mapped_column(String(40), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(10))  # dial | refusal | outcome
    stage: Mapped[int] = mapped_column(Integer, default=0)
    detail: Mapped[str] = mapped_column(String(200), default="")  # outcome or reason codes
