"""Connectors that answer from lendline's own tables: the embedded default and the demo.

The queries are synchronous SQLAlchemy; each call runs in a worker thread so the event
loop (WebSocket pushes, SIP) never waits on the database.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from lendline.compliance.fieldcrypt import FieldCipher
from lendline.errors import NotFound
from lendline.integration.api import (
    Contact,
    CustomerProfile,
    Loan,
    Repayment,
    RiskFlagEntry,
    RiskReport,
)
from lendline.store.base import Database
from lendline.store.models import ContactRow, CustomerRow, LoanAccountRow, RepaymentRow


class BuiltinCustomers:
    """CRM on the ``customers`` and ``contacts`` tables."""

    local = True  # the screen pop may call the ``*_sync`` methods in one worker thread

    def __init__(self, db: Database, cipher: FieldCipher) -> None:
        self.db = db
        self.cipher = cipher

    def profile_sync(self, customer_id: str) -> CustomerProfile:
        with self.db.session() as s:
            row = s.get(CustomerRow, customer_id)
            if row is None:
                raise NotFound(f"no customer {customer_id!r}", code="customer_not_found")
            return CustomerProfile(
                customer_id=row.customer_id,
                name=row.name,
                phone=self.cipher.decrypt(row.phone_cipher, context=b"phone"),
                id_number=(
                    self.cipher.decrypt(row.id_cipher, context=b"id_number")
                    if row.id_cipher
                    else ""
                ),
                segment=row.segment,
                vip=row.vip,
                credit_score=row.credit_score,
                language=row.language,
                team=row.team_id,
                last_agent_id=row.last_agent_id,
            )

    def contacts_sync(self, customer_id: str, limit: int = 5) -> list[Contact]:
        with self.db.session() as s:
            rows = s.scalars(
                select(ContactRow)
                .where(ContactRow.customer_id == customer_id)
                .order_by(ContactRow.at.desc())
                .limit(limit)
            ).all()
            return [
                Contact(
                    at=r.at,
                    channel=r.channel,
                    direction=r.direction,
                    purpose=r.purpose,
                    agent_id=r.agent_id,
                    summary=r.summary,
                    outcome=r.outcome,
                )
                for r in rows
            ]

    async def profile(self, customer_id: str) -> CustomerProfile:
        return await asyncio.to_thread(self.profile_sync, customer_id)

    async def contacts(self, customer_id: str, limit: int = 5) -> list[Contact]:
        return await asyncio.to_thread(self.contacts_sync, customer_id, limit)


class BuiltinLoans:
    """Loan origination on the ``loan_accounts`` and ``repayments`` tables."""

    local = True

    def __init__(self, db: Database) -> None:
        self.db = db

    def loans_sync(self, customer_id: str) -> list[Loan]:
        with self.db.session() as s:
            rows = s.scalars(
                select(LoanAccountRow)
                .where(LoanAccountRow.customer_id == customer_id)
                .order_by(LoanAccountRow.opened_at.desc())
            ).all()
            return [
                Loan(
                    loan_id=r.loan_id,
                    product=r.product,
                    loan_type=r.loan_type,
                    principal_fen=r.principal_fen,
                    outstanding_fen=r.outstanding_fen,
                    rate_pct=str(r.rate_pct.normalize() if r.rate_pct is not None else "0"),
                    term_months=r.term_months,
                    status=r.status,
                    overdue_days=r.overdue_days,
                    next_due_date=r.next_due_date,
                    next_due_fen=r.next_due_fen,
                    opened_at=r.opened_at,
                )
                for r in rows
            ]

    def repayments_sync(self, customer_id: str, limit: int = 12) -> list[Repayment]:
        with self.db.session() as s:
            rows = s.scalars(
                select(RepaymentRow)
                .join(LoanAccountRow, LoanAccountRow.loan_id == RepaymentRow.loan_id)
                .where(LoanAccountRow.customer_id == customer_id)
                .order_by(RepaymentRow.due_date.desc())
                .limit(limit)
            ).all()
            return [
                Repayment(
                    loan_id=r.loan_id,
                    due_date=r.due_date,
                    amount_fen=r.amount_fen,
                    paid_fen=r.paid_fen,
                    status=r.status,
                )
                for r in rows
            ]

    async def loans(self, customer_id: str) -> list[Loan]:
        return await asyncio.to_thread(self.loans_sync, customer_id)

    async def repayments(self, customer_id: str, limit: int = 12) -> list[Repayment]:
        return await asyncio.to_thread(self.repayments_sync, customer_id, limit)


class BuiltinRisk:
    """Risk engine on the ``customers.risk_flags`` column."""

    local = True

    def __init__(self, db: Database) -> None:
        self.db = db

    def risk_sync(self, customer_id: str) -> RiskReport:
        with self.db.session() as s:
            row = s.get(CustomerRow, customer_id)
            if row is None:
                raise NotFound(f"no customer {customer_id!r}", code="customer_not_found")
            flags = [RiskFlagEntry(flag=f) for f in row.risk_flags.split(",") if f]
            return RiskReport(customer_id=customer_id, flags=flags)

    async def risk(self, customer_id: str) -> RiskReport:
        return await asyncio.to_thread(self.risk_sync, customer_id)
