"""What the bot knows without looking anyone up: products, documents, and the pure sums.

Money is integer fen; rates are ``Decimal`` annual percentages. The catalogue mirrors the
demo lender's products (``lendline.demo.seed.PRODUCTS``); a real lender replaces it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal


@dataclass(frozen=True, slots=True)
class Product:
    code: str
    loan_type: str  # personal | business
    name_zh: str
    name_en: str
    min_fen: int
    max_fen: int
    rate_from: Decimal
    rate_to: Decimal
    terms_months: tuple[int, ...]


PRODUCTS: tuple[Product, ...] = (
    Product(
        "micro",
        "personal",
        "小额信用贷",
        "micro credit loan",
        1_000_00,
        20_000_00,
        Decimal("12.0"),
        Decimal("24.0"),
        (3, 6, 12),
    ),
    Product(
        "consumer",
        "personal",
        "个人消费贷",
        "consumer loan",
        5_000_00,
        80_000_00,
        Decimal("9.9"),
        Decimal("18.0"),
        (6, 12, 24),
    ),
    Product(
        "car",
        "personal",
        "汽车贷款",
        "car loan",
        50_000_00,
        300_000_00,
        Decimal("5.5"),
        Decimal("9.0"),
        (24, 36, 60),
    ),
    Product(
        "mortgage",
        "personal",
        "个人住房贷款",
        "mortgage",
        300_000_00,
        2_000_000_00,
        Decimal("3.6"),
        Decimal("4.9"),
        (120, 240, 360),
    ),
    Product(
        "operating",
        "business",
        "企业经营贷",
        "business operating loan",
        100_000_00,
        1_000_000_00,
        Decimal("4.8"),
        Decimal("12.0"),
        (12, 24, 36),
    ),
    Product(
        "business_micro",
        "business",
        "小微企业信用贷",
        "small-business credit loan",
        10_000_00,
        300_000_00,
        Decimal("7.2"),
        Decimal("15.0"),
        (6, 12, 24),
    ),
)

DOCUMENTS: dict[str, tuple[tuple[str, str], ...]] = {
    "personal": (
        ("身份证原件", "ID card"),
        ("近6个月银行流水", "6 months of bank statements"),
        ("收入证明或工作证明", "proof of income or employment"),
        ("居住证明", "proof of address"),
    ),
    "business": (
        ("营业执照", "business licence"),
        ("法定代表人身份证", "legal representative's ID card"),
        ("近12个月对公流水", "12 months of company bank statements"),
        ("近两年财务报表", "financial statements of the last two years"),
        ("公司章程", "articles of association"),
    ),
}

PRODUCT_ZH = {p.code: p.name_zh for p in PRODUCTS}
PRODUCT_EN = {p.code: p.name_en for p in PRODUCTS}
EARLY_FEE_PCT = Decimal("2")  # % of outstanding principal, first 12 months only


def yuan(fen: int) -> str:
    """``123456`` fen → ``"1234.56"``; whole yuan drop the decimals (``"5000"``)."""
    v = (Decimal(fen) / 100).quantize(Decimal("0.01"))
    return f"{v:.0f}" if v == v.to_integral() else f"{v:.2f}"


def to_fen(amount_yuan: object) -> int:
    """An NLU amount (yuan: int, Decimal or numeric string) → fen."""
    d = Decimal(str(amount_yuan))
    return int((d * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def matching_products(loan_type: str, amount_fen: int | None) -> list[Product]:
    """Products of ``loan_type`` whose range holds ``amount_fen`` (any amount when None)."""
    return [
        p
        for p in PRODUCTS
        if p.loan_type == loan_type and (amount_fen is None or p.min_fen <= amount_fen <= p.max_fen)
    ]


def accrued_interest_fen(outstanding_fen: int, rate_pct: Decimal, days: int) -> int:
    """Simple interest on ``outstanding_fen`` for ``days`` days at ``rate_pct`` a year (365)."""
    v = Decimal(outstanding_fen) * rate_pct / 100 * Decimal(max(days, 0)) / 365
    return int(v.quantize(Decimal("1"), rounding=ROUND_HALF_UP))


@dataclass(frozen=True, slots=True)
class EarlyQuote:
    principal_fen: int
    interest_fen: int
    fee_fen: int

    @property
    def total_fen(self) -> int:
        return self.principal_fen + self.interest_fen + self.fee_fen


def early_repayment_quote(
    *,
    outstanding_fen: int,
    rate_pct: Decimal,
    next_due: date | None,
    opened: date | None,
    today: date,
) -> EarlyQuote:
    """Pay off today: principal + interest since the last due date (30-day periods) + fee.

    The fee is ``EARLY_FEE_PCT`` of the principal while the loan is younger than a year.
    """
    days = 30 - (next_due - today).days if next_due else 0
    days = min(max(days, 0), 30)
    interest = accrued_interest_fen(outstanding_fen, rate_pct, days)
    young = opened is not None and (today - opened).days < 365
    fee = (
        int((Decimal(outstanding_fen) * EARLY_FEE_PCT / 100).quantize(Decimal("1"))) if young else 0
    )
    return EarlyQuote(outstanding_fen, interest, fee)


def precheck_limit_fen(credit_score: int, loan_type: str, outstanding_fen: int) -> int:
    """Indicative limit from the credit score, less what the customer already owes."""
    if credit_score < 550:
        base = 0
    elif credit_score < 650:
        base = 50_000_00
    elif credit_score < 750:
        base = 200_000_00
    else:
        base = 500_000_00
    if loan_type == "business":
        base *= 2
    return max(0, base - outstanding_fen // 2)
