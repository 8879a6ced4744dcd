"""Small working fakes for engine tests: a keyword NLU and an in-memory backend."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from lendline.dialogue.backend import CustomerFacts, LoanFacts, Outcome
from lendline.dialogue.understanding import Understood
from lendline.domain.identity import is_valid_id_number

RULES: list[tuple[str, tuple[str, ...]]] = [
    ("human_agent", ("转人工", "人工客服", "agent")),
    ("stop_calling", ("别再打", "不要再打", "stop calling")),
    ("dispute_debt", ("不是我借", "没借过")),
    ("complaint", ("投诉",)),
    ("unable_to_pay", ("还不上", "没钱")),
    ("promise_to_pay", ("我会还", "号还")),
    ("required_documents", ("材料",)),
    ("application_status", ("进度", "审批")),
    ("early_repayment", ("提前还",)),
    ("repayment_info", ("还款日", "还多少")),
    ("apply_loan", ("贷款", "借钱")),
    ("goodbye", ("再见",)),
    ("deny", ("不用", "不需要", "不是")),
    ("affirm", ("好的", "是的", "需要", "可以", "对")),
]


class KeywordUnderstanding:
    """Intent by keyword (confidence 0.9), else out_of_scope at 0.2; a few slot regexes."""

    def understand(self, text: str, *, today: date, lang: str) -> Understood:
        intent, conf = "out_of_scope", 0.2
        for name, words in RULES:
            if any(w in text for w in words):
                intent, conf = name, 0.9
                break
        slots: dict[str, Any] = {}
        errors: dict[str, str] = {}
        m = re.search(r"(\d+)\s*万", text)
        if m:
            slots["amount"] = int(m[1]) * 10000
        if "企业" in text:
            slots["loan_type"] = "business"
        elif "个人" in text:
            slots["loan_type"] = "personal"
        idm = re.search(r"\d{17}[\dXx]", text)
        if idm:
            if is_valid_id_number(idm[0]):
                slots["id_number"] = idm[0].upper()
            else:
                errors["id_number"] = "checksum"
        if "明天" in text:
            slots["date"] = (today + timedelta(days=1)).isoformat()
        if "下个月" in text:
            slots["date"] = (today + timedelta(days=45)).isoformat()
        return Understood(intent, conf, slots, errors)


@dataclass
class MemoryBackend:
    customers: dict[str, CustomerFacts] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    tickets: list[dict[str, Any]] = field(default_factory=list)
    promises: list[dict[str, Any]] = field(default_factory=list)
    dnc: set[str] = field(default_factory=set)
    sms: list[tuple[str, str]] = field(default_factory=list)

    def customer(self, customer_id: str) -> CustomerFacts | None:
        return self.customers.get(customer_id)

    def customer_by_id_number(self, id_number: str) -> CustomerFacts | None:
        return next((c for c in self.customers.values() if c.id_number == id_number), None)

    def customer_by_phone(self, phone: str) -> str | None:
        return next((c.customer_id for c in self.customers.values() if c.phone_e164 == phone), None)

    def verify_failures(self, subject: str) -> Outcome:
        n = self.failures.get(subject, 0)
        return Outcome(n, n >= 3)

    def record_verify_failure(self, subject: str) -> Outcome:
        self.failures[subject] = self.failures.get(subject, 0) + 1
        return self.verify_failures(subject)

    def clear_verify_failures(self, subject: str) -> None:
        self.failures.pop(subject, None)

    def open_ticket(self, **kw: Any) -> str:
        self.tickets.append(kw)
        return f"T2026010500{len(self.tickets):02d}"

    def record_promise(self, **kw: Any) -> int:
        self.promises.append(kw)
        return len(self.promises)

    def stop_calling(self, *, conversation_id: str, customer_id: str) -> None:
        self.dnc.add(customer_id)

    def send_upload_link(self, *, conversation_id: str, customer_id: str | None, phone: str) -> str:
        self.sms.append((phone, conversation_id))
        return f"m{len(self.sms)}"


ID_OK = "11010519850312001X"  # checksum computed below in make_customer


def make_customer(today: date) -> CustomerFacts:
    from lendline.domain.identity import id_check_char

    first17 = "11010519850312001"
    idn = first17 + id_check_char(first17)
    loans = (
        LoanFacts(
            "L1",
            "consumer",
            "personal",
            50_000_00,
            30_000_00,
            Decimal("12.00"),
            12,
            "overdue",
            overdue_days=5,
            next_due_date=today - timedelta(days=5),
            next_due_fen=4_375_00,
            opened=today - timedelta(days=200),
        ),
        LoanFacts(
            "L2",
            "car",
            "personal",
            100_000_00,
            100_000_00,
            Decimal("6.00"),
            36,
            "reviewing",
            opened=today - timedelta(days=3),
        ),
    )
    return CustomerFacts("C1", "张三", "+8613812345678", idn, date(1985, 3, 12), 700, (), loans)
