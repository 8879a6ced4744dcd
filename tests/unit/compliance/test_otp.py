from __future__ import annotations

from datetime import timedelta

import pytest

from lendline.clock import ManualClock
from lendline.compliance import otp
from lendline.compliance.otp import OtpError, OtpRules

KEY = b"o" * 32
RULES = OtpRules()
PLAN = {"loan_id": "L1", "months": 12, "monthly_fen": 150000}


def _issue(clock: ManualClock) -> tuple[otp.Challenge, str]:
    return otp.issue(KEY, RULES, "otp-1", "repayment_plan_change", PLAN, clock.now())


def _confirm(
    ch: otp.Challenge, code: str, clock: ManualClock, params=PLAN, op="repayment_plan_change"
):  # type: ignore[no-untyped-def]
    return otp.confirm(KEY, RULES, ch, code=code, operation=op, params=params, now=clock.now())


def test_code_is_six_digits_stored_hashed_and_single_use() -> None:
    clock = ManualClock()
    ch, code = _issue(clock)
    assert len(code) == 6 and code.isdigit()
    assert code not in ch.code_hash and len(ch.code_hash) == 64
    ch, outcome = _confirm(ch, code, clock)
    assert outcome == "confirmed" and ch.state == "confirmed"
    _, again = _confirm(ch, code, clock)
    assert again == "otp_used"


def test_bound_to_operation_and_params() -> None:
    clock = ManualClock()
    ch, code = _issue(clock)
    ch, outcome = _confirm(ch, code, clock, params={**PLAN, "monthly_fen": 90000})
    assert outcome == "otp_mismatch" and ch.attempts == 1
    ch, outcome = _confirm(ch, code, clock, op="change_bank_account")
    assert outcome == "otp_mismatch"
    ch, outcome = _confirm(ch, code, clock)
    assert outcome == "confirmed"


def test_expires_after_five_minutes() -> None:
    clock = ManualClock()
    ch, code = _issue(clock)
    clock.advance(299)
    assert _confirm(ch, "000000" if code != "000000" else "111111", clock)[1] == "otp_wrong_code"
    clock.advance(1)
    ch, outcome = _confirm(ch, code, clock)
    assert outcome == "otp_expired" and ch.state == "expired"


def test_five_wrong_attempts_lock_even_the_right_code() -> None:
    clock = ManualClock()
    ch, code = _issue(clock)
    wrong = "000000" if code != "000000" else "111111"
    outcomes = []
    for _ in range(5):
        ch, o = _confirm(ch, wrong, clock)
        outcomes.append(o)
    assert outcomes == ["otp_wrong_code"] * 4 + ["otp_locked"]
    assert _confirm(ch, code, clock)[1] == "otp_locked"


def test_resend_is_throttled_limited_and_replaces_the_code() -> None:
    clock = ManualClock()
    ch, first = _issue(clock)
    with pytest.raises(OtpError) as e:
        otp.resend(KEY, RULES, ch, clock.now())
    assert e.value.code == "otp_resend_too_soon" and e.value.http_status == 429
    clock.advance(60)
    ch, second = otp.resend(KEY, RULES, ch, clock.now())
    assert ch.sends == 2 and ch.expires_at == clock.now() + timedelta(seconds=300)
    if first != second:
        assert _confirm(ch, first, clock)[1] == "otp_wrong_code"
    clock.advance(60)
    ch, _ = otp.resend(KEY, RULES, ch, clock.now())
    clock.advance(60)
    with pytest.raises(OtpError) as e:
        otp.resend(KEY, RULES, ch, clock.now())
    assert e.value.code == "otp_resend_limit"


def test_attempts_survive_a_resend() -> None:
    clock = ManualClock()
    ch, code = _issue(clock)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(4):
        ch, _o = _confirm(ch, wrong, clock)
    clock.advance(60)
    ch, new = otp.resend(KEY, RULES, ch, clock.now())
    wrong = "000000" if new != "000000" else "111111"
    assert _confirm(ch, wrong, clock)[1] == "otp_locked"


def test_unknown_operation_is_refused() -> None:
    with pytest.raises(OtpError):
        otp.issue(KEY, RULES, "x", "transfer_everything", {}, ManualClock().now())


def test_operation_aliases() -> None:
    assert otp.normalize_operation("change_card") == "change_bank_account"
    assert otp.normalize_operation("ECONTRACT_SIGN") == "econtract_sign"
    with pytest.raises(OtpError) as e:
        otp.normalize_operation("wire_money")
    assert e.value.http_status == 422
