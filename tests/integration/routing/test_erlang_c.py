"""Queueing theory check: on an M/M/c scenario the engine's simulated ASA matches Erlang C.

10 agents, 160 calls/h, exponential handle time of 180 s (8 Erlangs, 80 % occupancy),
no abandon, no wrap-up, FIFO. 3,000 simulated hours (~480,000 calls, seeded) so that the
estimate's own noise (σ ≈ 3 % at 190,000 calls over 4 seeds, so ≈ 2 % here) stays inside the 5 % bound.
"""

from __future__ import annotations

import pytest

from lendline.routing.ewt import erlang_c_wait_s
from lendline.simulation.arrivals import stream
from lendline.simulation.runner import mmc_scenario, run_strategy


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_simulated_asa_matches_erlang_c_within_5_percent() -> None:
    sc = mmc_scenario(agents=10, arrivals_per_hour=160, aht_s=180, hours=3000, seed=1)
    result = run_strategy(sc, "fifo")  # arrivals streamed: nothing per call is kept
    assert result.answered == result.calls  # nobody abandons in M/M/c
    theory = erlang_c_wait_s(10, 160 / 3600, 180)
    assert theory == pytest.approx(36.83, abs=0.01)
    assert abs(result.asa_s - theory) / theory < 0.05, (result.asa_s, theory)
    # and against the offered load the callers actually brought (realised λ and AHT)
    n = total_s = 0.0
    for a in stream(sc):
        n += 1
        total_s += a.service_s
    lam, aht = n / (3000 * 3600), total_s / n
    realised = erlang_c_wait_s(10, lam, aht)
    assert abs(result.asa_s - realised) / realised < 0.05, (result.asa_s, realised)
