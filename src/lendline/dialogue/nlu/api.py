"""The NLU contract the dialogue engine relies on.

Intent codes are fixed (``INTENTS``); a classifier returns a calibrated confidence in
[0, 1]. Slot extraction returns normalised values under fixed keys and, separately, the
slots that were present but invalid (e.g. an ID number with a wrong checksum), so the flow
can re-prompt ("号码有误") instead of accepting them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

INTENTS: tuple[str, ...] = (
    "apply_loan",
    "interest_rate",
    "required_documents",
    "application_status",
    "urgent_disbursement",
    "repayment_info",
    "early_repayment",
    "repayment_plan_change",
    "promise_to_pay",
    "unable_to_pay",
    "dispute_debt",
    "complaint",
    "stop_calling",
    "human_agent",
    "credit_limit",
    "update_account",
    "affirm",
    "deny",
    "goodbye",
    "out_of_scope",
)

SLOT_KEYS: tuple[str, ...] = (
    "amount",  # yuan, a number (int or Decimal-compatible float-free value)
    "loan_type",  # "personal" | "business"
    "product",  # finer product: mortgage, car, consumer, operating, …
    "date",  # ISO 8601 date string
    "term_months",  # int
    "id_number",  # 18 characters, upper-case X, checksum valid
    "phone",  # E.164
)


@dataclass(frozen=True, slots=True)
class IntentPrediction:
    intent: str
    confidence: float
    ranking: tuple[tuple[str, float], ...] = ()  # best first


@dataclass(slots=True)
class SlotResult:
    values: dict[str, Any] = field(default_factory=dict)  # key in SLOT_KEYS -> normalised value
    errors: dict[str, str] = field(default_factory=dict)  # key -> reason code (e.g. "checksum")


class IntentClassifier(Protocol):
    name: str

    def predict(self, text: str) -> IntentPrediction: ...

    def predict_batch(self, texts: Sequence[str]) -> list[IntentPrediction]: ...
