"""The built-in ``DialogueBackend``: customers from the built-in CRM tables, tickets,
promises to pay and lockouts in the dialogue tables, SMS through the gateway interface,
do-not-call on the customer row (and the compliance contact policy when it is wired).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Protocol

from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lendline.bus import InProcessBus
from lendline.clock import Clock
from lendline.compliance.fieldcrypt import FieldCipher
from lendline.compliance.masking import mask_text
from lendline.dialogue.actions import MAX_VERIFY_FAILURES
from lendline.dialogue.backend import CustomerFacts, LoanFacts, Outcome
from lendline.domain.customer import Customer
from lendline.domain.events import ComplianceAlert
from lendline.errors import NotFound
from lendline.store.base import Database
from lendline.store.customers import CustomerRepository
from lendline.store.models import CustomerRow
from lendline.store.models_dialogue import PromiseToPayRow, TicketRow, VerifyLockoutRow

LOCKOUT_S = 30 * 60  # a locked ID number may try again after 30 minutes
UPLOAD_LINK_MAX_AGE_S = 24 * 3600


class Sms(Protocol):
    def send(self, phone_e164: str, text: str) -> str: ...


class StoreBackend:
    def __init__(
        self,
        db: Database,
        cipher: FieldCipher,
        clock: Clock,
        bus: InProcessBus,
        sms: Sms,
        *,
        link_secret: str,
        link_base: str,
        services: dict[str, Any] | None = None,
    ) -> None:
        self.db, self.cipher, self.clock, self.bus, self.sms = db, cipher, clock, bus, sms
        self.links = URLSafeTimedSerializer(link_secret, salt="lendline-upload")
        self.link_base = link_base.rstrip("/")
        self.services = services if services is not None else {}

    # --- customers ---
    def _facts(self, repo: CustomerRepository, c: Customer) -> CustomerFacts:
        loans = tuple(
            LoanFacts(
                ln.loan_id,
                ln.product,
                ln.loan_type.value,
                ln.principal_fen,
                ln.outstanding_fen,
                ln.rate_pct,
                ln.term_months,
                ln.status.value,
                ln.overdue_days,
                ln.next_due_date,
                ln.next_due_fen,
                ln.opened_at.date() if ln.opened_at else None,
            )
            for ln in repo.loans(c.customer_id)
        )
        return CustomerFacts(
            c.customer_id,
            c.name,
            c.phone_e164,
            c.id_number,
            c.birth_date,
            c.credit_score,
            tuple(sorted(f.value for f in c.risk_flags)),
            loans,
        )

    def customer(self, customer_id: str) -> CustomerFacts | None:
        with self.db.session() as s:
            repo = CustomerRepository(s, self.cipher)
            try:
                return self._facts(repo, repo.get(customer_id))
            except NotFound:
                return None

    def customer_by_id_number(self, id_number: str) -> CustomerFacts | None:
        with self.db.session() as s:
            repo = CustomerRepository(s, self.cipher)
            c = repo.by_id_number(id_number)
            return self._facts(repo, c) if c else None

    def customer_by_phone(self, phone_e164: str) -> str | None:
        with self.db.session() as s:
            c = CustomerRepository(s, self.cipher).by_phone(phone_e164)
            return c.customer_id if c else None

    # --- verification lockout ---
    def _lock_row(self, s: Session, subject: str) -> VerifyLockoutRow | None:
        return s.get(VerifyLockoutRow, self.cipher.digest("verify:" + subject.upper()))

    def verify_failures(self, subject: str) -> Outcome:
        with self.db.session() as s:
            row = self._lock_row(s, subject)
            if row is None:
                return Outcome(0, False)
            locked = row.locked_until is not None and row.locked_until > self.clock.now()
            return Outcome(row.failures, locked)

    def record_verify_failure(self, subject: str) -> Outcome:
        now = self.clock.now()
        with self.db.session() as s:
            row = self._lock_row(s, subject)
            if row is None:
                row = VerifyLockoutRow(
                    subject_digest=self.cipher.digest("verify:" + subject.upper()),
                    failures=0,
                    updated_at=now,
                )
                s.add(row)
            elif row.locked_until is not None and row.locked_until <= now:
                row.failures, row.locked_until = 0, None  # the lock expired: start afresh
            row.failures += 1
            row.updated_at = now
            if row.failures >= MAX_VERIFY_FAILURES:
                row.locked_until = now + timedelta(seconds=LOCKOUT_S)
            return Outcome(row.failures, row.failures >= MAX_VERIFY_FAILURES)

    def clear_verify_failures(self, subject: str) -> None:
        with self.db.session() as s:
            row = self._lock_row(s, subject)
            if row is not None:
                s.delete(row)

    # --- outcomes ---
    def open_ticket(
        self, *, conversation_id: str, customer_id: str | None, category: str, details: str
    ) -> str:
        now = self.clock.now()
        day = now.strftime("%Y%m%d")
        with self.db.session() as s:
            n = (
                s.scalar(
                    select(func.count())
                    .select_from(TicketRow)
                    .where(TicketRow.ticket_no.like(f"T{day}%"))
                )
                or 0
            )
            no = f"T{day}{n + 1:04d}"
            s.add(
                TicketRow(
                    ticket_no=no,
                    conversation_id=conversation_id,
                    customer_id=customer_id,
                    category=category,
                    details=mask_text(details)[:2000],
                    status="open",
                    created_at=now,
                )
            )
        return no

    def record_promise(
        self,
        *,
        conversation_id: str,
        customer_id: str,
        loan_id: str | None,
        kind: str,
        promised_date: date | None,
        amount_fen: int,
        reason: str,
    ) -> int:
        with self.db.session() as s:
            row = PromiseToPayRow(
                customer_id=customer_id,
                loan_id=loan_id,
                conversation_id=conversation_id,
                kind=kind,
                promised_date=promised_date,
                amount_fen=amount_fen,
                reason=mask_text(reason)[:1000],
                created_at=self.clock.now(),
            )
            s.add(row)
            s.flush()
            return int(row.id)

    def stop_calling(self, *, conversation_id: str, customer_id: str) -> None:
        with self.db.session() as s:
            row = s.get(CustomerRow, customer_id)
            if row is None:
                raise NotFound(f"no customer {customer_id!r}", code="customer_not_found")
            row.do_not_call = True
        policy = self.services.get("contact_policy")
        if policy is not None and hasattr(policy, "add_do_not_call"):
            # the compliance list (audited); the column above works without it
            policy.add_do_not_call(
                customer_id, source="bot", reason=f"conversation {conversation_id}", actor="bot"
            )
        self.bus.publish(
            ComplianceAlert(
                at_s=self.clock.monotonic(),
                kind="do_not_call",
                detail=f"requested in conversation {conversation_id}",
                subject_id=customer_id,
            )
        )

    def upload_link(self, customer_id: str | None, conversation_id: str) -> str:
        token = self.links.dumps({"c": customer_id, "v": conversation_id})
        return f"{self.link_base}/{token}"

    def check_upload_token(self, token: str) -> dict[str, Any]:
        """The token's payload if it is genuine and younger than 24 h (else itsdangerous raises)."""
        data: dict[str, Any] = self.links.loads(token, max_age=UPLOAD_LINK_MAX_AGE_S)
        return data

    def send_upload_link(self, *, conversation_id: str, customer_id: str | None, phone: str) -> str:
        link = self.upload_link(customer_id, conversation_id)
        text = (
            "【安信金融】请点击安全链接上传贷款申请材料（24小时内有效）："
            f"{link} 如非本人操作请忽略。"
        )
        return self.sms.send(phone, text)
