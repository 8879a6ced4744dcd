"""The connector interfaces and the records they return.

The same records are the JSON the lender's HTTP services answer with (docs/connectors-
openapi.yaml): pydantic models validate what comes over the wire, so a malformed answer
is refused at the edge instead of reaching an agent's screen. Money is integer fen.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

RISK_FLAG_ZH: dict[str, str] = {
    "multi_borrowing": "多头借贷",
    "fraud_suspected": "疑似欺诈",
    "blacklist": "黑名单",
    "litigation": "涉诉",
}


class _Record(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class CustomerProfile(_Record):
    """CRM: who the customer is. ``phone``/``id_number`` are plain here; mask on the way out."""

    customer_id: str = Field(min_length=1, max_length=64)
    name: str = Field(max_length=100)
    phone: str = Field("", max_length=32)
    id_number: str = Field("", max_length=18)
    segment: str = "retail"
    vip: bool = False
    credit_score: int | None = Field(None, ge=0, le=1000)
    language: str = "zh-CN"
    team: str | None = None
    last_agent_id: str | None = None


class Contact(_Record):
    """CRM: one past interaction (call, SMS, bot session)."""

    at: datetime
    channel: str
    direction: str = "inbound"
    purpose: str = "service"
    agent_id: str | None = None
    summary: str = ""
    outcome: str = ""


class Loan(_Record):
    """Loan origination: one loan and where its application or servicing stands."""

    loan_id: str = Field(min_length=1)
    product: str
    loan_type: str = "personal"
    principal_fen: int = Field(ge=0)
    outstanding_fen: int = Field(0, ge=0)
    rate_pct: str = "0"  # Decimal as a string, annual percent
    term_months: int = Field(0, ge=0)
    status: (
        str  # applied | reviewing | approved | rejected | disbursed | repaying | overdue | settled
    )
    overdue_days: int = Field(0, ge=0)
    next_due_date: date | None = None
    next_due_fen: int = Field(0, ge=0)
    opened_at: datetime | None = None


class Repayment(_Record):
    """Loan origination: one instalment of the repayment history."""

    loan_id: str
    due_date: date
    amount_fen: int = Field(ge=0)
    paid_fen: int = Field(0, ge=0)
    status: str  # paid | due | late | missed


class RiskFlagEntry(_Record):
    flag: str  # multi_borrowing | fraud_suspected | blacklist | litigation | lender-specific
    detail: str = ""
    since: date | None = None


class RiskReport(_Record):
    """Risk engine: flags on the customer (多头借贷, 疑似欺诈, 黑名单, 涉诉)."""

    customer_id: str
    flags: list[RiskFlagEntry] = Field(default_factory=list)


class LoanList(_Record):
    loans: list[Loan] = Field(default_factory=list)


class RepaymentList(_Record):
    repayments: list[Repayment] = Field(default_factory=list)


class ContactList(_Record):
    contacts: list[Contact] = Field(default_factory=list)


class CustomerSystem(Protocol):
    """The lender's CRM."""

    async def profile(self, customer_id: str) -> CustomerProfile: ...

    async def contacts(self, customer_id: str, limit: int = 5) -> list[Contact]: ...


class LoanSystem(Protocol):
    """The lender's loan origination / servicing system."""

    async def loans(self, customer_id: str) -> list[Loan]: ...

    async def repayments(self, customer_id: str, limit: int = 12) -> list[Repayment]: ...


class RiskSystem(Protocol):
    """The lender's risk engine."""

    async def risk(self, customer_id: str) -> RiskReport: ...
