"""Run one strategy or compare several on the same arrivals; the M/M/c check."""

from __future__ import annotations

from collections.abc import Callable

from lendline.routing.ewt import erlang_c_wait_s
from lendline.simulation.arrivals import stream
from lendline.simulation.scenario import (
    Arrival,
    Dist,
    Model,
    ReasonSpec,
    ResolutionModel,
    Scenario,
    StaffGroup,
)
from lendline.simulation.sim import SimResult, Simulation
from lendline.simulation.strategies import STRATEGIES


def run_strategy(
    scenario: Scenario,
    strategy: str,
    arrivals: list[Arrival] | None = None,
    progress: Callable[[float], None] | None = None,
) -> SimResult:
    """Run ``strategy`` on ``arrivals`` (or on the scenario's own stream, generated lazily)."""
    try:
        build = STRATEGIES[strategy]
    except KeyError:
        known = ", ".join(STRATEGIES)
        raise ValueError(f"unknown strategy {strategy!r} (known: {known})") from None
    config, selector = build(scenario)
    if arrivals is None:
        sim = Simulation(
            scenario,
            stream(scenario),
            config,
            selector,
            strategy=strategy,
            progress=progress,
            horizon_s=scenario.hours * 3600.0,
        )
    else:
        sim = Simulation(scenario, arrivals, config, selector, strategy=strategy, progress=progress)
    return sim.run()


def mmc_scenario(
    agents: int, arrivals_per_hour: float, aht_s: float, hours: float, seed: int
) -> Scenario:
    """An M/M/c queue: Poisson arrivals, exponential service, no abandon, no wrap-up,
    every call resolved (no repeat calls)."""
    return Scenario(
        name="mmc",
        seed=seed,
        hours=hours,
        arrivals_per_hour=arrivals_per_hour,
        patience_s=None,
        reasons={
            "other": ReasonSpec(skill="general", handle_s=Dist(dist="exponential", mean=aht_s))
        },
        staffing=[StaffGroup(count=agents, skills={"general": (5, 5)})],
        wrap_up_s=0.0,
        model=Model(resolution=ResolutionModel(base=1.0, per_level=0.0, max=1.0)),
    )


def erlang_check(
    agents: int = 10,
    arrivals_per_hour: float = 160.0,
    aht_s: float = 180.0,
    hours: float = 400.0,
    seed: int = 11,
) -> dict[str, float]:
    """Simulated ASA (all calls wait in M/M/c) against Erlang C's mean wait."""
    sc = mmc_scenario(agents, arrivals_per_hour, aht_s, hours, seed)
    result = run_strategy(sc, "fifo")
    theory = erlang_c_wait_s(agents, arrivals_per_hour / 3600.0, aht_s)
    return {
        "agents": agents,
        "offered_erlangs": arrivals_per_hour * aht_s / 3600.0,
        "calls": result.calls,
        "simulated_asa_s": result.asa_s,
        "erlang_c_asa_s": theory,
        "relative_error": abs(result.asa_s - theory) / theory,
    }
