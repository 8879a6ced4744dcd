"""Profile rules: first match wins → a ``RoutingDecision`` with the rule's name and reason."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from lendline.calls.api import RoutingDecision
from lendline.routing.config import RoutingConfig, Rule

# A plan step: a single rule, or a run of consecutive ``field == constant`` rules on the
# same field folded into one dict lookup (first match wins, so the first rule per constant).
Step = tuple[Rule, None, None] | tuple[None, str, dict[Any, Rule]]


def plan(rules: tuple[Rule, ...]) -> list[Step]:
    """Fold runs of equality rules on one field into lookups; order and result unchanged."""
    steps: list[Step] = []
    for rule in rules:
        eq = rule.when.eq
        if eq is not None:
            field, const = eq
            last = steps[-1] if steps else None
            if last is not None and last[1] == field and last[2] is not None:
                last[2].setdefault(const, rule)
                continue
            steps.append((None, field, {const: rule}))
        else:
            steps.append((rule, None, None))
    return steps


def _decision(rule: Rule, cache: dict[str, RoutingDecision]) -> RoutingDecision:
    """The decision a rule gives; built once per rule set (``RoutingDecision`` is frozen)."""
    d = cache.get(rule.name)
    if d is None:
        d = cache[rule.name] = RoutingDecision(
            target_kind=rule.target.kind,  # type: ignore[arg-type]
            target=rule.target.name,
            priority=rule.priority,
            rule=rule.name,
            reason=rule.reason or f"规则 {rule.name} 命中 (rule {rule.name} matched)",
        )
    return d


def decide(config: RoutingConfig, env: Mapping[str, Any]) -> RoutingDecision:
    """Evaluate the rules in order over ``env`` (profile + call + local time)."""
    steps = config.extra.get("_plan")
    if steps is None or config.extra.get("_plan_of") is not config.rules:
        # (re)built when the rules change, also after dataclasses.replace(config, rules=…)
        steps = config.extra["_plan"] = plan(config.rules)
        config.extra["_plan_of"] = config.rules
        config.extra["_decisions"] = {}
    cache: dict[str, RoutingDecision] = config.extra["_decisions"]
    for rule, field, table in steps:
        if rule is not None:
            if rule.when.fn(env):
                return _decision(rule, cache)
        else:
            assert field is not None and table is not None
            try:
                hit = table.get(env.get(field))
            except TypeError:  # an unhashable value equals no literal
                hit = None
            if hit is not None:
                return _decision(hit, cache)
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
