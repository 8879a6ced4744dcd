from lendline.integration.resilience import BreakerState, CircuitBreaker, TTLCache


def test_breaker_opens_after_threshold_and_probes_once_half_open() -> None:
    b = CircuitBreaker(failure_threshold=3, open_s=10.0)
    for t in (0.0, 1.0):
        assert b.allow(t)
        b.record_failure(t)
    assert b.state is BreakerState.CLOSED
    b.record_failure(2.0)
    assert b.state is BreakerState.OPEN
    assert not b.allow(5.0)
    assert b.allow(12.5)  # half-open: one probe
    assert b.state is BreakerState.HALF_OPEN
    assert not b.allow(12.6)  # a second caller waits for the probe
    b.record_failure(13.0)
    assert b.state is BreakerState.OPEN and not b.allow(20.0)
    assert b.allow(23.5)
    b.record_success()
    assert b.state is BreakerState.CLOSED and b.failures == 0 and b.allow(23.6)


def test_success_resets_the_failure_count() -> None:
    b = CircuitBreaker(failure_threshold=2, open_s=1.0)
    b.record_failure(0.0)
    b.record_success()
    b.record_failure(0.1)
    assert b.state is BreakerState.CLOSED


def test_cache_expires_and_evicts_least_recent() -> None:
    c: TTLCache[int] = TTLCache(ttl_s=5.0, max_entries=2)
    c.put("a", 1, 0.0)
    c.put("b", 2, 0.0)
    assert c.get("a", 1.0) == 1  # a is now most recent
    c.put("c", 3, 1.0)
    assert c.get("b", 1.0) is None and c.get("a", 1.0) == 1
    assert c.get("a", 6.5) is None
    assert len(c) == 1
