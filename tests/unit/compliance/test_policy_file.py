from __future__ import annotations

from pathlib import Path

import pytest

from lendline.compliance.contact import ContactRules
from lendline.compliance.otp import OtpRules
from lendline.compliance.policyfile import CompliancePolicy, parse_policy
from lendline.compliance.throttle import LoginRules
from lendline.errors import RuleError

POLICY_FILE = Path(__file__).resolve().parents[3] / "policy" / "compliance.yaml"


def test_the_policy_file_states_the_built_in_defaults_with_sources() -> None:
    p = parse_policy(POLICY_FILE.read_text(encoding="utf-8"))
    d = CompliancePolicy()
    assert p.contact == ContactRules() == d.contact
    assert p.rate_margin_pp == d.rate_margin_pp
    assert p.retention == d.retention
    assert p.otp == OtpRules() and p.login == LoginRules()
    assert len(p.sources) >= 15
    assert all(len(s) > 10 for s in p.sources.values()), "every rule names its source"


def test_values_can_be_changed() -> None:
    p = parse_policy(
        """
contact:
  quiet_hours: {value: {start: "21:00", end: "09:00"}, source: lender}
  daily_connected_collection_max: {value: 2, source: lender}
rate_cap:
  margin_pp: {value: "1.5", source: lender}
"""
    )
    assert p.contact.quiet_start.hour == 21 and p.contact.daily_connected_collection_max == 2
    assert str(p.rate_margin_pp) == "1.5"
    assert p.contact.daily_unanswered_attempts_max == 6  # absent: default kept


@pytest.mark.parametrize(
    "text",
    [
        "contact: [1, 2]",
        "contact:\n  weekly_attempts_max: 5",
        "contact:\n  weekly_attempts_max: {value: -1, source: x}",
        "contact:\n  quiet_hours: {value: {start: 'late', end: '08:00'}, source: x}",
        "rate_cap:\n  margin_pp: {value: 2.5, source: x}",
        "contact: {a: [}",
    ],
)
def test_invalid_files_are_refused(text: str) -> None:
    with pytest.raises(Exception) as e:
        parse_policy(text)
    assert isinstance(e.value, RuleError) or getattr(e.value, "code", "") == "invalid_input"
