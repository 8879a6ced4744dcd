"""Customers, their loans and the profile that routing rules read.

Money is integer fen (1 yuan = 100 fen); rates are ``Decimal`` percentages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any


class RiskFlag(StrEnum):
    MULTI_BORROWING = "multi_borrowing"  # 多头借贷
    FRAUD_SUSPECTED = "fraud_suspected"  # 疑似欺诈
    BLACKLIST = "blacklist"  # 黑名单
    LITIGATION = "litigation"  # 涉诉


class LoanType(StrEnum):
    PERSONAL = "personal"
    BUSINESS = "business"


class LoanStatus(StrEnum):
    """Application progress then servicing state of a loan."""

    APPLIED = "applied"  # 已申请
    REVIEWING = "reviewing"  # 审批中
    APPROVED = "approved"  # 已批准
    REJECTED = "rejected"  # 已拒绝
    DISBURSED = "disbursed"  # 已放款
    REPAYING = "repaying"  # 还款中
    OVERDUE = "overdue"  # 逾期
    SETTLED = "settled"  # 已结清


LOAN_STATUS_ZH: dict[LoanStatus, str] = {
    LoanStatus.APPLIED: "已申请",
    LoanStatus.REVIEWING: "审批中",
    LoanStatus.APPROVED: "已批准",
    LoanStatus.REJECTED: "已拒绝",
    LoanStatus.DISBURSED: "已放款",
    LoanStatus.REPAYING: "还款中",
    LoanStatus.OVERDUE: "逾期",
    LoanStatus.SETTLED: "已结清",
}


@dataclass(slots=True)
class LoanAccount:
    loan_id: str
    customer_id: str
    product: str  # e.g. consumer, car, mortgage, operating
    loan_type: LoanType
    principal_fen: int
    outstanding_fen: int
    rate_pct: Decimal  # annual contract rate, percent
    term_months: int
    status: LoanStatus
    overdue_days: int = 0
    next_due_date: date | None = None
    next_due_fen: int = 0
    opened_at: datetime | None = None


@dataclass(slots=True)
class Customer:
    customer_id: str
    name: str
    phone_e164: str
    id_number: str = ""
    birth_date: date | None = None
    timezone: str = "Asia/Shanghai"
    language: str = "zh-CN"
    credit_score: int = 600
    loan_amount_fen: int = 0  # total principal applied for / owed across loans
    product: str = ""
    overdue_days: int = 0
    first_call: bool = True
    last_contact_at: datetime | None = None
    risk_flags: frozenset[RiskFlag] = field(default_factory=frozenset)
    vip: bool = False
    segment: str = "retail"
    team: str | None = None  # collection team that owns the account, if any
    last_agent_id: str | None = None
    quiet_hours_consent: bool = False

    @property
    def is_overdue(self) -> bool:
        return self.overdue_days > 0

    def profile(self, now: datetime) -> dict[str, Any]:
        """The flat mapping the routing rules evaluate (see docs/routing.md)."""
        days_since_contact: float | None = None
        if self.last_contact_at is not None:
            days_since_contact = (now - self.last_contact_at).total_seconds() / 86400.0
        return {
            "customer_id": self.customer_id,
            "loan_amount_fen": self.loan_amount_fen,
            "loan_amount_yuan": self.loan_amount_fen / 100,
            "product": self.product,
            "credit_score": self.credit_score,
            "overdue_days": self.overdue_days,
            "is_overdue": self.is_overdue,
            "first_call": self.first_call,
            "days_since_last_contact": days_since_contact,
            "risk_flags": sorted(f.value for f in self.risk_flags),
            "vip": self.vip,
            "segment": self.segment,
            "language": self.language,
            "team": self.team,
        }
