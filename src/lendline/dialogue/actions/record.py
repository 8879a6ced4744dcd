"""Actions that record an outcome: promises to pay, tickets, do-not-call, SMS links."""

from __future__ import annotations

from datetime import date
from typing import Any

from lendline.compliance.masking import mask_phone
from lendline.dialogue import catalog as cat
from lendline.dialogue.actions.base import PROMISE_HORIZON_DAYS, ActionResult, today_of
from lendline.dialogue.backend import DialogueBackend
from lendline.dialogue.model import ConversationContext


def record_promise(
    ctx: ConversationContext, args: dict[str, Any], b: DialogueBackend
) -> ActionResult:
    if not ctx.customer_id or not ctx.slots.get("date"):
        return ActionResult("none")
    when = date.fromisoformat(str(ctx.slots["date"]))
    today = today_of(ctx)
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
    c = b.customer(ctx.customer_id) if ctx.customer_id else None  # only texted, never read out
    phone = c.phone_e164 if c is not None else (ctx.caller_phone or ctx.slots.get("phone"))
    if not phone:
        return ActionResult("no_phone")
    mid = b.send_upload_link(
        conversation_id=ctx.conversation_id, customer_id=ctx.customer_id, phone=str(phone)
    )
    return ActionResult("ok", {"phone_masked": mask_phone(str(phone)), "message_id": mid})
