"""Rate-cap review (pure, ``Decimal`` only): an offered or recorded annual rate above the
contract rate plus a margin (2 percentage points by default) is held for a second person.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from lendline.errors import ValidationError

DEFAULT_MARGIN_PP = Decimal("2")


def parse_rate(value: object, *, field: str) -> Decimal:
    """A percentage from a string or int (never a float: binary fractions are not money)."""
    if isinstance(value, float | bool):
        raise ValidationError('give the rate as a string, e.g. "12.5"', field=field)
    try:
        d = Decimal(str(value).strip().rstrip("%"))
    except InvalidOperation:
        raise ValidationError("not a number", field=field) from None
    if not d.is_finite() or d < 0 or d > 100:
        raise ValidationError("must be a percentage between 0 and 100", field=field)
    return d


@dataclass(frozen=True, slots=True)
class RateCheck:
    contract_pct: Decimal
    offered_pct: Decimal
    threshold_pct: Decimal  # contract + margin

    @property
    def needs_review(self) -> bool:
        return self.offered_pct > self.threshold_pct


def check_rate(
    contract_pct: Decimal, offered_pct: Decimal, margin_pp: Decimal = DEFAULT_MARGIN_PP
) -> RateCheck:
    for v in (contract_pct, offered_pct, margin_pp):
        if not isinstance(v, Decimal):
            raise TypeError("rates are Decimal")
    return RateCheck(contract_pct, offered_pct, contract_pct + margin_pp)
