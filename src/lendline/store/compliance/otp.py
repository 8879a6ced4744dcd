"""Second confirmation by SMS code (``services["otp"]``): the operation runs only after it.

``start`` sends a code bound to (operation, params); ``confirm`` checks it and, when a
handler is registered for the operation, runs it with the confirmed params and returns its
result. Every start, resend and confirmation attempt is audited.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lendline.clock import Clock
from lendline.compliance import otp as core
from lendline.compliance.audit import Auditor
from lendline.compliance.masking import mask_phone
from lendline.compliance.otp import OPERATION_ZH, Challenge, OtpError, OtpOperation, OtpRules
from lendline.errors import NotFound
from lendline.integration.sms import SmsGateway
from lendline.store.base import Database
from lendline.store.models_compliance import OtpChallengeRow

Handler = Callable[[dict[str, Any], str], dict[str, Any] | None]


@dataclass(frozen=True, slots=True)
class OtpStarted:
    challenge_id: str
    operation: str
    phone_masked: str
    expires_at: datetime
    resend_after_s: int


@dataclass(frozen=True, slots=True)
class OtpConfirmed:
    challenge_id: str
    operation: str
    result: dict[str, Any] | None  # what the operation's handler returned, if one ran


def _to_core(r: OtpChallengeRow) -> Challenge:
    return Challenge(
        r.challenge_id,
        r.operation,
        r.params_digest,
        r.code_hash,
        r.state,
        r.attempts,
        r.sends,
        r.sent_at,
        r.expires_at,
    )


class OtpService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        sms: SmsGateway,
        key: bytes,
        audit: Auditor,
        rules: OtpRules | None = None,
        *,
        digest: Callable[[str], str] | None = None,
        phone_of: Callable[[str], str] | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._sms = sms
        self._key = key
        self._audit = audit
        self.rules = rules or OtpRules()
        self._digest = digest or (lambda v: "")
        self._phone_of = phone_of  # customer id -> registered phone (E.164)
        self._handlers: dict[str, Handler] = {}
        self._lock = threading.Lock()

    def register_handler(self, operation: OtpOperation | str, handler: Handler) -> None:
        """``handler(params, actor)`` runs once, after a successful confirmation."""
        self._handlers[str(operation)] = handler

    def _text(self, operation: str, code: str) -> str:
        op = OPERATION_ZH.get(OtpOperation(operation), operation)
        minutes = self.rules.ttl_s // 60
        return (
            f"【lendline】验证码{code}，用于{op}，{minutes}分钟内有效。"
            "工作人员不会索要验证码，请勿告诉他人。"
        )

    def start(
        self,
        operation: OtpOperation | str,
        params: dict[str, Any] | None = None,
        *,
        actor: str,
        phone_e164: str | None = None,
        customer_id: str | None = None,
        subject_id: str | None = None,
    ) -> OtpStarted:
        """Send a code for ``operation`` with ``params`` to ``phone_e164`` or, when not given,
        to the registered phone of ``customer_id`` (``subject_id`` is accepted as its alias)."""
        now = self._clock.now()
        params = params or {}
        customer_id = customer_id or subject_id
        if phone_e164 is None:
            if customer_id is None or self._phone_of is None:
                raise OtpError("no phone to send the code to", code="otp_no_phone")
            phone_e164 = self._phone_of(customer_id)
        challenge_id = "otp-" + uuid.uuid4().hex[:16]
        ch, code = core.issue(self._key, self.rules, challenge_id, str(operation), params, now)
        with self._db.session() as s:
            s.add(
                OtpChallengeRow(
                    challenge_id=ch.challenge_id,
                    operation=ch.operation,
                    params_digest=ch.params_digest,
                    params_json=json.dumps(params, ensure_ascii=False, default=str),
                    code_hash=ch.code_hash,
                    phone_digest=self._digest(phone_e164),
                    phone_masked=mask_phone(phone_e164),
                    customer_id=customer_id,
                    actor=actor,
                    state=ch.state,
                    attempts=0,
                    sends=1,
                    created_at=now,
                    sent_at=now,
                    expires_at=ch.expires_at,
                )
            )
        self._sms.send(phone_e164, self._text(ch.operation, code))
        self._audit.record(
            actor=actor, action="otp.start", target=challenge_id, detail=f"{ch.operation}"
        )
        return OtpStarted(
            challenge_id,
            ch.operation,
            mask_phone(phone_e164),
            ch.expires_at,
            self.rules.resend_interval_s,
        )

    def resend(self, challenge_id: str, *, phone_e164: str, actor: str) -> OtpStarted:
        now = self._clock.now()
        with self._lock, self._db.session() as s:
            r = s.get(OtpChallengeRow, challenge_id)
            if r is None:
                raise NotFound(f"no challenge {challenge_id}", code="otp_not_found")
            if r.phone_digest and r.phone_digest != self._digest(phone_e164):
                raise OtpError(
                    "the code goes to the number it was started for", code="otp_mismatch"
                )
            try:
                ch, code = core.resend(self._key, self.rules, _to_core(r), now)
            except OtpError as exc:
                outcome = exc.code
            else:
                outcome = "ok"
                r.code_hash, r.sends, r.sent_at, r.expires_at = (
                    ch.code_hash,
                    ch.sends,
                    ch.sent_at,
                    ch.expires_at,
                )
            operation, expires_at = r.operation, r.expires_at
        self._audit.record(actor=actor, action="otp.resend", target=challenge_id, outcome=outcome)
        if outcome != "ok":
            raise OtpError(f"resend refused: {outcome}", code=outcome)
        self._sms.send(phone_e164, self._text(operation, code))
        return OtpStarted(
            challenge_id,
            operation,
            mask_phone(phone_e164),
            expires_at,
            self.rules.resend_interval_s,
        )

    def confirm(
        self,
        challenge_id: str,
        code: str,
        *,
        operation: OtpOperation | str,
        params: dict[str, Any],
        actor: str,
    ) -> OtpConfirmed:
        """Check the code; on success run the operation's handler (once) and return."""
        now = self._clock.now()
        with self._lock, self._db.session() as s:
            r = s.get(OtpChallengeRow, challenge_id)
            if r is None:
                raise NotFound(f"no challenge {challenge_id}", code="otp_not_found")
            ch, outcome = core.confirm(
                self._key,
                self.rules,
                _to_core(r),
                code=code,
                operation=str(operation),
                params=params,
                now=now,
            )
            r.state, r.attempts = ch.state, ch.attempts
            if outcome == "confirmed":
                r.confirmed_at = now
        self._audit.record(
            actor=actor,
            action="otp.confirm",
            target=challenge_id,
            outcome="ok" if outcome == "confirmed" else "denied",
            detail=f"{operation}: {outcome}",
        )
        if outcome != "confirmed":
            raise OtpError(f"second confirmation failed: {outcome}", code=outcome)
        handler = self._handlers.get(str(operation))
        result = handler(params, actor) if handler else None
        return OtpConfirmed(challenge_id, str(operation), result)
