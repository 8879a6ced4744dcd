"""Connectors that answer from lendline's own tables: the embedded default and the demo.

The queries are synchronous SQLAlchemy Core (column selects: no ORM identity map, no
relationship loading — a screen pop is on the hot path); each call runs in a worker
thread so the event loop (WebSocket pushes, SIP) never waits on the database.
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
        c = CustomerRow.__table__.c
        with self.db.engine.connect() as conn:  # Core: no ORM identity map, no relationships
            row = conn.execute(
                select(
                    c.customer_id,
                    c.name,
                    c.phone_cipher,
                    c.id_cipher,
                    c.segment,
                    c.vip,
                    c.credit_score,
                    c.language,
                    c.team_id,
                    c.last_agent_id,
                ).where(c.customer_id == customer_id)
            ).first()
        if row is None:
            raise NotFound(f"no customer {customer_id!r}", code="customer_not_found")
        return CustomerProfile(
            customer_id=row.customer_id,
            name=row.name,
            phone=self.cipher.decrypt(row.phone_cipher, context=b"phone"),
            id_number=(
                self.cipher.decrypt(row.id_cipher, context=b"id_number") if row.id_cipher else ""
            ),
            segment=row.segment,
            vip=row.vip,
            credit_score=row.credit_score,
            language=row.language,
            team=row.team_id,
            last_agent_id=row.last_agent_id,
        )

    def contacts_sync(self, customer_id: str, limit: int = 5) -> list[Contact]:
        c = ContactRow.__table__.c
        with self.db.engine.connect() as conn:
            rows = conn.execute(
                select(c.at, c.channel, c.direction, c.purpose, c.agent_id, c.summary, c.outcome)
                .where(c.customer_id == customer_id)
                .order_by(c.at.desc())
                .limit(limit)
            ).all()
        return [Contact.model_validate(r._mapping) for r in rows]

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
        c = LoanAccountRow.__table__.c
        with self.db.engine.connect() as conn:
            rows = conn.execute(
                select(
                    c.loan_id,
                    c.product,
                    c.loan_type,
                    c.principal_fen,
                    c.outstanding_fen,
                    c.rate_pct,
                    c.term_months,
                    c.status,
                    c.overdue_days,
                    c.next_due_date,
                    c.next_due_fen,
                    c.opened_at,
                )
                .where(c.customer_id == customer_id)
                .order_by(c.opened_at.desc())
            ).all()
        out = []
        for r in rows:
            d = dict(r._mapping)
            rate = d["rate_pct"]
            d["rate_pct"] = str(rate.normalize()) if rate is not None else "0"
            out.append(Loan.model_validate(d))
        return out

    def repayments_sync(self, customer_id: str, limit: int = 12) -> list[Repayment]:
        r_, ln = RepaymentRow.__table__.c, LoanAccountRow.__table__.c
        with self.db.engine.connect() as conn:
            rows = conn.execute(
                select(r_.loan_id, r_.due_date, r_.amount_fen, r_.paid_fen, r_.status)
                .join_from(RepaymentRow.__table__, LoanAccountRow.__table__)
                .where(ln.customer_id == customer_id)
                .order_by(r_.due_date.desc())
                .limit(limit)
            ).all()
        return [Repayment.model_validate(r._mapping) for r in rows]

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
        c = CustomerRow.__table__.c
        with self.db.engine.connect() as conn:
            flags = conn.execute(
                select(c.risk_flags).where(c.customer_id == customer_id)
            ).scalar_one_or_none()
        if flags is None:
            raise NotFound(f"no customer {customer_id!r}", code="customer_not_found")
        return RiskReport(
            customer_id=customer_id, flags=[RiskFlagEntry(flag=f) for f in flags.split(",") if f]
        )

    async def risk(self, customer_id: str) -> RiskReport:
        return await asyncio.to_thread(self.risk_sync, customer_id)
