"""Repository of customers and loans: rows <-> domain objects, sealing sensitive fields."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from lendline.compliance.fieldcrypt import FieldCipher
from lendline.domain.customer import Customer, LoanAccount, LoanStatus, LoanType, RiskFlag
from lendline.errors import NotFound
from lendline.store.models import CustomerRow, LoanAccountRow


class CustomerRepository:
    def __init__(self, session: Session, cipher: FieldCipher) -> None:
        self.session = session
        self.cipher = cipher

    # --- writes ---
    def add(self, c: Customer) -> None:
        row = CustomerRow(customer_id=c.customer_id, name=c.name)
        self._fill(row, c)
        self.session.add(row)

    def save(self, c: Customer) -> None:
        row = self.session.get(CustomerRow, c.customer_id)
        if row is None:
            self.add(c)
        else:
            self._fill(row, c)

    def add_loan(self, loan: LoanAccount) -> None:
        self.session.add(
            LoanAccountRow(
                loan_id=loan.loan_id,
                customer_id=loan.customer_id,
                product=loan.product,
                loan_type=loan.loan_type.value,
                principal_fen=loan.principal_fen,
                outstanding_fen=loan.outstanding_fen,
                rate_pct=loan.rate_pct,
                term_months=loan.term_months,
                status=loan.status.value,
                overdue_days=loan.overdue_days,
                next_due_date=loan.next_due_date,
                next_due_fen=loan.next_due_fen,
                opened_at=loan.opened_at,
            )
        )

    def _fill(self, row: CustomerRow, c: Customer) -> None:
        row.name = c.name
        row.phone_cipher = self.cipher.encrypt(c.phone_e164, context=b"phone")
        row.phone_digest = self.cipher.digest(c.phone_e164)
        if c.id_number:
            row.id_cipher = self.cipher.encrypt(c.id_number, context=b"id_number")
            row.id_digest = self.cipher.digest(c.id_number.upper())
        row.birth_date = c.birth_date
        row.timezone = c.timezone
        row.language = c.language
        row.credit_score = c.credit_score
        row.loan_amount_fen = c.loan_amount_fen
        row.product = c.product
        row.overdue_days = c.overdue_days
        row.first_call = c.first_call
        row.last_contact_at = c.last_contact_at
        row.risk_flags = ",".join(sorted(f.value for f in c.risk_flags))
        row.vip = c.vip
        row.segment = c.segment
        row.team_id = c.team
        row.last_agent_id = c.last_agent_id
        row.quiet_hours_consent = c.quiet_hours_consent

    # --- reads ---
    def get(self, customer_id: str) -> Customer:
        row = self.session.get(CustomerRow, customer_id)
        if row is None:
            raise NotFound(f"no customer {customer_id!r}", code="customer_not_found")
        return self.to_domain(row)

    def by_phone(self, phone_e164: str) -> Customer | None:
        row = self.session.scalars(
            select(CustomerRow).where(CustomerRow.phone_digest == self.cipher.digest(phone_e164))
        ).first()
        return self.to_domain(row) if row else None

    def by_id_number(self, id_number: str) -> Customer | None:
        row = self.session.scalars(
            select(CustomerRow).where(
                CustomerRow.id_digest == self.cipher.digest(id_number.upper())
            )
        ).first()
        return self.to_domain(row) if row else None

    def loans(self, customer_id: str) -> list[LoanAccount]:
        rows = self.session.scalars(
            select(LoanAccountRow)
            .where(LoanAccountRow.customer_id == customer_id)
            .order_by(LoanAccountRow.opened_at)
        ).all()
        return [
            LoanAccount(
                loan_id=r.loan_id,
                customer_id=r.customer_id,
                product=r.product,
                loan_type=LoanType(r.loan_type),
                principal_fen=r.principal_fen,
                outstanding_fen=r.outstanding_fen,
                rate_pct=r.rate_pct,
                term_months=r.term_months,
                status=LoanStatus(r.status),
                overdue_days=r.overdue_days,
                next_due_date=r.next_due_date,
                next_due_fen=r.next_due_fen,
                opened_at=r.opened_at,
            )
            for r in rows
        ]

    def to_domain(self, row: CustomerRow) -> Customer:
        return Customer(
            customer_id=row.customer_id,
            name=row.name,
            phone_e164=self.cipher.decrypt(row.phone_cipher, context=b"phone"),
            id_number=(
                self.cipher.decrypt(row.id_cipher, context=b"id_number") if row.id_cipher else ""
            ),
            birth_date=row.birth_date,
            timezone=row.timezone,
            language=row.language,
            credit_score=row.credit_score,
            loan_amount_fen=row.loan_amount_fen,
            product=row.product,
            overdue_days=row.overdue_days,
            first_call=row.first_call,
            last_contact_at=row.last_contact_at,
            risk_flags=frozenset(RiskFlag(f) for f in row.risk_flags.split(",") if f),
            vip=row.vip,
            segment=row.segment,
            team=row.team_id,
            last_agent_id=row.last_agent_id,
            quiet_hours_consent=row.quiet_hours_consent,
        )
