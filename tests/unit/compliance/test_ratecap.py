from __future__ import annotations

from decimal import Decimal

import pytest

from lendline.compliance.ratecap import check_rate, parse_rate
from lendline.errors import ValidationError


def test_threshold_is_contract_plus_margin_in_decimal() -> None:
    c = check_rate(Decimal("12.10"), Decimal("14.10"))
    assert c.threshold_pct == Decimal("14.10") and not c.needs_review  # exactly at: allowed
    assert check_rate(Decimal("12.10"), Decimal("14.11")).needs_review
    assert check_rate(Decimal("0.1"), Decimal("2.3")).needs_review  # 0.1 + 2 = 2.1 exactly
    assert not check_rate(Decimal("5"), Decimal("7.5"), Decimal("2.5")).needs_review


def test_floats_are_refused() -> None:
    with pytest.raises(TypeError):
        check_rate(Decimal("1"), 3.0)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        parse_rate(14.5, field="offered_rate_pct")


@pytest.mark.parametrize("bad", ["abc", "-1", "101", "NaN", "Infinity", ""])
def test_bad_rates_name_the_field(bad: str) -> None:
    with pytest.raises(ValidationError) as e:
        parse_rate(bad, field="offered_rate_pct")
    assert e.value.field == "offered_rate_pct"


def test_rate_strings_parse() -> None:
    assert parse_rate(" 14.5% ", field="x") == Decimal("14.5")
    assert parse_rate(12, field="x") == Decimal(12)
