"""The contact policy at the edge (``services["contact_policy"]``): reads the customer, the
do-not-call list and the ``contacts`` history, asks ``ContactPolicy`` and stores every
decision (refusals with their reason codes) in ``contact_decisions``."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select

from lendline.clock import Clock
from lendline.compliance.audit import Auditor
from lendline.compliance.contact import ContactPolicy, ContactRecord, ContactSubject, Decision
from lendline.errors import NotFound
from lendline.store.base import Database
from lendline.store.models import ContactRow, CustomerRow
from lendline.store.models_compliance import ContactDecisionRow, DoNotCallRow


class ContactPolicyService:
    def __init__(self, db: Database, clock: Clock, policy: ContactPolicy, audit: Auditor) -> None:
        self._db = db
        self._clock = clock
        self.policy = policy
        self._audit = audit

    def decide(
        self,
        customer_id: str,
        *,
        purpose: str,
        at: datetime | None = None,
        party: str = "debtor",
        discusses_debt: bool = False,
        actor: str = "system",
        store: bool = True,
    ) -> Decision:
        """Decide one outbound attempt (``at`` defaults to now) and store the decision."""
        now = at or self._clock.now()
        with self._db.session() as s:
            c = s.get(CustomerRow, customer_id)
            if c is None:
                raise NotFound(f"no customer {customer_id!r}", code="customer_not_found")
            dnc = c.do_not_call or self._on_dnc(s, customer_id, c.phone_digest)
            subject = ContactSubject(customer_id, c.timezone, c.quiet_hours_consent, dnc)
            rows = s.scalars(
                select(ContactRow).where(
                    ContactRow.customer_id == customer_id,
                    ContactRow.at > now - timedelta(days=8),
                    ContactRow.at <= now,
                )
            ).all()
            history = [
                ContactRecord(r.at, r.channel, r.direction, r.purpose, r.connected) for r in rows
            ]
            decision = self.policy.decide(
                subject,
                purpose=purpose,
                now=now,
                history=history,
                party=party,
                discusses_debt=discusses_debt,
            )
            if store:
                s.add(
                    ContactDecisionRow(
                        customer_id=customer_id,
                        at=now,
                        purpose=purpose,
                        party=party,
                        allowed=decision.allowed,
                        reasons=",".join(decision.reasons),
                        next_allowed_at=decision.next_allowed_at,
                        actor=actor[:64],
                    )
                )
        return decision

    @staticmethod
    def _on_dnc(s: object, customer_id: str, phone_digest: str) -> bool:
        from sqlalchemy.orm import Session

        assert isinstance(s, Session)
        return (
            s.scalars(
                select(DoNotCallRow.id)
                .where(DoNotCallRow.removed_at.is_(None))
                .where(
                    or_(
                        DoNotCallRow.customer_id == customer_id,
                        DoNotCallRow.phone_digest == phone_digest,
                    )
                )
                .limit(1)
            ).first()
            is not None
        )

    def add_do_not_call(
        self, customer_id: str, *, source: str, reason: str = "", actor: str = "system"
    ) -> None:
        """Put a customer on the do-not-call list (e.g. the bot heard "别再打了")."""
        with self._db.session() as s:
            c = s.get(CustomerRow, customer_id)
            if c is None:
                raise NotFound(f"no customer {customer_id!r}", code="customer_not_found")
            if not self._on_dnc(s, customer_id, c.phone_digest):
                s.add(
                    DoNotCallRow(
                        customer_id=customer_id,
                        phone_digest=c.phone_digest,
                        source=source[:40],
                        reason=reason[:200],
                        added_by=actor[:64],
                        added_at=self._clock.now(),
                    )
                )
        self._audit.record(
            actor=actor, action="dnc.add", target=customer_id, detail=f"{source}: {reason}"
        )

    def remove_do_not_call(self, customer_id: str, *, reason: str, actor: str) -> int:
        with self._db.session() as s:
            rows = s.scalars(
                select(DoNotCallRow).where(
                    DoNotCallRow.customer_id == customer_id, DoNotCallRow.removed_at.is_(None)
                )
            ).all()
            for r in rows:
                r.removed_at = self._clock.now()
        self._audit.record(actor=actor, action="dnc.remove", target=customer_id, detail=reason)
        return len(rows)

    def on_do_not_call(self, customer_id: str) -> bool:
        with self._db.session() as s:
            c = s.get(CustomerRow, customer_id)
            if c is None:
                raise NotFound(f"no customer {customer_id!r}", code="customer_not_found")
            return c.do_not_call or self._on_dnc(s, customer_id, c.phone_digest)

    def decisions(
        self, customer_id: str | None = None, limit: int = 200
    ) -> list[ContactDecisionRow]:
        q = select(ContactDecisionRow).order_by(ContactDecisionRow.id.desc()).limit(limit)
        if customer_id:
            q = q.where(ContactDecisionRow.customer_id == customer_id)
        with self._db.session() as s:
            return list(s.scalars(q).all())
