"""HTTP connectors against a real local HTTP server playing the lender's systems."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from lendline.clock import ManualClock
from lendline.domain.call import Call
from lendline.errors import NotFound, UpstreamError
from lendline.integration.http import HttpCustomers, HttpLoans, HttpPolicy, HttpRisk, LenderHttp
from lendline.integration.resilience import BreakerState
from lendline.integration.screenpop import Connectors, ScreenPopAssembler

from .lender_server import LenderServer

# A generous timeout where the server answers at once: a 0.3 s one timed out on a loaded
# machine, and the retry it caused changed the request counts the tests assert. Timeouts
# themselves are tested with a slow server and their own short policy.
FAST = HttpPolicy(timeout_s=5.0, retries=2, backoff_s=0.01, cache_ttl_s=30.0, breaker_failures=3)


@pytest.fixture
def server() -> Iterator[LenderServer]:
    with LenderServer() as s:
        yield s


async def test_answers_are_parsed_and_cached(server: LenderServer) -> None:
    clock = ManualClock()
    http = LenderHttp(server.url, name="crm", policy=FAST, clock=clock)
    crm, los, risk = HttpCustomers(http), HttpLoans(http), HttpRisk(http)
    p = await crm.profile("C000001")
    assert p.name == "李四" and p.credit_score == 580
    assert (await los.loans("C000001"))[0].overdue_days == 31
    assert (await los.repayments("C000001"))[0].status == "missed"
    assert (await risk.risk("C000001")).flags[0].flag == "multi_borrowing"
    assert (await crm.contacts("C000001"))[0].summary == "催收提醒"
    n = len(server.requests)
    await crm.profile("C000001")
    assert len(server.requests) == n  # served from the cache
    clock.advance(31)
    await crm.profile("C000001")
    assert len(server.requests) == n + 1
    await http.aclose()


async def test_unknown_customer_is_not_found_and_ids_are_escaped(server: LenderServer) -> None:
    http = LenderHttp(server.url, name="crm", policy=FAST)
    with pytest.raises(NotFound):
        await HttpCustomers(http).profile("C404/../../admin?x=1")
    assert server.requests[-1].startswith("/customers/C404%2F..%2F..%2Fadmin%3Fx%3D1")
    await http.aclose()


async def test_flaky_system_is_retried_with_backoff(server: LenderServer) -> None:
    server.mode, server.fail_times = "flaky", 2
    http = LenderHttp(server.url, name="risk", policy=FAST)
    report = await HttpRisk(http).risk("C000001")
    assert report.flags and len(server.requests) == 3
    assert http.breaker.state is BreakerState.CLOSED
    await http.aclose()


@pytest.mark.parametrize("mode", ["garbage", "malformed"])
async def test_malformed_answers_are_refused_without_retry(server: LenderServer, mode: str) -> None:
    server.mode = mode
    http = LenderHttp(server.url, name="los", policy=FAST)
    with pytest.raises(UpstreamError) as exc:
        await HttpLoans(http).loans("C000001")
    assert exc.value.code == "upstream_malformed"
    assert len(server.requests) == 1
    await http.aclose()


async def test_timeouts_and_hang_ups_are_upstream_errors(server: LenderServer) -> None:
    server.mode, server.delay_s = "slow", 0.6
    http = LenderHttp(server.url, name="crm", policy=HttpPolicy(timeout_s=0.1, retries=0))
    with pytest.raises(UpstreamError) as exc:
        await HttpCustomers(http).profile("C000001")
    assert exc.value.code == "upstream_timeout"
    server.mode = "hang_up"
    with pytest.raises(UpstreamError) as exc:
        await HttpCustomers(http).profile("C000001")
    assert exc.value.code == "upstream_unavailable"
    await http.aclose()


async def test_dead_system_opens_the_breaker_then_recovers(server: LenderServer) -> None:
    server.mode = "error"
    clock = ManualClock()
    http = LenderHttp(
        server.url,
        name="risk",
        policy=HttpPolicy(timeout_s=5.0, retries=0, breaker_failures=3, breaker_open_s=10.0),
        clock=clock,
    )
    for _ in range(3):
        with pytest.raises(UpstreamError):
            await HttpRisk(http).risk("C000001")
    assert http.breaker.state is BreakerState.OPEN
    n = len(server.requests)
    with pytest.raises(UpstreamError) as exc:
        await HttpRisk(http).risk("C000001")
    assert exc.value.code == "upstream_circuit_open" and len(server.requests) == n
    server.mode = "ok"
    clock.advance(11)
    assert (await HttpRisk(http).risk("C000001")).flags
    assert http.breaker.state is BreakerState.CLOSED
    await http.aclose()


async def test_screen_pop_with_a_slow_lender_comes_by_the_deadline(server: LenderServer) -> None:
    server.mode, server.delay_s = "slow", 1.5
    http = LenderHttp(server.url, name="lender", policy=HttpPolicy(timeout_s=2.0, retries=0))
    pop_maker = ScreenPopAssembler(
        Connectors(HttpCustomers(http), HttpLoans(http), HttpRisk(http)), deadline_s=0.3
    )
    t0 = time.perf_counter()
    pop = await pop_maker.assemble(Call(call_id="c1", customer_id="C000001"), "agent01")
    assert time.perf_counter() - t0 < 1.0
    assert {m["part"] for m in pop["missing"]} == {
        "customer",
        "contacts",
        "loans",
        "repayments",
        "risk",
    }
    assert any(m["label_zh"] == "风控系统未响应" for m in pop["missing"])
    await http.aclose()
