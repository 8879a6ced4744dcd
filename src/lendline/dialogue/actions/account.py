"""Actions that read the verified caller's accounts (and identity verification)."""

from __future__ import annotations

from datetime import date
from typing import Any

from lendline.dialogue import catalog as cat
from lendline.dialogue.actions.base import (
    MAX_VERIFY_FAILURES,
    ActionResult,
    today_of,
    verified_customer,
)
from lendline.dialogue.backend import CustomerFacts, DialogueBackend, LoanFacts
from lendline.dialogue.model import ConversationContext
from lendline.domain.customer import LOAN_STATUS_ZH, LoanStatus


def verify_identity(
    ctx: ConversationContext, args: dict[str, Any], b: DialogueBackend
) -> ActionResult:
    """ID number + (date of birth or last four phone digits); locked after 3 failures."""
    idn = ctx.slots.get("id_number")
    second = ctx.slots.get("dob_or_last4")
    if not idn or not second:
        return ActionResult("missing")
    if b.verify_failures(idn).locked:
        return ActionResult("locked")
    c = b.customer_by_id_number(idn)
    ok = c is not None and (
        (
            second.startswith("dob:")
            and c.birth_date is not None
            and c.birth_date.isoformat() == second[4:]
        )
        or (second.startswith("last4:") and c.phone_e164.endswith(second[6:]))
    )
    if not ok or c is None or (ctx.customer_id and c.customer_id != ctx.customer_id):
        o = b.record_verify_failure(idn)
        ctx.verify_failures = o.failures
        ctx.slots.pop("dob_or_last4", None)
        ctx.slots.pop("id_number", None)
        left = max(0, MAX_VERIFY_FAILURES - o.failures)
        return ActionResult("locked" if o.locked else "mismatch", {"attempts_left": left})
    b.clear_verify_failures(idn)
    ctx.verified, ctx.customer_id, ctx.verify_failures = True, c.customer_id, 0
    return ActionResult("ok", {"name_masked": c.name[:1] + "*" * (len(c.name) - 1)})


def _loan_vars(ln: LoanFacts) -> dict[str, Any]:
    return {
        "loan_id": ln.loan_id,
        "product_zh": cat.PRODUCT_ZH.get(ln.product, ln.product),
        "product_en": cat.PRODUCT_EN.get(ln.product, ln.product),
        "status_zh": LOAN_STATUS_ZH.get(LoanStatus(ln.status), ln.status),
        "status_en": ln.status,
        "principal_yuan": cat.yuan(ln.principal_fen),
        "outstanding_yuan": cat.yuan(ln.outstanding_fen),
        "due_date": ln.next_due_date.isoformat() if ln.next_due_date else "",
        "due_yuan": cat.yuan(ln.next_due_fen),
        "overdue_days": ln.overdue_days,
        "rate_pct": f"{ln.rate_pct:.2f}",
    }


def credit_precheck(
    ctx: ConversationContext, args: dict[str, Any], b: DialogueBackend
) -> ActionResult:
    c = verified_customer(ctx, b)
    if c is None:
        return ActionResult("none")
    if {"blacklist", "fraud_suspected"} & set(c.risk_flags):
        return ActionResult("review")
    ltype = ctx.slots.get("loan_type", "personal")
    owed = sum(ln.outstanding_fen for ln in c.loans)
    limit = cat.precheck_limit_fen(c.credit_score, ltype, owed)
    want = cat.to_fen(ctx.slots["amount"]) if ctx.slots.get("amount") else None
    v = {"limit_yuan": cat.yuan(limit), "amount_yuan": cat.yuan(want or 0)}
    if limit <= 0:
        return ActionResult("unlikely", v)
    if want is not None and want > limit:
        return ActionResult("partial", v)
    return ActionResult("likely", v)


def match_products(
    ctx: ConversationContext, args: dict[str, Any], b: DialogueBackend
) -> ActionResult:
    ltype = ctx.slots.get("loan_type", "personal")
    amt = cat.to_fen(ctx.slots["amount"]) if ctx.slots.get("amount") else None
    ps = cat.matching_products(ltype, amt)
    if not ps:
        return ActionResult("none", {"amount_yuan": cat.yuan(amt or 0)})
    zh = "；".join(f"{p.name_zh}，年利率{p.rate_from}%至{p.rate_to}%" for p in ps)
    en = "; ".join(f"{p.name_en}, {p.rate_from}% to {p.rate_to}% a year" for p in ps)
    return ActionResult("ok", {"products_zh": zh, "products_en": en, "count": len(ps)})


def application_status(
    ctx: ConversationContext, args: dict[str, Any], b: DialogueBackend
) -> ActionResult:
    c = verified_customer(ctx, b)
    apps = [
        ln
        for ln in (c.loans if c else ())
        if ln.status in ("applied", "reviewing", "approved", "rejected", "disbursed")
    ]
    if not apps:
        return ActionResult("none")
    latest = max(apps, key=lambda ln: ln.opened or date.min)
    return ActionResult("ok", _loan_vars(latest))


def _due_loan(c: CustomerFacts | None) -> LoanFacts | None:
    due = [ln for ln in (c.loans if c else ()) if ln.next_due_date and ln.outstanding_fen > 0]
    return min(due, key=lambda ln: ln.next_due_date or date.max) if due else None


def repayment_info(
    ctx: ConversationContext, args: dict[str, Any], b: DialogueBackend
) -> ActionResult:
    ln = _due_loan(verified_customer(ctx, b))
    return ActionResult("ok", _loan_vars(ln)) if ln else ActionResult("none")


def collection_summary(
    ctx: ConversationContext, args: dict[str, Any], b: DialogueBackend
) -> ActionResult:
    c = verified_customer(ctx, b)
    overdue = [ln for ln in (c.loans if c else ()) if ln.overdue_days > 0 and ln.outstanding_fen]
    ln = max(overdue, key=lambda x: x.overdue_days) if overdue else _due_loan(c)
    if ln is None:
        return ActionResult("none")
    ctx.vars["collection_loan"] = ln.loan_id
    ctx.vars["collection_due_fen"] = ln.next_due_fen
    return ActionResult("overdue" if ln.overdue_days > 0 else "due", _loan_vars(ln))


def list_documents(
    ctx: ConversationContext, args: dict[str, Any], b: DialogueBackend
) -> ActionResult:
    docs = cat.DOCUMENTS[ctx.slots.get("loan_type", "personal")]
    return ActionResult(
        "ok",
        {
            "documents_zh": "、".join(d[0] for d in docs),
            "documents_en": ", ".join(d[1] for d in docs),
        },
    )


def early_repayment_quote(
    ctx: ConversationContext, args: dict[str, Any], b: DialogueBackend
) -> ActionResult:
    c = verified_customer(ctx, b)
    live = [ln for ln in (c.loans if c else ()) if ln.outstanding_fen > 0]
    if not live:
        return ActionResult("none")
    ln = max(live, key=lambda x: x.outstanding_fen)
    q = cat.early_repayment_quote(
        outstanding_fen=ln.outstanding_fen,
        rate_pct=ln.rate_pct,
        next_due=ln.next_due_date,
        opened=ln.opened,
        today=today_of(ctx),
    )
    v = _loan_vars(ln) | {
        "interest_yuan": cat.yuan(q.interest_fen),
        "fee_yuan": cat.yuan(q.fee_fen),
        "total_yuan": cat.yuan(q.total_fen),
    }
    return ActionResult("ok", v)
