"""The port through which dialogue actions read customers and write outcomes.

``DialogueBackend`` is implemented by ``lendline.store.dialogue.StoreBackend`` (built-in
tables, SMS outbox, call-center and compliance services when wired) and, in unit tests,
by a small in-memory class. Money in fen, dates as ``datetime.date``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True, slots=True)
class LoanFacts:
    loan_id: str
    product: str
    loan_type: str
    principal_fen: int
    outstanding_fen: int
    rate_pct: Decimal
    term_months: int
    status: str
    overdue_days: int = 0
    next_due_date: date | None = None
    next_due_fen: int = 0
    opened: date | None = None


@dataclass(frozen=True, slots=True)
class CustomerFacts:
    customer_id: str
    name: str
    phone_e164: str
    id_number: str
    birth_date: date | None
    credit_score: int
    risk_flags: tuple[str, ...] = ()
    loans: tuple[LoanFacts, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class Outcome:
    """A verification or lockout answer: ``failures`` so far, ``locked`` when over the limit."""

    failures: int
    locked: bool


class DialogueBackend(Protocol):
    def customer(self, customer_id: str) -> CustomerFacts | None: ...

    def customer_by_id_number(self, id_number: str) -> CustomerFacts | None: ...

    def verify_failures(self, subject: str) -> Outcome:
        """Failures recorded against ``subject`` (an ID number), and whether it is locked."""
        ...

    def record_verify_failure(self, subject: str) -> Outcome: ...

    def clear_verify_failures(self, subject: str) -> None: ...

    def open_ticket(
        self, *, conversation_id: str, customer_id: str | None, category: str, details: str
    ) -> str:
        """Open a complaint ticket; returns its number (read back to the caller)."""
        ...

    def record_promise(
        self,
        *,
        conversation_id: str,
        customer_id: str,
        loan_id: str | None,
        kind: str,  # promise | unable
        promised_date: date | None,
        amount_fen: int,
        reason: str,
    ) -> int: ...

    def stop_calling(self, *, conversation_id: str, customer_id: str) -> None:
        """Put the customer on the do-not-call list (compliance) and record it."""
        ...

    def send_upload_link(self, *, conversation_id: str, customer_id: str | None, phone: str) -> str:
        """Text the customer a secure link to upload documents; returns the message id."""
        ...
