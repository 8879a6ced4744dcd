"""Masking of personal data wherever it leaves the core (API, pages, logs, transcripts).

``138****5678`` for a mobile number, ``110105********002X`` for an ID number,
``6222 **** **** 1234`` style for a bank card (first 4, last 4), ``张*`` / ``欧阳**`` for names.
"""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from typing import Any

# numbers as people write them: one space or hyphen may sit between digit groups
# ("138 1234 5678", "6222 0212 3456 7890"); full-width digits are read as digits
_ID_RE = re.compile(r"(?<!\d)(\d{6})[ -]?(\d{4}[ -]?\d{4})[ -]?(\d{3}[\dXx])(?!\d)")
_CARD_RE = re.compile(  # 16-19 digits; a short last group ("… 7890 123") is part of it
    r"(?<!\d)(\d{4})((?:[ -]?\d){8,12}?)[ -]?(\d{3,4})(?!\d)(?![ -]\d{1,3}(?!\d))"
)
_MOBILE_RE = re.compile(r"(?<!\d)(\+?86[- ]?)?(1[3-9]\d)[ -]?(\d{4})[ -]?(\d{4})(?!\d)")
_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
# lendline's own identifiers can hold a run of digits that reads like a mobile number
# ("rec-723d15149365409da3d9"); masking it would corrupt the id in the audit trail. Only
# their exact shapes are kept whole: a recording id, an OTP or rate-review id, and a bare
# 32-character lowercase uuid hex (call, conversation, event ids), each standing alone.
# A phone, ID or card number with letters glued to it is still masked.
_LENDLINE_ID_RE = re.compile(
    r"(?<![0-9A-Za-z_-])"
    # each with at least one hex letter: an all-digit run is a number, whatever its prefix
    r"(?:rec-(?=[0-9]*[a-f])[0-9a-f]{20}|(?:otp|rr)-(?=[0-9]*[a-f])[0-9a-f]{16}"
    r"|(?:ev_|d_)?(?=[0-9]*[a-f])[0-9a-f]{32})"
    r"(?![0-9A-Za-z_-])"
)


def mask_phone(phone: str) -> str:
    digits = re.sub(r"\D", "", phone)
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}****{digits[-4:]}"


def mask_id_number(id_number: str) -> str:
    s = id_number.strip().upper()
    if len(s) != 18:
        return "*" * len(s)
    return f"{s[:6]}********{s[-4:]}"


def mask_card(card: str) -> str:
    digits = re.sub(r"\D", "", card)
    if len(digits) < 12:
        return "*" * len(digits)
    return f"{digits[:4]}{'*' * (len(digits) - 8)}{digits[-4:]}"


def mask_name(name: str) -> str:
    name = name.strip()
    if not name:
        return name
    if name.isascii():
        parts = name.split()
        return " ".join(p[0] + "*" * (len(p) - 1) for p in parts)
    if len(name) == 1:
        return name
    # compound surnames (欧阳, 司马, …) keep two characters when the name has four
    keep = 2 if len(name) >= 4 else 1
    return name[:keep] + "*" * (len(name) - keep)


def mask_text(text: str) -> str:
    """Mask every ID number, bank card and mobile number found in free text.

    lendline's own identifiers inside the text are kept as they are (``_LENDLINE_ID_RE``).
    """
    out: list[str] = []
    last = 0
    for m in _LENDLINE_ID_RE.finditer(text):
        out.append(_mask_numbers(text[last : m.start()]))
        out.append(m.group())
        last = m.end()
    out.append(_mask_numbers(text[last:]))
    return "".join(out)


def _mask_numbers(text: str) -> str:
    text = text.translate(_FULL_WIDTH_DIGITS)
    text = _ID_RE.sub(lambda m: f"{m.group(1)}********{m.group(3)[-4:].upper()}"[:18], text)
    text = _CARD_RE.sub(
        lambda m: f"{m.group(1)}{'*' * sum(c.isdigit() for c in m.group(2))}{m.group(3)}", text
    )
    text = _MOBILE_RE.sub(lambda m: f"{m.group(1) or ''}{m.group(2)}****{m.group(4)}", text)
    return text


def mask_log_event(_logger: Any, _name: str, event_dict: MutableMapping[str, Any]) -> Any:
    """structlog processor: mask personal data in every value of a log event (nested too)."""
    for key, value in list(event_dict.items()):
        event_dict[key] = _mask_value(value)
    return event_dict


def _mask_value(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: _mask_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_mask_value(v) for v in value)
    if isinstance(value, int) and not isinstance(value, bool) and len(str(abs(value))) >= 11:
        return mask_text(str(value))  # a phone number passed as an int
    return value


_factory_installed = False


def install_log_record_masking() -> None:
    """Mask every standard-library log record at creation (uvicorn, SQLAlchemy, libraries),
    whatever handler later writes it. Idempotent."""
    import logging

    global _factory_installed
    if _factory_installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: leave it for logging to report
            return record
        masked = mask_text(message)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        return record

    logging.setLogRecordFactory(factory)
    _factory_installed = True
