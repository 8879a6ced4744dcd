"""Loan term in months: ``12个月``, ``分24期``, ``3年``, ``一年半``, ``半年``, ``36 months``."""

from __future__ import annotations

import re

from lendline.dialogue.nlu.slots.numerals import CN_NUMERAL_CHARS, parse_number

_NUM = rf"(?:\d+(?:\.\d+)?|[{CN_NUMERAL_CHARS}]+)"
_TERM_RE = re.compile(
    rf"(?P<half_only>半年)"
    rf"|(?P<num>{_NUM})\s*(?P<unit>个月|月期|期|年半|年|个半月|months?|mos?|years?|yrs?|installments?)"
)
MAX_TERM_MONTHS = 480


def find_term(text: str) -> tuple[int, tuple[int, int]] | None:
    """The first term in ``text`` as whole months, with its span; None if absent or absurd."""
    for m in _TERM_RE.finditer(text):
        if m.group("half_only"):
            # "一年半" is caught by the num branch; a lone "半年" is six months
            return 6, m.span()
        value = parse_number(m.group("num"))
        if value is None or value <= 0:
            continue
        unit = m.group("unit")
        if unit == "年半":
            months = value * 12 + 6
        elif unit.startswith(("年", "year", "yr")):
            months = value * 12
        else:
            months = value
        if months != int(months) or not 0 < months <= MAX_TERM_MONTHS:
            continue
        return int(months), m.span()
    return None
