"""Shared by the desktop integration and browser tests: pick a demo customer who routes to
the ``general`` queue (not overdue, not a large first call) and carries risk flags."""

from __future__ import annotations

from sqlalchemy import select

from lendline.app import Container
from lendline.store.models import CustomerRow


def general_queue_customer(container: Container, *, with_flags: bool = True) -> CustomerRow:
    with container.db.session() as s:
        rows = s.scalars(select(CustomerRow).order_by(CustomerRow.customer_id)).all()
        for r in rows:
            big_first = r.loan_amount_fen > 100_000_00 and r.first_call
            flags_ok = bool(r.risk_flags) == with_flags
            if r.overdue_days == 0 and not big_first and flags_ok and r.loans:
                return r
    raise AssertionError("no suitable demo customer")


def bot_routed_customer(container: Container) -> CustomerRow:
    """An overdue customer not contacted for over 3 days: routing sends the call to the bot."""
    from datetime import UTC, datetime, timedelta

    old = datetime.now(UTC) - timedelta(days=4)
    with container.db.session() as s:
        for r in s.scalars(select(CustomerRow).order_by(CustomerRow.customer_id)):
            big_first = r.loan_amount_fen > 100_000_00 and r.first_call
            if (
                r.overdue_days > 0
                and not big_first
                and r.last_contact_at
                and r.last_contact_at < old
            ):
                return r
    raise AssertionError("no bot-routed demo customer")
