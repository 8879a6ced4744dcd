"""Retention of recordings (pure): how long each kind is kept and what may be purged.

Default 5 years for every kind (``policy/compliance.yaml``); a recording under legal hold
is never purgeable, whatever its age.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


def add_years(t: datetime, years: int) -> datetime:
    """``t`` plus whole calendar years (29 February becomes 28 February)."""
    try:
        return t.replace(year=t.year + years)
    except ValueError:
        return t.replace(year=t.year + years, day=28)


@dataclass(frozen=True, slots=True)
class RetentionRules:
    default_years: int = 5
    years_by_kind: dict[str, int] = field(default_factory=dict)

    def years_for(self, kind: str) -> int:
        return self.years_by_kind.get(kind, self.default_years)

    def retain_until(self, kind: str, started_at: datetime) -> datetime:
        return add_years(started_at, self.years_for(kind))


def purgeable(retain_until: datetime, legal_hold: bool, now: datetime) -> bool:
    """True only when retention has run out and no legal hold is set."""
    return not legal_hold and retain_until <= now
