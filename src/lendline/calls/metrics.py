"""Prometheus figures of routing, read from the live call centre at scrape time.

``lendline_queue_waiting{queue}``, ``lendline_queue_ewt_seconds{queue}``,
``lendline_queue_longest_wait_seconds{queue}``, ``lendline_agents{state}``,
``lendline_routing_decisions_total`` and ``lendline_routing_decisions_per_second``
(since the previous scrape). One collector is registered per process; it reports the call
centre attached last (the one the running app serves).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from typing import TYPE_CHECKING

import structlog
from prometheus_client import REGISTRY
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from lendline.calls.service import EngineCallCenter


log = structlog.get_logger(__name__)


class RoutingCollector(Collector):
    def __init__(self) -> None:
        self._ref: weakref.ReferenceType[EngineCallCenter] | None = None
        self._last: tuple[float, int] | None = None
        self._lock = threading.Lock()

    def attach(self, center: EngineCallCenter) -> None:
        with self._lock:
            self._ref = weakref.ref(center)
            self._last = None

    def collect(self) -> Iterator[Metric]:
        center = self._ref() if self._ref is not None else None
        if center is None:
            return
        try:
            metrics = self._figures(center)
        except Exception as exc:  # a scrape never fails: the process's other figures stand
            log.warning("routing_metrics_unavailable", error=repr(exc))
            return
        yield from metrics

    def _figures(self, center: EngineCallCenter) -> list[Metric]:
        """Every routing figure, read before any is reported (all or none)."""
        waiting = GaugeMetricFamily("lendline_queue_waiting", "Calls waiting", labels=["queue"])
        ewt = GaugeMetricFamily(
            "lendline_queue_ewt_seconds", "Estimated wait of a new call", labels=["queue"]
        )
        longest = GaugeMetricFamily(
            "lendline_queue_longest_wait_seconds", "Longest current wait", labels=["queue"]
        )
        for q in center.queues():
            waiting.add_metric([q.queue], q.waiting)
            ewt.add_metric([q.queue], q.ewt_s)
            longest.add_metric([q.queue], q.longest_wait_s)
        agents = GaugeMetricFamily("lendline_agents", "Agents by state", labels=["state"])
        by_state: dict[str, int] = {}
        for a in center.agents():
            by_state[a.state.value] = by_state.get(a.state.value, 0) + 1
        for state, n in sorted(by_state.items()):
            agents.add_metric([state], n)
        made = center.decisions_made
        decisions = CounterMetricFamily(
            "lendline_routing_decisions", "Routing decisions made", value=made
        )
        now = center.clock.monotonic()
        with self._lock:
            rate = 0.0
            if self._last is not None and now > self._last[0]:
                rate = (made - self._last[1]) / (now - self._last[0])
            self._last = (now, made)
        per_s = GaugeMetricFamily(
            "lendline_routing_decisions_per_second", "Decisions per second since last scrape"
        )
        per_s.add_metric([], rate)
        return [waiting, ewt, longest, agents, decisions, per_s]


COLLECTOR = RoutingCollector()
REGISTRY.register(COLLECTOR)
