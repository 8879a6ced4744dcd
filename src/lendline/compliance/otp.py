"""One-time codes for sensitive operations (pure: the caller passes ``now`` and the key).

A code is 6 digits, valid 5 minutes, at most 5 wrong tries over all codes of a challenge,
resend no sooner than 60 s and at most 3 sends, stored only as an HMAC, single use, and
bound to the operation and a digest of its parameters: a code sent for one repayment plan
cannot confirm another.

State table (``challenge state``, event → new state, outcome)::

    pending   confirm ok (in time, bound)   → confirmed   confirmed
    pending   confirm wrong code            → pending     otp_wrong_code  (attempts + 1)
    pending   confirm other operation/params→ pending     otp_mismatch    (attempts + 1)
    pending   attempts reach the maximum    → locked      otp_locked
    pending   confirm after expiry          → expired     otp_expired
    pending   resend (interval, sends left) → pending     new code, new expiry
    confirmed any confirm                   → confirmed   otp_used
    expired   any confirm                   → expired     otp_expired
    locked    any confirm                   → locked      otp_locked
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar

from lendline.errors import LendlineError


class OtpOperation(StrEnum):
    REPAYMENT_PLAN_CHANGE = "repayment_plan_change"
    ECONTRACT_SIGN = "econtract_sign"
    CHANGE_PHONE = "change_phone"
    CHANGE_BANK_ACCOUNT = "change_bank_account"


OPERATION_ZH = {
    OtpOperation.REPAYMENT_PLAN_CHANGE: "修改还款计划",
    OtpOperation.ECONTRACT_SIGN: "签署电子合同",
    OtpOperation.CHANGE_PHONE: "变更预留手机号",
    OtpOperation.CHANGE_BANK_ACCOUNT: "变更银行账户",
}


OPERATION_ALIASES = {
    "change_card": OtpOperation.CHANGE_BANK_ACCOUNT,
    "change_bank_card": OtpOperation.CHANGE_BANK_ACCOUNT,
    "change_repayment_plan": OtpOperation.REPAYMENT_PLAN_CHANGE,
    "sign_contract": OtpOperation.ECONTRACT_SIGN,
    "sign_econtract": OtpOperation.ECONTRACT_SIGN,
    "change_mobile": OtpOperation.CHANGE_PHONE,
}


def normalize_operation(operation: str) -> str:
    """The canonical operation name (a few aliases are accepted), or ``OtpError``."""
    op = str(operation).strip().lower()
    if op in OPERATION_ALIASES:
        return OPERATION_ALIASES[op].value
    if op not in {o.value for o in OtpOperation}:
        raise OtpError(f"unknown operation {operation!r}", code="otp_unknown_operation")
    return op


class OtpError(LendlineError):
    code = "otp_error"
    http_status = 403

    _STATUS: ClassVar[dict[str, int]] = {
        "otp_wrong_code": 403,
        "otp_mismatch": 403,
        "otp_expired": 410,
        "otp_locked": 423,
        "otp_used": 409,
        "otp_resend_too_soon": 429,
        "otp_resend_limit": 429,
        "otp_unknown_operation": 422,
    }

    def __init__(self, detail: str, *, code: str) -> None:
        super().__init__(detail, code=code)
        self.http_status = self._STATUS.get(code, 403)


@dataclass(frozen=True, slots=True)
class OtpRules:
    digits: int = 6
    ttl_s: int = 300
    max_attempts: int = 5
    resend_interval_s: int = 60
    max_sends: int = 3


@dataclass(frozen=True, slots=True)
class Challenge:
    challenge_id: str
    operation: str
    params_digest: str
    code_hash: str
    state: str  # pending | confirmed | expired | locked
    attempts: int
    sends: int
    sent_at: datetime
    expires_at: datetime


def params_digest(operation: str, params: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of the operation and its parameters."""
    blob = json.dumps(
        [operation, params], sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def hash_code(key: bytes, challenge_id: str, code: str) -> str:
    return hmac.new(key, f"{challenge_id}|{code}".encode(), hashlib.sha256).hexdigest()


def new_code(digits: int = 6) -> str:
    return f"{secrets.randbelow(10**digits):0{digits}d}"


def issue(
    key: bytes,
    rules: OtpRules,
    challenge_id: str,
    operation: str,
    params: dict[str, Any],
    now: datetime,
) -> tuple[Challenge, str]:
    """A new pending challenge and its code (to be sent, never stored)."""
    operation = normalize_operation(operation)
    code = new_code(rules.digits)
    ch = Challenge(
        challenge_id,
        operation,
        params_digest(operation, params),
        hash_code(key, challenge_id, code),
        "pending",
        0,
        1,
        now,
        now + timedelta(seconds=rules.ttl_s),
    )
    return ch, code


def resend(key: bytes, rules: OtpRules, ch: Challenge, now: datetime) -> tuple[Challenge, str]:
    """A fresh code for a pending challenge (the old one stops working)."""
    if ch.state != "pending":
        raise OtpError(
            f"challenge is {ch.state}",
            code=f"otp_{ch.state}" if ch.state != "confirmed" else "otp_used",
        )
    if ch.sends >= rules.max_sends:
        raise OtpError("no more codes for this operation; start again", code="otp_resend_limit")
    wait = (ch.sent_at + timedelta(seconds=rules.resend_interval_s) - now).total_seconds()
    if wait > 0:
        raise OtpError(f"wait {int(wait) + 1} s before asking again", code="otp_resend_too_soon")
    code = new_code(rules.digits)
    return (
        replace(
            ch,
            code_hash=hash_code(key, ch.challenge_id, code),
            sends=ch.sends + 1,
            sent_at=now,
            expires_at=now + timedelta(seconds=rules.ttl_s),
        ),
        code,
    )


def confirm(
    key: bytes,
    rules: OtpRules,
    ch: Challenge,
    *,
    code: str,
    operation: str,
    params: dict[str, Any],
    now: datetime,
) -> tuple[Challenge, str]:
    """Apply one confirmation attempt: (new challenge, outcome); outcome ``confirmed`` or a
    stable error code from the state table above."""
    if ch.state == "confirmed":
        return ch, "otp_used"
    if ch.state in ("expired", "locked"):
        return ch, f"otp_{ch.state}"
    if now >= ch.expires_at:
        return replace(ch, state="expired"), "otp_expired"
    try:
        operation = normalize_operation(operation)
    except OtpError:
        operation = "?"
    bound = hmac.compare_digest(ch.params_digest, params_digest(operation, params))
    right = hmac.compare_digest(ch.code_hash, hash_code(key, ch.challenge_id, code.strip()))
    if bound and right:
        return replace(ch, state="confirmed"), "confirmed"
    attempts = ch.attempts + 1
    if attempts >= rules.max_attempts:
        return replace(ch, attempts=attempts, state="locked"), "otp_locked"
    return replace(ch, attempts=attempts), "otp_wrong_code" if bound else "otp_mismatch"
