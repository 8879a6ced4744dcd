from __future__ import annotations

from datetime import date
from decimal import Decimal

from lendline.dialogue import catalog as cat
from lendline.dialogue.talktime import caller_seconds, summary, talk_time


def test_matching_products_by_type_and_amount() -> None:
    assert [p.code for p in cat.matching_products("personal", 50_000_00)] == ["consumer", "car"]
    assert [p.code for p in cat.matching_products("business", 500_000_00)] == ["operating"]
    assert cat.matching_products("personal", 50_000_000_00) == []


def test_early_repayment_quote_in_fen() -> None:
    q = cat.early_repayment_quote(
        outstanding_fen=100_000_00,
        rate_pct=Decimal("7.3"),
        next_due=date(2026, 1, 15),
        opened=date(2025, 6, 1),
        today=date(2026, 1, 5),
    )
    # 20 days since the last due date at 7.3 % a year on 100,000 yuan = 400 yuan
    assert q.interest_fen == 400_00 and q.fee_fen == 2_000_00
    assert q.total_fen == 102_400_00
    old = cat.early_repayment_quote(
        outstanding_fen=100_000_00,
        rate_pct=Decimal("7.3"),
        next_due=None,
        opened=date(2024, 1, 1),
        today=date(2026, 1, 5),
    )
    assert old.fee_fen == 0 and old.interest_fen == 0


def test_yuan_and_fen() -> None:
    assert cat.yuan(500000_00) == "500000" and cat.yuan(4375_50) == "4375.50"
    assert cat.to_fen("2000") == 2000_00 and cat.to_fen(Decimal("0.015")) == 2


def test_talk_time_counts_bot_and_caller() -> None:
    assert caller_seconds("") == 6.0  # silence costs the no-input timeout
    assert caller_seconds("[1]") == 1.5
    assert caller_seconds("我想贷款") == 2.0  # 1 s reaction + 4 characters at 4/s
    tt = talk_time(["你好", "好的"], ["我想贷款", ""], lambda t, lang: len(t) * 0.5)
    assert tt.turns == 2 and tt.bot_s == 2.0 and tt.caller_s == 8.0
    s = summary([tt, tt])
    assert s["median_talk_s"] == 10.0 and s["vs_seed_ai"] == round(10.0 / 120, 2)
