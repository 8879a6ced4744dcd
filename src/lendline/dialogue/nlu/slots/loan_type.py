"""Loan type (``personal`` / ``business``) and finer product from the caller's words."""

from __future__ import annotations

import re

# (pattern, loan_type, product); first match wins, so specific products come first.
_RULES: tuple[tuple[re.Pattern[str], str, str | None], ...] = tuple(
    (re.compile(p), t, prod)
    for p, t, prod in (
        (r"房贷|按揭|住房贷|买房|购房|mortgage|home loan|house loan", "personal", "mortgage"),
        (r"车贷|汽车贷|买车|购车|car loan|auto loan|vehicle loan", "personal", "car"),
        (
            r"经营贷|经营性|经营|生意周转|周转资金|进货|operating loan|working capital",
            "business",
            "operating",
        ),
        (
            r"消费贷|消费分期|装修贷|装修|旅游贷|consumer loan|consumption loan",
            "personal",
            "consumer",
        ),
        (r"信用贷|credit loan", "personal", "credit"),
        (
            r"企业贷|公司贷|对公|企业|公司|小微|个体户|商户|business loan|company loan|sme",
            "business",
            None,
        ),
        (r"个人贷|个人|私人|personal loan|personal", "personal", None),
    )
)


def find_loan_type(text: str) -> tuple[str, str | None] | None:
    """``(loan_type, product)`` for the first loan word in ``text``, or None."""
    for pattern, loan_type, product in _RULES:
        if pattern.search(text):
            return loan_type, product
    return None
