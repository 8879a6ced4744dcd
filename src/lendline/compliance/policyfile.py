"""The compliance policy file (``policy/compliance.yaml``): parse it into the rule objects.

Pure: ``parse_policy(text)`` takes the YAML text; the edge reads the file. Every rule has a
``value`` and a ``source``; a key that is absent keeps its built-in default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from decimal import Decimal
from typing import Any

import yaml

from lendline.compliance.contact import ContactRules
from lendline.compliance.otp import OtpRules
from lendline.compliance.ratecap import DEFAULT_MARGIN_PP, parse_rate
from lendline.compliance.retention import RetentionRules
from lendline.compliance.throttle import LoginRules
from lendline.errors import RuleError


@dataclass(frozen=True, slots=True)
class CompliancePolicy:
    contact: ContactRules = field(default_factory=ContactRules)
    rate_margin_pp: Decimal = DEFAULT_MARGIN_PP
    retention: RetentionRules = field(
        default_factory=lambda: RetentionRules(5, {"call": 5, "bot": 5, "outbound": 5})
    )
    otp: OtpRules = field(default_factory=OtpRules)
    login: LoginRules = field(default_factory=LoginRules)
    sources: dict[str, str] = field(default_factory=dict)


def _hhmm(s: Any, where: str) -> time:
    try:
        h, m = str(s).split(":")
        return time(int(h), int(m))
    except ValueError:
        raise RuleError(f"{where}: expected HH:MM, got {s!r}", code="invalid_policy") from None


def _int(v: Any, where: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise RuleError(f"{where}: expected a whole number ≥ 0, got {v!r}", code="invalid_policy")
    return v


def _v(entry: Any, default: Any) -> Any:
    return default if entry is None else entry["value"]


def parse_policy(text: str) -> CompliancePolicy:
    try:
        doc = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        raise RuleError(
            f"not valid YAML: {exc}",
            line=line + 1 if line is not None else None,
            code="invalid_policy",
        ) from None
    if not isinstance(doc, dict):
        raise RuleError("the policy file must be a mapping", code="invalid_policy")
    sources: dict[str, str] = {}

    def rule(section: str, name: str) -> Any:
        sec = doc.get(section) or {}
        if not isinstance(sec, dict):
            raise RuleError(f"{section}: must be a mapping", code="invalid_policy")
        entry = sec.get(name)
        if entry is None:
            return None
        if not isinstance(entry, dict) or "value" not in entry:
            raise RuleError(f"{section}.{name}: needs `value` and `source`", code="invalid_policy")
        sources[f"{section}.{name}"] = str(entry.get("source", ""))
        return entry

    d = ContactRules()
    contact: dict[str, Any] = {}
    if (q := rule("contact", "quiet_hours")) is not None:
        contact["quiet_start"] = _hhmm(q["value"].get("start"), "contact.quiet_hours.start")
        contact["quiet_end"] = _hhmm(q["value"].get("end"), "contact.quiet_hours.end")
    for name in (
        "daily_unanswered_attempts_max",
        "daily_connected_collection_max",
        "weekly_attempts_max",
        "weekly_connected_collection_max",
    ):
        if (e := rule("contact", name)) is not None:
            contact[name] = _int(e["value"], f"contact.{name}")
    if (e := rule("contact", "do_not_call_purposes")) is not None:
        contact["dnc_purposes"] = frozenset(str(p) for p in e["value"])
    rule("contact", "third_party")
    rules = ContactRules(**{**{k: getattr(d, k) for k in d.__dataclass_fields__}, **contact})

    margin = DEFAULT_MARGIN_PP
    if (e := rule("rate_cap", "margin_pp")) is not None:
        margin = parse_rate(e["value"], field="rate_cap.margin_pp")

    default_years = 5
    by_kind = {"call": 5, "bot": 5, "outbound": 5}
    if (e := rule("retention", "default_years")) is not None:
        default_years = _int(e["value"], "retention.default_years")
    if (e := rule("retention", "years_by_kind")) is not None:
        by_kind = {str(k): _int(v, f"retention.years_by_kind.{k}") for k, v in e["value"].items()}

    otp_vals = {
        n: _int(e["value"], f"otp.{n}")
        for n in ("digits", "ttl_s", "max_attempts", "resend_interval_s", "max_sends")
        if (e := rule("otp", n)) is not None
    }
    login_d = LoginRules()
    login = LoginRules(
        ip_max_attempts=_int(
            _v(rule("login", "ip_max_attempts"), login_d.ip_max_attempts), "login.ip_max_attempts"
        ),
        ip_window_s=float(
            _int(_v(rule("login", "ip_window_s"), int(login_d.ip_window_s)), "login.ip_window_s")
        ),
        lock_after_failures=_int(
            _v(rule("login", "lock_after_failures"), login_d.lock_after_failures),
            "login.lock_after_failures",
        ),
        lock_s=float(_int(_v(rule("login", "lock_s"), int(login_d.lock_s)), "login.lock_s")),
    )
    return CompliancePolicy(
        contact=rules,
        rate_margin_pp=margin,
        retention=RetentionRules(default_years, by_kind),
        otp=OtpRules(**otp_vals),
        login=login,
        sources=sources,
    )
