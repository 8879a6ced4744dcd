"""Prompt rendering, the engine's own phrases, masking of what leaves the engine.

Kept apart from the engine so the rules of *what* is said stay next to each other.
"""

from __future__ import annotations

import re
import string
from decimal import Decimal
from typing import Any

from lendline.compliance.masking import mask_id_number, mask_phone, mask_text
from lendline.dialogue.catalog import yuan
from lendline.dialogue.flow import Text
from lendline.dialogue.model import ConversationContext, Handoff

PHRASES: dict[str, Text] = {
    "miss": Text("抱歉，我没有听明白。", "Sorry, I did not catch that."),
    "silence": Text("您好，请问您还在吗？", "Hello, are you still there?"),
    "silence_end": Text(
        "很抱歉一直没有听到您的声音，我们稍后再与您联系，再见。",
        "I still cannot hear you; we will contact you later. Goodbye.",
    ),
    "handoff": Text(
        "好的，正在为您转接人工客服，请稍候。", "Sure, I am putting you through to an agent."
    ),
    "handoff_low": Text(
        "抱歉，我可能没有理解您的意思，正在为您转接人工客服，请稍候。",
        "Sorry, I may not have understood; I am putting you through to an agent.",
    ),
    "corrected": Text("好的，已为您更正。", "All right, corrected."),
    "bye": Text("感谢您的来电，再见。", "Thank you for calling. Goodbye."),
    "bad_id_number": Text(
        "您提供的身份证号码有误，请核对后重新输入。",
        "That ID number is not valid; please check it and try again.",
    ),
    "bad_phone": Text("您提供的手机号码有误。", "That phone number is not valid."),
    "bad_date": Text("抱歉，没有听清日期。", "Sorry, I did not get the date."),
    "bad_amount": Text("抱歉，没有听清金额。", "Sorry, I did not get the amount."),
}
LOAN_TYPE = {
    "personal": Text("个人贷款", "personal loan"),
    "business": Text("企业贷款", "business loan"),
}
SENSITIVE_SLOTS = frozenset({"id_number", "dob_or_last4", "phone"})
_DIGITS = re.compile(r"\d")


class _Vars(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


def render(t: Text, zh: bool, values: dict[str, Any]) -> str:
    """Fill ``{name}`` placeholders; ``{x_zh}``/``{x_en}`` pick a language; missing → ''."""
    s = t.pick(zh)
    names = {f for _, f, _, _ in string.Formatter().parse(s) if f}
    if not names:
        return s
    return s.format_map(_Vars(values))


def prompt_values(slots: dict[str, Any], vars_: dict[str, Any], zh: bool) -> dict[str, Any]:
    """Slots and action results as the prompts see them (amounts in yuan, loan type named)."""
    v: dict[str, Any] = dict(vars_)
    for k, val in slots.items():
        if k not in SENSITIVE_SLOTS:
            v.setdefault(k, val)
    lt = slots.get("loan_type")
    if lt in LOAN_TYPE:
        v["loan_type_name"] = LOAN_TYPE[lt].pick(zh)
    if slots.get("amount") is not None:
        from lendline.dialogue.catalog import to_fen

        v["amount_yuan"] = yuan(to_fen(slots["amount"]))
    if zh:  # 500000 → 50万, 335000 → 33.5万: how amounts are said in Chinese
        for k, val in list(v.items()):
            if k.endswith("_yuan"):
                v[k] = wan(str(val))
    lang = "zh" if zh else "en"
    for k in list(v):
        if k.endswith(f"_{lang}"):
            v[k[: -len(lang) - 1]] = v[k]
    return v


def wan(amount_yuan: str) -> str:
    """Whole amounts of 10,000 yuan or more in 万 (``"335000"`` → ``"33.5万"``)."""
    try:
        d = Decimal(amount_yuan)
    except ArithmeticError:
        return amount_yuan
    if d < 10000 or d % 100 != 0:
        return amount_yuan
    w = d / 10000
    return f"{w.normalize():f}万"


def mask_slot(key: str, value: Any) -> Any:
    if key == "id_number":
        return mask_id_number(str(value))
    if key == "phone":
        return mask_phone(str(value))
    if key == "dob_or_last4":
        return "****"
    if isinstance(value, str):
        return mask_text(value)
    return value


def masked_slots(slots: dict[str, Any]) -> dict[str, Any]:
    return {k: mask_slot(k, v) for k, v in slots.items()}


def mask_user_text(text: str, sensitive: bool) -> str:
    """Mask a caller's words for the transcript; in identity states hide every digit."""
    return _DIGITS.sub("*", text) if sensitive else mask_text(text)


class TurnOutput:
    """What one call to ``start``/``handle`` says and does."""

    def __init__(self) -> None:
        self.zh: list[str] = []
        self.en: list[str] = []
        self.actions: list[str] = []
        self.handoff: Handoff | None = None

    def say(self, t: Text, ctx: ConversationContext) -> None:
        self.zh.append(render(t, True, prompt_values(ctx.slots, ctx.vars, True)))
        self.en.append(render(t, False, prompt_values(ctx.slots, ctx.vars, False)))


def handoff_context(
    ctx: ConversationContext, queue: str, reason: str, where: str
) -> dict[str, Any]:
    """What the agent desktop shows when the bot hands over (masked)."""
    return {
        "conversation_id": ctx.conversation_id,
        "channel": ctx.channel,
        "reason": reason,
        "queue": queue,
        "customer_id": ctx.customer_id,
        "verified": ctx.verified,
        "verify_failures": ctx.verify_failures,
        "state": where,
        "intents": ctx.intents[-20:],
        "slots": masked_slots(ctx.slots),
        "completed": list(ctx.completed),
        "transcript": ctx.transcript[-40:],
        "ticket_no": ctx.vars.get("ticket_no"),
    }
