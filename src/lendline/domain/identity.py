"""Identity value objects: Chinese resident ID numbers (GB 11643-1999) and phone numbers."""

from __future__ import annotations

from datetime import date

from lendline.errors import ValidationError

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def id_check_char(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("need exactly 17 digits")
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def is_valid_id_number(value: str) -> bool:
    s = value.strip().upper()
    if len(s) != 18 or not s[:17].isdigit() or not (s[17].isdigit() or s[17] == "X"):
        return False
    if id_check_char(s[:17]) != s[17]:
        return False
    try:
        date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        return False
    return True


def normalize_id_number(value: str, *, field: str = "id_number") -> str:
    """Upper-case, validated 18-character ID number, or ``ValidationError``."""
    s = value.strip().replace(" ", "").upper()
    if len(s) != 18 or not s[:17].isdigit() or not (s[17].isdigit() or s[17] == "X"):
        raise ValidationError(
            "must be 18 characters: 17 digits and a digit or X",
            field=field,
            code="invalid_id_number",
        )
    if not is_valid_id_number(s):
        raise ValidationError(
            "checksum or birth date is wrong (号码有误)", field=field, code="invalid_id_number"
        )
    return s


def id_birth_date(id_number: str) -> date:
    s = id_number.strip()
    return date(int(s[6:10]), int(s[10:12]), int(s[12:14]))


def normalize_phone(value: str, *, region: str = "CN", field: str = "phone") -> str:
    """E.164 form of a phone number (``+8613812345678``), or ``ValidationError``."""
    import phonenumbers

    raw = value.strip()
    try:
        num = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(
            f"not a phone number: {exc}", field=field, code="invalid_phone"
        ) from None
    if not phonenumbers.is_valid_number(num):
        raise ValidationError("not a valid phone number", field=field, code="invalid_phone")
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
