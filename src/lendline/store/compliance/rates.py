"""Rate-cap review at the edge (``services["rate_review"]``), maker-checker.

``submit`` records an offered rate; above contract + margin it is ``pending``: a
``ComplianceAlert`` goes on the bus, the rate is not disclosable (``disclosable_rate`` gives
None) until a second person — never the maker — approves it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select

from lendline.bus import InProcessBus
from lendline.clock import Clock
from lendline.compliance.audit import Auditor
from lendline.compliance.ratecap import check_rate
from lendline.domain.events import ComplianceAlert
from lendline.errors import Conflict, Forbidden, NotFound, ValidationError
from lendline.store.base import Database
from lendline.store.models import LoanAccountRow
from lendline.store.models_compliance import RateReviewRow


@dataclass(frozen=True, slots=True)
class RateReview:
    review_id: str
    state: str  # auto_approved | pending | approved | rejected
    contract_rate_pct: Decimal
    offered_rate_pct: Decimal
    threshold_pct: Decimal
    maker: str
    checker: str | None
    customer_id: str | None
    loan_id: str | None
    call_id: str | None
    created_at: datetime
    decided_at: datetime | None

    @property
    def disclosable(self) -> bool:
        return self.state in ("auto_approved", "approved")


_PLACES = Decimal("0.0001")  # the column's scale: the same figure before and after storage


def _d(v: Decimal) -> Decimal:
    return Decimal(v).quantize(_PLACES)


def _view(r: RateReviewRow) -> RateReview:
    return RateReview(
        r.review_id,
        r.state,
        _d(r.contract_rate_pct),
        _d(r.offered_rate_pct),
        _d(r.threshold_pct),
        r.maker,
        r.checker,
        r.customer_id,
        r.loan_id,
        r.call_id,
        r.created_at,
        r.decided_at,
    )


class RateReviewService:
    def __init__(
        self, db: Database, clock: Clock, bus: InProcessBus, audit: Auditor, margin_pp: Decimal
    ) -> None:
        self._db = db
        self._clock = clock
        self._bus = bus
        self._audit = audit
        self.margin_pp = margin_pp

    def submit(
        self,
        *,
        offered_rate_pct: Decimal,
        maker: str,
        loan_id: str | None = None,
        contract_rate_pct: Decimal | None = None,
        customer_id: str | None = None,
        call_id: str | None = None,
    ) -> RateReview:
        """Check an offered rate against the loan's contract rate (or the one given)."""
        now = self._clock.now()
        with self._db.session() as s:
            if loan_id is not None:
                loan = s.get(LoanAccountRow, loan_id)
                if loan is None:
                    raise NotFound(f"no loan {loan_id!r}", code="loan_not_found")
                contract_rate_pct = Decimal(loan.rate_pct)
                customer_id = customer_id or loan.customer_id
            if contract_rate_pct is None:
                raise ValidationError("give loan_id or contract_rate_pct", field="loan_id")
            check = check_rate(contract_rate_pct, offered_rate_pct, self.margin_pp)
            row = RateReviewRow(
                review_id="rr-" + uuid.uuid4().hex[:16],
                customer_id=customer_id,
                loan_id=loan_id,
                call_id=call_id,
                contract_rate_pct=check.contract_pct,
                offered_rate_pct=check.offered_pct,
                threshold_pct=check.threshold_pct,
                state="pending" if check.needs_review else "auto_approved",
                maker=maker,
                note="",
                created_at=now,
            )
            s.add(row)
            view = _view(row)
        if view.state == "pending":
            self._audit.record(
                actor=maker,
                action="rate.held",
                target=view.review_id,
                outcome="held",
                detail=f"offered {view.offered_rate_pct}% > {view.threshold_pct}% "
                f"(contract {view.contract_rate_pct}%)",
            )
            self._bus.publish(
                ComplianceAlert(
                    at_s=self._clock.monotonic(),
                    kind="rate_cap",
                    detail=f"利率上调超限: 报价 {view.offered_rate_pct}% > 合同 "
                    f"{view.contract_rate_pct}% + {self.margin_pp}pp, 待复核",
                    subject_id=view.review_id,
                )
            )
        return view

    def decide(self, review_id: str, *, approve: bool, checker: str, note: str = "") -> RateReview:
        with self._db.session() as s:
            r = s.get(RateReviewRow, review_id)
            if r is None:
                raise NotFound(f"no rate review {review_id!r}", code="rate_review_not_found")
            if r.state != "pending":
                raise Conflict(f"review is {r.state}", code="rate_review_closed")
            if r.maker == checker:
                raise Forbidden("maker-checker: a second person must decide", code="same_person")
            r.state = "approved" if approve else "rejected"
            r.checker = checker
            r.note = note[:400]
            r.decided_at = self._clock.now()
            view = _view(r)
        self._audit.record(
            actor=checker,
            action="rate.approve" if approve else "rate.reject",
            target=review_id,
            detail=note,
        )
        return view

    def get(self, review_id: str) -> RateReview:
        with self._db.session() as s:
            r = s.get(RateReviewRow, review_id)
            if r is None:
                raise NotFound(f"no rate review {review_id!r}", code="rate_review_not_found")
            return _view(r)

    def disclosable_rate(self, review_id: str) -> Decimal | None:
        """The rate the customer may be told, or None while it is held or was rejected."""
        v = self.get(review_id)
        return v.offered_rate_pct if v.disclosable else None

    def pending(self, limit: int = 200) -> list[RateReview]:
        with self._db.session() as s:
            rows = s.scalars(
                select(RateReviewRow)
                .where(RateReviewRow.state == "pending")
                .order_by(RateReviewRow.created_at)
                .limit(limit)
            ).all()
            return [_view(r) for r in rows]
