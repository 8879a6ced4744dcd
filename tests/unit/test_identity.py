from __future__ import annotations

import pytest

from lendline.domain.identity import (
    id_check_char,
    is_valid_id_number,
    normalize_id_number,
    normalize_phone,
)
from lendline.errors import ValidationError


def test_gb11643_check_character() -> None:
    assert id_check_char("11010519491231002") == "X"
    assert is_valid_id_number("11010519491231002X")
    assert is_valid_id_number("11010519491231002x")


@pytest.mark.parametrize(
    "bad",
    ["110105194912310021", "11010519491231002", "1101051949123100211", "11010519491331002X", "abc"],
)
def test_bad_id_numbers_are_refused_with_the_field_named(bad: str) -> None:
    with pytest.raises(ValidationError) as exc:
        normalize_id_number(bad)
    assert exc.value.field == "id_number"
    assert exc.value.code == "invalid_id_number"


def test_phone_normalised_to_e164() -> None:
    assert normalize_phone("138 1234 5678") == "+8613812345678"
    assert normalize_phone("+86-138-1234-5678") == "+8613812345678"
    with pytest.raises(ValidationError):
        normalize_phone("12345")
