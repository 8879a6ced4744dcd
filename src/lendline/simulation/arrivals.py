"""Synthetic arrivals from a scenario: a Poisson stream of callers with profiles.

Every random draw that decides an outcome (resolution, repeat delay, bot containment,
bot time) is made here, per caller, before any strategy runs, so ``--compare`` feeds all
strategies the same callers and the same luck; only the routing differs.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from lendline.simulation.scenario import Arrival, ProfileSpec, Scenario


@dataclass(frozen=True, slots=True)
class Luck:
    """A caller's pre-drawn uniforms and durations (seconds)."""

    u_resolve: float
    repeat_after_s: float
    u_bot: float
    bot_s: float


def luck_for(scenario: Scenario, key: str) -> Luck:
    rng = random.Random(f"{scenario.seed}:{key}")
    bot = next(iter(scenario.bot.values()), None)
    return Luck(
        u_resolve=rng.random(),
        repeat_after_s=scenario.model.repeat_after_s.sample(rng),
        u_bot=rng.random(),
        bot_s=bot.handle_s.sample(rng) if bot else 60.0,
    )


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    total = sum(weights.values())
    x = rng.random() * total
    for k, w in weights.items():
        x -= w
        if x <= 0:
            return k
    return next(reversed(weights))


def generate(scenario: Scenario) -> list[Arrival]:
    """All arrivals of the scenario, in time order (for ``--compare``: shared by strategies)."""
    return list(stream(scenario))


def stream(scenario: Scenario) -> Iterator[Arrival]:
    """Arrivals one at a time (long runs keep only the next one in memory)."""
    rng = random.Random(scenario.seed)
    rate_per_s = scenario.arrivals_per_hour / 3600.0
    horizon = scenario.hours * 3600.0
    profiles = scenario.profiles or [
        ProfileSpec(name="all", share=1.0, reasons={r: 1.0 for r in scenario.reasons})
    ]
    shares = {p.name: p.share for p in profiles}
    by_name = {p.name: p for p in profiles}
    t = 0.0
    n = 0
    while True:
        t += rng.expovariate(rate_per_s)
        if t >= horizon:
            return
        n += 1
        p = by_name[_pick(rng, shares)]
        reason = _pick(rng, p.reasons)
        spec = scenario.reasons[reason]
        amount = round(rng.uniform(*p.loan_amount_yuan), 2)
        overdue = rng.randint(*p.overdue_days)
        first = rng.random() < p.first_call
        since = rng.uniform(*p.days_since_last_contact) if p.days_since_last_contact else None
        yield (
            Arrival(
                at_s=t,
                customer_id=f"cust{n:06d}",
                reason=reason,
                service_s=spec.handle_s.sample(rng),
                patience_s=scenario.patience_s.sample(rng) if scenario.patience_s else None,
                profile={
                    "loan_amount_yuan": amount,
                    "loan_amount_fen": round(amount * 100),
                    "overdue_days": overdue,
                    "is_overdue": overdue > 0,
                    "credit_score": rng.randint(*p.credit_score),
                    "first_call": first,
                    "days_since_last_contact": None if first else since,
                    "segment": p.name,
                },
                skill=p.skill or spec.skill,
                first_call=first,
            )
        )
