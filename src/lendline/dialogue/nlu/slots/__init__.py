"""Slot extraction: ``extract_slots(text, today=…)`` → ``SlotResult``.

Order matters: IDs and phone numbers are taken out first, then dates and terms, so that
their digits are never read as an amount ("15号", "12期", "138…" are not money).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from lendline.dialogue.nlu.api import SlotResult
from lendline.dialogue.nlu.slots.amount import find_amount
from lendline.dialogue.nlu.slots.dates import find_date
from lendline.dialogue.nlu.slots.identity import find_id_number, find_phone
from lendline.dialogue.nlu.slots.loan_type import find_loan_type
from lendline.dialogue.nlu.slots.numerals import spoken_digits_to_arabic
from lendline.dialogue.nlu.slots.term import find_term

__all__ = ["extract_slots", "normalise_for_slots"]

# spaces/dashes inside a phone or ID ("138 1234 5678", "110101-1990…") are reading
# pauses; other digit groups ("5000 12期") stay apart
_DIGIT_GROUPS_RE = re.compile(r"\d+(?:[ \-]\d+)+x?")
_JOINED_LENGTHS = frozenset({11, 13, 18})


def _join_digit_groups(match: re.Match[str]) -> str:
    joined = re.sub(r"[ \-]", "", match.group())
    return joined if len(joined) in _JOINED_LENGTHS else match.group()


def normalise_for_slots(text: str) -> str:
    """NFKC (full-width digits → ASCII), lower-case, spoken digit runs → Arabic digits."""
    s = unicodedata.normalize("NFKC", text).lower()
    s = spoken_digits_to_arabic(s)
    return _DIGIT_GROUPS_RE.sub(_join_digit_groups, s)


def _blank(text: str, span: tuple[int, int] | None) -> str:
    """``text`` with ``span`` replaced by spaces, keeping the other offsets."""
    if span is None:
        return text
    return text[: span[0]] + " " * (span[1] - span[0]) + text[span[1] :]


def extract_slots(text: str, *, today: date, lang: str = "zh") -> SlotResult:
    """All slots in one utterance; invalid IDs/phones go to ``errors``, never ``values``.

    ``today`` anchors relative dates (the core never reads the clock). ``lang`` is
    accepted for symmetry with the classifier; the extractors read both languages.
    """
    del lang  # both languages' patterns are tried; kept in the signature for callers
    result = SlotResult()
    s = normalise_for_slots(text)

    id_number, id_error, span = find_id_number(s)
    if id_number:
        result.values["id_number"] = id_number
    elif id_error:
        result.errors["id_number"] = id_error
    s = _blank(s, span)

    phone, phone_error, span = find_phone(s)
    if phone:
        result.values["phone"] = phone
    elif phone_error:
        result.errors["phone"] = phone_error
    s = _blank(s, span)

    found_date = find_date(s, today)
    if found_date:
        result.values["date"] = found_date[0].isoformat()
        s = _blank(s, found_date[1])

    term = find_term(s)
    if term:
        result.values["term_months"] = term[0]
        s = _blank(s, term[1])

    loan = find_loan_type(s)
    if loan:
        result.values["loan_type"] = loan[0]
        if loan[1]:
            result.values["product"] = loan[1]

    amount = find_amount(s)
    if amount:
        result.values["amount"] = amount[0]
    return result
