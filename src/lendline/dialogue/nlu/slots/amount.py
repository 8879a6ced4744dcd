"""Loan amounts in yuan: ``二十万``, ``5w``, ``3.5万元``, ``五千块``, ``20,000 yuan``, ``50k``.

A number counts as an amount when it carries a money unit (万/千/块/元/w/k/yuan/RMB) or
follows a borrowing verb (借/贷/额度/还/borrow/loan) and is at least 100, so that "12期"
or "15号" are never read as money. The caller removes dates, terms, IDs and phones first.
"""

from __future__ import annotations

import re
from decimal import Decimal

from lendline.dialogue.nlu.slots.numerals import CN_NUMERAL_CHARS, parse_number

_NUM = rf"(?:\d+(?:,\d{{3}})*(?:\.\d+)?|[{CN_NUMERAL_CHARS}]+)"
_SCALE = {"万": 10_000, "w": 10_000, "千": 1000, "k": 1000, "百": 100, "亿": 100_000_000}
_AMOUNT_RE = re.compile(
    rf"(?P<cur>[¥￥$]|rmb|cny)?\s*(?P<num>{_NUM})\s*"
    r"(?P<scale>万|w(?![a-z])|千|k(?![a-z])|百|亿)?\s*"
    r"(?P<unit>块钱|块|元|圆|yuan|rmb|cny|dollars?|bucks)?",
)
_CONTEXT_RE = re.compile(r"(借|贷|额度|还|要|申请|欠|borrow|loan|lend|pay|owe)")
MIN_BARE_AMOUNT = Decimal(100)


def _to_yuan(value: Decimal) -> int | Decimal:
    """Whole yuan as ``int``; fractional (fen) amounts stay ``Decimal``."""
    value = value.quantize(Decimal("0.01"))
    return int(value) if value == value.to_integral_value() else value


def find_amount(text: str) -> tuple[int | Decimal, tuple[int, int]] | None:
    """The first amount in ``text`` (normalised, lower-case) and its span, or None."""
    has_context = _CONTEXT_RE.search(text) is not None
    for m in _AMOUNT_RE.finditer(text):
        num = m.group("num")
        value = parse_number(num)
        if value is None or value == 0:
            continue
        scale, unit, cur = m.group("scale"), m.group("unit"), m.group("cur")
        if scale and num[-1] in "万千百亿" and scale in "万千百亿":
            pass  # "二十万" already parsed the unit inside the numeral
        elif scale:
            value *= _SCALE[scale]
        explicit = bool(scale or unit or cur) or any(c in num for c in "万千百亿")
        if not explicit and not (has_context and value >= MIN_BARE_AMOUNT):
            continue
        return _to_yuan(value), (m.start(), m.end())
    return None
