from __future__ import annotations

from pathlib import Path

import pytest

from lendline.errors import RuleError
from lendline.routing.config import parse_config
from lendline.routing.expr import ExpressionError, compile_expression
from lendline.routing.rules import decide, time_fields

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("source", "env", "expected"),
    [
        (
            "loan_amount_yuan > 100000 and first_call",
            {"loan_amount_yuan": 100001, "first_call": True},
            True,
        ),
        (
            "loan_amount_yuan > 100000 and first_call",
            {"loan_amount_yuan": 100000, "first_call": True},
            False,
        ),
        ("not vip or segment == 'business'", {"vip": True, "segment": "retail"}, False),
        ("product in ['car', 'mortgage']", {"product": "car"}, True),
        ("product not in ('car',)", {"product": "car"}, False),
        ("'fraud_suspected' in risk_flags", {"risk_flags": ["fraud_suspected"]}, True),
        ("600 <= credit_score < 700", {"credit_score": 650}, True),
        ("600 <= credit_score < 700", {"credit_score": 700}, False),
        ("days_since_last_contact > 3", {}, False),  # missing -> null -> ordering is false
        ("days_since_last_contact == null", {}, True),
        ("loan_amount_fen / 100 >= 5", {"loan_amount_fen": 500}, True),
        ("context.intent == '投诉'", {"context": {"intent": "投诉"}}, True),
        ("time_between('22:00', '06:00')", {"minute_of_day": 23 * 60}, True),
        ("time_between('09:00', '18:00')", {"minute_of_day": 18 * 60}, False),
        ("lower(reason) == 'complaint'", {"reason": "Complaint"}, True),
        ("len(risk_flags) > 0", {"risk_flags": []}, False),
        ("reason > 3", {"reason": "x"}, False),  # mismatched types: false, not an error
        ("true", {}, True),
    ],
)
def test_expressions(source: str, env: dict[str, object], expected: bool) -> None:
    assert compile_expression(source)(env) is expected


@pytest.mark.parametrize(
    "source",
    [
        "__import__('os').system('x')",
        "open('/etc/passwd')",
        "(lambda: 1)()",
        "risk_flags[0]",
        "x if y else z",
        "[a for a in b]",
        "a ** 99999999",
        "a := 1",
        "",
        "loan >",
    ],
)
def test_unsafe_or_invalid_expressions_are_refused(source: str) -> None:
    with pytest.raises(ExpressionError):
        compile_expression(source)


def test_attribute_tricks_reach_nothing() -> None:
    e = compile_expression("().__class__.__bases__ == null")
    assert e({}) is True  # attribute access only reads mappings


def test_seed_example_as_written() -> None:
    text = (ROOT / "rules" / "default.yaml").read_text("utf-8")
    cfg = parse_config(text)
    big_first = {"loan_amount_yuan": 150_000, "first_call": True, "is_overdue": False}
    d = decide(cfg, big_first)
    assert (d.target_kind, d.target, d.rule) == ("queue", "senior_loans", "senior_first_call")
    overdue = {"loan_amount_yuan": 5_000, "is_overdue": True, "days_since_last_contact": 4.5}
    d = decide(cfg, overdue)
    assert (d.target_kind, d.target, d.rule) == ("bot", "collection", "overdue_ai_collection")
    d = decide(cfg, {"loan_amount_yuan": 5_000, "first_call": True})
    assert (d.target_kind, d.target, d.rule) == ("queue", "general", None)
    assert "默认" in d.reason


def test_builtin_copy_matches_rules_dir() -> None:
    packaged = ROOT / "src" / "lendline" / "routing" / "default_rules.yaml"
    assert packaged.read_text("utf-8") == (ROOT / "rules" / "default.yaml").read_text("utf-8")


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("rules: [\n  - name: a\n", 2, "YAML"),
        (
            "queues: {general: {}}\nrules:\n  - name: a\n    when: x >\n    target: queue:general\n",
            4,
            "syntax",
        ),
        (
            "queues: {general: {}}\nrules:\n  - name: a\n    when: foo == 1\n    target: queue:general\n",
            4,
            "unknown field",
        ),
        (
            "queues: {general: {}}\nrules:\n  - name: a\n    when: true\n    target: queue:nowhere\n",
            5,
            "not defined",
        ),
        (
            "queues: {general: {}}\nrules:\n  - name: a\n    when: true\n    target: nowhere\n",
            5,
            "target",
        ),
        (
            "queues: {general: {}}\nrules:\n  - name: a\n    when: true\n    target: queue:general\n    priority: 12\n",
            6,
            "priority",
        ),
        ("queues:\n  general:\n    min_proficiency: 11\nrules: []\n", 3, "min_proficiency"),
        ("queues:\n  general:\n    overflow_to: elsewhere\nrules: []\n", 3, "unknown queue"),
        (
            "queues: {general: {}}\nrules:\n  - name: a\n    when: true\n    target: queue:general\n  - name: a\n    when: true\n    target: queue:general\n",
            6,
            "duplicate",
        ),
        ("queues: {general: {}}\nrulez: []\n", 2, "unknown top-level"),
    ],
)
def test_invalid_files_name_line_and_reason(text: str, line: int, words: str) -> None:
    with pytest.raises(RuleError) as e:
        parse_config(text)
    assert e.value.line == line, str(e.value)
    assert words in str(e.value)


def test_time_fields_use_local_time() -> None:
    from datetime import UTC, datetime

    f = time_fields(datetime(2026, 1, 5, 1, 30, tzinfo=UTC))  # 09:30 in Shanghai, a Monday
    assert f == {"hour": 9, "minute_of_day": 570, "weekday": 0}
