from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lendline.dialogue.nlu.slots.numerals import (
    parse_cn_integer,
    parse_number,
    spoken_digits_to_arabic,
)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("二十万", 200_000),
        ("两万五", 25_000),
        ("一万二千", 12_000),
        ("三千五", 3_500),
        ("十五", 15),
        ("一百零五", 105),
        ("两千零五", 2_005),
        ("一百二十万", 1_200_000),
        ("一亿两千万", 120_000_000),
        ("一万零五百", 10_500),
        ("二零二六", 2026),
        ("十", 10),
    ],
)
def test_chinese_integers(text: str, value: int) -> None:
    assert parse_cn_integer(text) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [("三点五", Decimal("3.5")), ("1,200.5", Decimal("1200.5")), ("5", Decimal(5))],
)
def test_numbers_with_decimals(text: str, value: Decimal) -> None:
    assert parse_number(text) == value


@pytest.mark.parametrize("text", ["", "abc", "万万", "点", "三点", "五四十"])
def test_not_numbers(text: str) -> None:
    assert parse_number(text) is None


def test_spoken_digits_become_arabic() -> None:
    assert spoken_digits_to_arabic("号码幺三八一二三四五六七八") == "号码13812345678"
    assert spoken_digits_to_arabic("二十万") == "二十万"  # units: a quantity, not a digit run


@given(st.integers(min_value=0, max_value=10**12))
def test_arabic_round_trip(n: int) -> None:
    assert parse_number(str(n)) == n
    assert parse_number(f"{n:,}") == n
