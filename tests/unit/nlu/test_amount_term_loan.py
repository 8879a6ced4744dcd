from decimal import Decimal

import pytest

from lendline.dialogue.nlu.slots.amount import find_amount
from lendline.dialogue.nlu.slots.loan_type import find_loan_type
from lendline.dialogue.nlu.slots.term import find_term


@pytest.mark.parametrize(
    ("text", "yuan"),
    [
        ("我想贷款二十万", 200_000),
        ("5w就行", 50_000),
        ("借3.5万元", 35_000),
        ("五千块", 5_000),
        ("两万五", 25_000),
        ("我要借5000", 5_000),
        ("i need 20,000 yuan", 20_000),
        ("borrow 50k", 50_000),
        ("¥1,200", 1_200),
        ("还三千块钱", 3_000),
        ("一百万", 1_000_000),
    ],
)
def test_amounts(text: str, yuan: int) -> None:
    found = find_amount(text)
    assert found is not None
    assert found[0] == yuan
    assert isinstance(found[0], int)


def test_fractional_yuan_stays_decimal() -> None:
    found = find_amount("还1234.56元")
    assert found is not None
    assert found[0] == Decimal("1234.56")


@pytest.mark.parametrize(
    "text",
    ["我有3个孩子", "等一下", "我50岁了", "房间号是12", "还有两期", "零元"],
)
def test_not_amounts(text: str) -> None:
    assert find_amount(text) is None


@pytest.mark.parametrize(
    ("text", "months"),
    [
        ("分36期", 36),
        ("12个月", 12),
        ("3年", 36),
        ("一年半", 18),
        ("半年", 6),
        ("两年", 24),
        ("for 2 years", 24),
        ("36 months", 36),
        ("二十四期", 24),
    ],
)
def test_terms(text: str, months: int) -> None:
    found = find_term(text)
    assert found is not None
    assert found[0] == months


@pytest.mark.parametrize("text", ["2026年", "0个月", "100年", "这个月手头紧", "今年"])
def test_not_terms(text: str) -> None:
    assert find_term(text) is None


@pytest.mark.parametrize(
    ("text", "loan_type", "product"),
    [
        ("我想办个房贷", "personal", "mortgage"),
        ("车贷十万", "personal", "car"),
        ("我们公司想申请经营贷", "business", "operating"),
        ("企业贷款", "business", None),
        ("个人贷款", "personal", None),
        ("消费贷", "personal", "consumer"),
        ("a business loan", "business", None),
        ("mortgage", "personal", "mortgage"),
    ],
)
def test_loan_types(text: str, loan_type: str, product: str | None) -> None:
    assert find_loan_type(text) == (loan_type, product)


def test_no_loan_type() -> None:
    assert find_loan_type("我想问问利息") is None
