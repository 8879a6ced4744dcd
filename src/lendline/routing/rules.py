"""Profile rules: first match wins → a ``RoutingDecision`` with the rule's name and reason."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from lendline.calls.api import RoutingDecision
from lendline.routing.config import RoutingConfig


def decide(config: RoutingConfig, env: Mapping[str, Any]) -> RoutingDecision:
    """Evaluate the rules in order over ``env`` (profile + call + local time)."""
    for rule in config.rules:
        if rule.when(env):
            kind = rule.target.kind
            return RoutingDecision(
                target_kind=kind,  # type: ignore[arg-type]
                target=rule.target.name,
                priority=rule.priority,
                rule=rule.name,
                reason=rule.reason or f"规则 {rule.name} 命中 (rule {rule.name} matched)",
            )
    return RoutingDecision(
        target_kind=config.default.kind,  # type: ignore[arg-type]
        target=config.default.name,
        priority=config.default_priority,
        rule=None,
        reason="无规则命中，默认路由 (no rule matched: default)",
    )


def time_fields(now: datetime, timezone: str = "Asia/Shanghai") -> dict[str, int]:
    """hour, minute_of_day and weekday (0 = Monday) in the centre's local time."""
    local = now.astimezone(ZoneInfo(timezone))
    return {
        "hour": local.hour,
        "minute_of_day": local.hour * 60 + local.minute,
        "weekday": local.weekday(),
    }
