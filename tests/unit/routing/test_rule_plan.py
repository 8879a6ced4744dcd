"""The folded rule plan decides exactly like evaluating the rules one by one."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from lendline.routing.config import RoutingConfig, Rule, Target
from lendline.routing.expr import compile_expression
from lendline.routing.rules import decide

CONDITIONS = [
    "reason == 'a'",
    "reason == 'b'",
    "'a' == reason",
    "reason == 1",
    "product == 'car'",
    "credit_score > 600",
    "reason in ['a', 'c']",
    "true",
    "reason == 'a' and vip",
]
values = st.one_of(st.none(), st.sampled_from(["a", "b", "c", "car"]), st.integers(0, 1))


def naive(config: RoutingConfig, env: dict[str, object]) -> str | None:
    for rule in config.rules:
        if rule.when(env):
            return rule.name
    return None


@settings(max_examples=300, deadline=None)
@given(
    conds=st.lists(st.sampled_from(CONDITIONS), min_size=0, max_size=12),
    reason=st.one_of(values, st.just(["a"])),
    product=values,
    score=st.one_of(st.none(), st.integers(0, 900)),
    vip=st.booleans(),
)
def test_plan_matches_naive_order(
    conds: list[str], reason: object, product: object, score: int | None, vip: bool
) -> None:
    rules = tuple(
        Rule(f"r{i}", compile_expression(c), Target("queue", "q")) for i, c in enumerate(conds)
    )
    config = RoutingConfig(queues={}, rules=rules, default=Target("queue", "q"))
    env = {"reason": reason, "product": product, "credit_score": score, "vip": vip}
    assert decide(config, env).rule == naive(config, env)
