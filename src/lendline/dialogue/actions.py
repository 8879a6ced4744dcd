"""Built-in actions a flow state may name (``action: <name>``).

Each action reads the context and slots, asks the ``DialogueBackend`` port, and returns an
``ActionResult``: an ``outcome`` the flow branches on (``on: {ok: …, none: …}``), ``vars``
for the prompts, and context updates. The logic here is pure; the port does the I/O.

Actions and outcomes::

    verify_identity        ok | mismatch | locked | missing
    credit_precheck        likely | partial | unlikely | review | none
    match_products         ok | none
    application_status     ok | none
    repayment_info         ok | none
    early_repayment_quote  ok | none
    collection_summary     overdue | due | none
    list_documents         ok
    record_promise         ok | past | too_late | none
    record_unable_to_pay   ok | none
    open_ticket            ok
    stop_calling           ok | none
    send_upload_link       ok | no_phone
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from lendline.compliance.masking import mask_phone
from lendline.dialogue import catalog as cat
from lendline.dialogue.backend import CustomerFacts, DialogueBackend, LoanFacts
from lendline.dialogue.model import ConversationContext
from lendline.domain.customer import LOAN_STATUS_ZH, LoanStatus

MAX_VERIFY_FAILURES = 3
PROMISE_HORIZON_DAYS = 30


@dataclass(slots=True)
class ActionResult:
    outcome: str
    vars: dict[str, Any] = field(default_factory=dict)


Action = Callable[[ConversationContext, dict[str, Any], DialogueBackend], ActionResult]


def _today(ctx: ConversationContext) -> date:
    return date.fromisoformat(ctx.today)


def _me(ctx: ConversationContext, b: DialogueBackend) -> CustomerFacts | None:
    return b.customer(ctx.customer_id) if ctx.customer_id else None


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
    c = _me(ctx, b)
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
    c = _me(ctx, b)
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
    ln = _due_loan(_me(ctx, b))
    return ActionResult("ok", _loan_vars(ln)) if ln else ActionResult("none")


def collection_summary(
    ctx: ConversationContext, args: dict[str, Any], b: DialogueBackend
) -> ActionResult:
    c = _me(ctx, b)
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
    c = _me(ctx, b)
    live = [ln for ln in (c.loans if c else ()) if ln.outstanding_fen > 0]
    if not live:
        return ActionResult("none")
    ln = max(live, key=lambda x: x.outstanding_fen)
    q = cat.early_repayment_quote(
        outstanding_fen=ln.outstanding_fen,
        rate_pct=ln.rate_pct,
        next_due=ln.next_due_date,
        opened=ln.opened,
        today=_today(ctx),
    )
    v = _loan_vars(ln) | {
        "interest_yuan": cat.yuan(q.interest_fen),
        "fee_yuan": cat.yuan(q.fee_fen),
        "total_yuan": cat.yuan(q.total_fen),
    }
    return ActionResult("ok", v)


def record_promise(
    ctx: ConversationContext, args: dict[str, Any], b: DialogueBackend
) -> ActionResult:
    if not ctx.customer_id or not ctx.slots.get("date"):
        return ActionResult("none")
    when = date.fromisoformat(str(ctx.slots["date"]))
    today = _today(ctx)
    if when < today:
        ctx.slots.pop("date", None)
        return ActionResult("past")
    if (when - today).days > PROMISE_HORIZON_DAYS:
        ctx.slots.pop("date", None)
        return ActionResult("too_late", {"horizon_days": PROMISE_HORIZON_DAYS})
    amt = cat.to_fen(ctx.slots["amount"]) if ctx.slots.get("amount") else None
    amount_fen = amt if amt is not None else int(ctx.vars.get("collection_due_fen", 0))
    b.record_promise(
        conversation_id=ctx.conversation_id,
        customer_id=ctx.customer_id,
        loan_id=ctx.vars.get("collection_loan"),
        kind="promise",
        promised_date=when,
        amount_fen=amount_fen,
        reason="",
    )
    return ActionResult(
        "ok", {"promise_date": when.isoformat(), "promise_yuan": cat.yuan(amount_fen)}
    )


def record_unable_to_pay(
    ctx: ConversationContext, args: dict[str, Any], b: DialogueBackend
) -> ActionResult:
    if not ctx.customer_id:
        return ActionResult("none")
    b.record_promise(
        conversation_id=ctx.conversation_id,
        customer_id=ctx.customer_id,
        loan_id=ctx.vars.get("collection_loan"),
        kind="unable",
        promised_date=None,
        amount_fen=0,
        reason=str(ctx.slots.get("reason", "")),
    )
    return ActionResult("ok")


def open_ticket(ctx: ConversationContext, args: dict[str, Any], b: DialogueBackend) -> ActionResult:
    category = str(ctx.slots.get("category", args.get("category", "other")))
    no = b.open_ticket(
        conversation_id=ctx.conversation_id,
        customer_id=ctx.customer_id,
        category=category,
        details=str(ctx.slots.get("details", "")),
    )
    ctx.vars["ticket_no"] = no
    return ActionResult("ok", {"ticket_no": no, "ticket_spoken": " ".join(no)})


def stop_calling(
    ctx: ConversationContext, args: dict[str, Any], b: DialogueBackend
) -> ActionResult:
    if not ctx.customer_id:
        return ActionResult("none")
    b.stop_calling(conversation_id=ctx.conversation_id, customer_id=ctx.customer_id)
    return ActionResult("ok")


def send_upload_link(
    ctx: ConversationContext, args: dict[str, Any], b: DialogueBackend
) -> ActionResult:
    c = _me(ctx, b)
    phone = c.phone_e164 if c is not None else (ctx.caller_phone or ctx.slots.get("phone"))
    if not phone:
        return ActionResult("no_phone")
    mid = b.send_upload_link(
        conversation_id=ctx.conversation_id, customer_id=ctx.customer_id, phone=str(phone)
    )
    return ActionResult("ok", {"phone_masked": mask_phone(str(phone)), "message_id": mid})


BUILTIN_ACTIONS: dict[str, Action] = {
    f.__name__: f
    for f in (
        verify_identity,
        credit_precheck,
        match_products,
        application_status,
        repayment_info,
        collection_summary,
        list_documents,
        early_repayment_quote,
        record_promise,
        record_unable_to_pay,
        open_ticket,
        stop_calling,
        send_upload_link,
    )
}
