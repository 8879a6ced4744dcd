"""How each part of the screen pop is shown: masked (``compliance.masking``) and labelled
in Chinese first. Pure functions from connector records to JSON-ready dicts."""

from __future__ import annotations

from typing import Any

from lendline.compliance.masking import mask_id_number, mask_name, mask_phone, mask_text
from lendline.domain.call import DISPOSITION_CODES, Call
from lendline.domain.customer import LOAN_STATUS_ZH, LoanStatus
from lendline.integration.api import (
    RISK_FLAG_ZH,
    Contact,
    CustomerProfile,
    Loan,
    Repayment,
    RiskReport,
)

HIGH_RISK = frozenset({"fraud_suspected", "blacklist"})
PRODUCT_ZH = {
    "consumer": "消费贷",
    "car": "车贷",
    "mortgage": "房贷",
    "operating": "经营贷",
    "micro": "小额贷",
}
CHANNEL_ZH = {"call": "电话", "sms": "短信", "bot": "机器人", "app": "App"}
OUTCOME_ZH = {**DISPOSITION_CODES, "no_answer": "未接通"}


def customer_view(p: CustomerProfile) -> dict[str, Any]:
    return {
        "customer_id": p.customer_id,
        "name": mask_name(p.name),
        "phone": mask_phone(p.phone) if p.phone else "",
        "id_number": mask_id_number(p.id_number) if p.id_number else "",
        "segment": p.segment,
        "vip": p.vip,
        "credit_score": p.credit_score,
        "language": p.language,
        "team": p.team,
    }


def loan_view(ln: Loan) -> dict[str, Any]:
    d = ln.model_dump(mode="json")
    d["product_zh"] = PRODUCT_ZH.get(ln.product, ln.product)
    try:
        d["status_zh"] = LOAN_STATUS_ZH[LoanStatus(ln.status)]
    except ValueError:
        d["status_zh"] = ln.status
    return d


def risk_view(r: RiskReport) -> list[dict[str, Any]]:
    return [
        {
            "flag": f.flag,
            "label_zh": RISK_FLAG_ZH.get(f.flag, f.flag),
            "detail": mask_text(f.detail),
            "since": f.since.isoformat() if f.since else None,
            "severity": "high" if f.flag in HIGH_RISK else "warn",
        }
        for f in r.flags
    ]


def contact_view(c: Contact) -> dict[str, Any]:
    d = c.model_dump(mode="json")
    d["channel_zh"] = CHANNEL_ZH.get(c.channel, c.channel)
    d["outcome_zh"] = OUTCOME_ZH.get(c.outcome, c.outcome)
    d["summary"] = mask_text(c.summary)
    return d


def repayment_view(r: Repayment) -> dict[str, Any]:
    return r.model_dump(mode="json")


def bot_view(context: dict[str, Any]) -> dict[str, Any] | None:
    """The voicebot's hand-off context: transcript, intent, slots, verification."""
    if not context:
        return None
    raw = context.get("transcript") or context.get("turns") or []
    transcript: list[dict[str, str]] = []
    for t in raw if isinstance(raw, list) else []:
        if isinstance(t, dict):
            who = str(t.get("speaker") or t.get("role") or t.get("who") or "")
            text = str(t.get("text") or t.get("user_text") or t.get("reply") or "")
            transcript.append({"speaker": who, "text": mask_text(text)})
        elif isinstance(t, str):
            transcript.append({"speaker": "", "text": mask_text(t)})
    slots = context.get("slots") if isinstance(context.get("slots"), dict) else {}
    verification = context.get("verification", context.get("verified"))
    intent, confidence = context.get("intent") or "", context.get("confidence")
    history = context.get("intents")  # the dialogue engine's hand-off: [{intent, confidence}]
    if not intent and isinstance(history, list):
        named = [h for h in history if isinstance(h, dict) and h.get("intent")]
        if named:
            intent, confidence = str(named[-1]["intent"]), named[-1].get("confidence")
    if not (transcript or intent or slots or verification is not None):
        return None
    return {
        "intent": intent,
        "intent_label": context.get("intent_label") or "",
        "confidence": confidence,
        "handoff_reason": context.get("reason") or "",
        "ticket_no": context.get("ticket_no"),
        "slots": {str(k): mask_text(str(v)) for k, v in (slots or {}).items()},
        "verification": verification,
        "transcript": transcript,
    }


def call_view(call: Call) -> dict[str, Any]:
    return {
        "call_id": call.call_id,
        "queue": call.queue,
        "caller": mask_phone(call.caller) if call.caller else "",
        "reason": call.reason,
        "priority": call.priority,
        "rule": call.rule,
        "routing_reason": call.routing_reason,
        "channel": call.context.get("channel", "") if call.context else "",
        "transfer_note": mask_text(str(call.context.get("transfer_note", ""))),
        "transferred_by": call.context.get("transferred_by"),
    }
