from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lendline.dialogue.nlu import SLOT_KEYS, extract_slots
from lendline.domain.identity import id_check_char

TODAY = date(2026, 11, 27)
VALID_ID = "11010519491231002X"


def test_everything_in_one_utterance() -> None:
    r = extract_slots("我想贷款二十万分36期，经营贷，下周五前放款，电话13812345678", today=TODAY)
    assert r.values == {
        "amount": 200_000,
        "term_months": 36,
        "loan_type": "business",
        "product": "operating",
        "date": "2026-12-04",
        "phone": "+8613812345678",
    }
    assert r.errors == {}


def test_valid_id_is_upper_cased() -> None:
    r = extract_slots(f"身份证号{VALID_ID.lower()}", today=TODAY)
    assert r.values == {"id_number": VALID_ID}


def test_id_read_with_pauses() -> None:
    r = extract_slots("身份证 110105 19491231 002x", today=TODAY)
    assert r.values["id_number"] == VALID_ID


def test_wrong_checksum_is_an_error_never_a_value() -> None:
    first17 = VALID_ID[:17]
    wrong = next(c for c in "0123456789X" if c != id_check_char(first17))
    r = extract_slots(f"我的身份证是{first17}{wrong}", today=TODAY)
    assert "id_number" not in r.values
    assert r.errors["id_number"] == "checksum"
    assert "amount" not in r.values  # its digits are not money either


def test_impossible_birth_date_is_refused() -> None:
    first17 = "11010519491331002"  # month 13
    r = extract_slots(f"身份证{first17}{id_check_char(first17)}", today=TODAY)
    assert r.errors["id_number"] == "checksum"


def test_id_of_wrong_length() -> None:
    r = extract_slots("我的身份证号是11010519900307", today=TODAY)
    assert r.errors == {"id_number": "length"}


@pytest.mark.parametrize(
    ("text", "e164"),
    [
        ("我的手机号是13812345678", "+8613812345678"),
        ("手机 138 1234 5678", "+8613812345678"),
        ("电话是幺三八一二三四五六七八", "+8613812345678"),
        ("+86 138-1234-5678", "+8613812345678"),
        ("call me on +44 20 7946 0958", "+442079460958"),
    ],
)
def test_phones(text: str, e164: str) -> None:
    assert extract_slots(text, today=TODAY).values["phone"] == e164


@pytest.mark.parametrize(
    ("text", "reason"),
    [("my number is 12345678901", "invalid"), ("手机号1381234567", "length")],
)
def test_bad_phones(text: str, reason: str) -> None:
    r = extract_slots(text, today=TODAY)
    assert "phone" not in r.values
    assert r.errors["phone"] == reason


def test_full_width_digits() -> None:
    r = extract_slots("借５０００元", today=TODAY)
    assert r.values["amount"] == 5000


def test_date_and_term_digits_are_not_money() -> None:
    r = extract_slots("15号还，分12期", today=TODAY)
    assert "amount" not in r.values
    assert r.values["term_months"] == 12


def test_nothing_to_extract() -> None:
    r = extract_slots("别再打了", today=TODAY)
    assert r.values == {}
    assert r.errors == {}


@given(st.text(max_size=60))
def test_never_raises_and_keys_are_known(text: str) -> None:
    r = extract_slots(text, today=TODAY)
    assert set(r.values) <= set(SLOT_KEYS)
    assert not set(r.values) & set(r.errors)
