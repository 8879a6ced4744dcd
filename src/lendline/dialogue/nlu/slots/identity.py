"""ID numbers (GB 11643) and phone numbers found in an utterance.

Validation is ``lendline.domain.identity``'s; this module only finds candidates. A
candidate that looks like an ID but fails the checksum or birth date is reported as an
error (the flow re-prompts "号码有误") and never returned as a value.
"""

from __future__ import annotations

import re

import phonenumbers

from lendline.domain.identity import is_valid_id_number, normalize_phone
from lendline.errors import ValidationError

_ID_RE = re.compile(r"(?<![\dx])(\d{17}[\dx])(?![\dx])")
_DIGIT_RUN_RE = re.compile(r"(?<![\d+])\d{12,20}[x]?(?!\d)")
_ID_CONTEXT_RE = re.compile(r"身份证|证件|证号|id|identity")
_MOBILE_RE = re.compile(r"(?<![\d+])(?:\+?86)?(1\d{10})(?!\d)")
_PHONE_CONTEXT_RE = re.compile(r"手机|电话|号码|联系|phone|mobile|number|call me")
_SHORT_MOBILE_RE = re.compile(r"(?<![\d+])1\d{8,9}(?!\d)|(?<![\d+])1\d{11,12}(?!\d)")

Span = tuple[int, int]


def find_id_number(text: str) -> tuple[str | None, str | None, Span | None]:
    """``(id_number, error, span)``: a valid upper-case ID, or the reason it was refused.

    ``text`` is normalised (lower-case, spaces and dashes between digits removed).
    Errors: ``checksum`` (18 characters, wrong check digit or impossible birth date),
    ``length`` (a long digit run said as an ID that is not 18 characters).
    """
    m = _ID_RE.search(text)
    if m:
        candidate = m.group(1).upper()
        if is_valid_id_number(candidate):
            return candidate, None, m.span(1)
        return None, "checksum", m.span(1)
    if _ID_CONTEXT_RE.search(text):
        run = _DIGIT_RUN_RE.search(text)
        if run and len(run.group()) != 11:
            return None, "length", run.span()
    return None, None, None


def find_phone(text: str) -> tuple[str | None, str | None, Span | None]:
    """``(e164, error, span)`` for the first phone number in ``text``.

    Mainland mobiles (11 digits, optional +86) and international numbers written in
    E.164 (``+44 20 7946 0958``). Errors: ``invalid`` (11 digits starting with 1 that are
    no valid mobile), ``length`` (a mobile-looking run of the wrong length next to a
    phone word).
    """
    m = _MOBILE_RE.search(text)
    if m:
        try:
            return normalize_phone(m.group(1), region="CN"), None, m.span()
        except ValidationError:
            return None, "invalid", m.span()
    if "+" in text:
        for match in phonenumbers.PhoneNumberMatcher(text, None):
            number = match.number
            if phonenumbers.is_valid_number(number):
                e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
                return e164, None, (match.start, match.end)
    if _PHONE_CONTEXT_RE.search(text):
        short = _SHORT_MOBILE_RE.search(text)
        if short and len(short.group()) != 18:
            return None, "length", short.span()
    return None, None, None
