"""Chinese and Arabic numerals as callers say them, into ``Decimal``.

Handles the forms that show up in ASR transcripts of Mandarin speech: ``二十万``,
``两万五`` (= 25 000, the trailing digit counts in the next lower unit), ``一万二千``,
``三点五万``, ``幺三八`` (the telephone 1), ``5w``, ``3.5万``, ``1,200``.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

CN_DIGITS: dict[str, int] = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "幺": 1,
    "壹": 1,
    "二": 2,
    "两": 2,
    "贰": 2,
    "三": 3,
    "叁": 3,
    "四": 4,
    "肆": 4,
    "五": 5,
    "伍": 5,
    "六": 6,
    "陆": 6,
    "七": 7,
    "柒": 7,
    "八": 8,
    "捌": 8,
    "九": 9,
    "玖": 9,
}
CN_SMALL_UNITS: dict[str, int] = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
CN_BIG_UNITS: dict[str, int] = {"万": 10_000, "萬": 10_000, "亿": 100_000_000}

CN_NUMERAL_CHARS = "".join([*CN_DIGITS, *CN_SMALL_UNITS, *CN_BIG_UNITS, "点"])
CN_NUMBER_RE = re.compile(f"[{CN_NUMERAL_CHARS}]+")
ARABIC_RE = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")
_DIGIT_RUN_RE = re.compile("[零〇一幺二两三四五六七八九]{7,}")


def _parse_section(text: str) -> int | None:
    """A number below 10 000 (``三千五百二十``, ``两千五`` = 2500, ``十五`` = 15)."""
    total = 0
    digit: int | None = None
    last_unit = 1
    saw_zero = False
    for ch in text:
        if ch in CN_DIGITS:
            if digit is not None and CN_DIGITS[ch] != 0 and digit != 0:
                return None  # two digits in a row inside a section: not a quantity
            digit = CN_DIGITS[ch]
            saw_zero = saw_zero or digit == 0
        elif ch in CN_SMALL_UNITS:
            unit = CN_SMALL_UNITS[ch]
            total += (1 if digit is None else digit) * unit
            digit = None
            last_unit = unit
            saw_zero = False
        else:
            return None
    if digit is not None:
        # "两千五" means 2500: a bare trailing digit is in the unit below the last one
        total += digit * (last_unit // 10 if last_unit >= 100 and not saw_zero else 1)
    return total


def parse_cn_integer(text: str) -> int | None:
    """Integer value of a Chinese numeral string, or None when it is not one."""
    if not text:
        return None
    if all(ch in CN_DIGITS for ch in text) and len(text) > 1:
        return int("".join(str(CN_DIGITS[ch]) for ch in text))  # digit-by-digit, 二零二六
    total = 0
    rest = text
    for big_char, big in sorted(CN_BIG_UNITS.items(), key=lambda kv: -kv[1]):
        if big_char in rest:
            head, _, rest = rest.partition(big_char)
            head_value = _parse_section(head) if head else 1
            if head_value is None:
                return None
            total += head_value * big
            if rest and rest[0] in CN_DIGITS and len(rest) == 1 and rest[0] != "零":
                # "两万五" = 25 000: the tail digit counts in thousands
                return total + CN_DIGITS[rest[0]] * big // 10
    if rest:
        section = _parse_section(rest.lstrip("零"))
        if section is None:
            return None
        total += section
    return total


def parse_number(text: str) -> Decimal | None:
    """Value of an Arabic (``1,200.5``) or Chinese (``三点五``, ``二十万``) numeral string."""
    s = text.strip().replace(",", "")
    if not s:
        return None
    if ARABIC_RE.fullmatch(s):
        try:
            return Decimal(s)
        except InvalidOperation:
            return None
    if "点" in s:
        whole, _, frac = s.partition("点")
        whole_value = parse_cn_integer(whole) if whole else 0
        if whole_value is None or not frac or any(ch not in CN_DIGITS for ch in frac):
            return None
        return Decimal(f"{whole_value}.{''.join(str(CN_DIGITS[c]) for c in frac)}")
    value = parse_cn_integer(s)
    return None if value is None else Decimal(value)


def spoken_digits_to_arabic(text: str) -> str:
    """Rewrite runs of 7+ spoken digits (``幺三八…``) as Arabic digits, for IDs and phones."""
    return _DIGIT_RUN_RE.sub(lambda m: "".join(str(CN_DIGITS[c]) for c in m.group()), text)
