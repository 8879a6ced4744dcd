from datetime import date

import pytest

from lendline.dialogue.nlu.slots.dates import find_date

FRIDAY = date(2026, 11, 27)  # a Friday


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("下周五还", "2026-12-04"),
        ("月底前", "2026-11-30"),
        ("15号", "2026-12-15"),  # already past this month: next month
        ("28号", "2026-11-28"),
        ("十五号", "2026-12-15"),
        ("我下个月5号还", "2026-12-05"),
        ("明天", "2026-11-28"),
        ("后天", "2026-11-29"),
        ("大后天", "2026-11-30"),
        ("三天后", "2026-11-30"),
        ("周五", "2026-11-27"),
        ("星期一", "2026-11-30"),
        ("这周三", "2026-11-25"),
        ("下下周一", "2026-12-07"),
        ("2026-12-01", "2026-12-01"),
        ("2027年1月3日", "2027-01-03"),
        ("12月1号", "2026-12-01"),
        ("3月1号", "2027-03-01"),  # past month: next year
        ("下个月底", "2026-12-31"),
        ("下月初", "2026-12-01"),
        ("31号", "2026-12-31"),  # November has no 31st
        ("end of the month", "2026-11-30"),
        ("by next friday", "2026-12-04"),
        ("tomorrow", "2026-11-28"),
        ("on the 15th", "2026-12-15"),
        ("march 3", "2027-03-03"),
        ("in 5 days", "2026-12-02"),
    ],
)
def test_dates(text: str, iso: str) -> None:
    found = find_date(text, FRIDAY)
    assert found is not None
    assert found[0].isoformat() == iso


@pytest.mark.parametrize("text", ["2月30号", "40号", "到底什么时候", "我不知道", "13月1号"])
def test_not_dates(text: str) -> None:
    assert find_date(text, FRIDAY) is None


def test_month_end_in_february_of_a_leap_year() -> None:
    found = find_date("月底", date(2028, 2, 10))
    assert found is not None
    assert found[0] == date(2028, 2, 29)
