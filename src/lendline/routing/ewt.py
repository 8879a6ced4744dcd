"""Estimated wait time: Erlang C (M/M/c) and a live estimate from recent statistics.

Erlang C, with ``a = λ/μ`` offered load in Erlangs and ``c`` agents (``a < c``)::

    B(0) = 1;  B(k) = a·B(k-1) / (k + a·B(k-1))          (Erlang B recursion, stable)
    C(c, a) = c·B / (c − a·(1 − B))                         probability of waiting
    W_q = C / (c·μ − λ)                                     mean wait, seconds
    P(W ≤ t) = 1 − C·exp(−(c·μ − λ)·t)                      service level

Live estimate for the k-th waiting call with ``free`` eligible agents free, ``n`` agents
serving the queue and a recent average handle time ``aht_s``: ``max(0, k − free)·aht_s/n``
(in M/M/c, with all agents busy, departures come every ``aht_s/n`` seconds on average).
"""

from __future__ import annotations

import math
from collections import deque

INFINITE_WAIT_S = 3600.0  # what we announce when no agent serves a queue


def erlang_b(c: int, a: float) -> float:
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(c: int, a: float) -> float:
    """Probability that an arriving call waits (1.0 when the queue is unstable)."""
    if c <= 0 or a >= c:
        return 1.0
    if a <= 0:
        return 0.0
    b = erlang_b(c, a)
    return c * b / (c - a * (1.0 - b))


def erlang_c_wait_s(c: int, arrivals_per_s: float, aht_s: float) -> float:
    """Mean wait in queue (all calls, seconds) of an M/M/c queue; ``inf`` if unstable."""
    if arrivals_per_s <= 0:
        return 0.0
    a = arrivals_per_s * aht_s
    if c <= 0 or a >= c:
        return math.inf
    mu = 1.0 / aht_s
    return erlang_c(c, a) / (c * mu - arrivals_per_s)


def erlang_c_service_level(c: int, arrivals_per_s: float, aht_s: float, t_s: float) -> float:
    """Share of calls answered within ``t_s`` seconds."""
    a = arrivals_per_s * aht_s
    if c <= 0 or a >= c:
        return 0.0
    return 1.0 - erlang_c(c, a) * math.exp(-(c / aht_s - arrivals_per_s) * t_s)


def live_wait_s(position: int, free: int, serving: int, aht_s: float) -> float:
    """Estimated wait of the call at 1-based ``position`` (see the module docstring)."""
    ahead = position - free
    if ahead <= 0:
        return 0.0
    if serving <= 0:
        return INFINITE_WAIT_S
    return min(INFINITE_WAIT_S, ahead * aht_s / serving)


class RecentStats:
    """Rolling figures of one queue: handle times and arrival times (seconds)."""

    def __init__(self, default_aht_s: float, window: int = 200, rate_window_s: float = 1800.0):
        self.default_aht_s = default_aht_s
        self.handle_s: deque[float] = deque(maxlen=window)
        self._handle_sum = 0.0
        self.arrivals: deque[float] = deque()
        self.rate_window_s = rate_window_s

    def add_handle(self, seconds: float) -> None:
        if len(self.handle_s) == self.handle_s.maxlen:
            self._handle_sum -= self.handle_s[0]
        self.handle_s.append(seconds)
        self._handle_sum += seconds

    @property
    def aht_s(self) -> float:
        n = len(self.handle_s)
        return self._handle_sum / n if n >= 5 else self.default_aht_s

    def add_arrival(self, at_s: float) -> None:
        self.arrivals.append(at_s)
        self._trim(at_s)

    def _trim(self, now_s: float) -> None:
        while self.arrivals and self.arrivals[0] < now_s - self.rate_window_s:
            self.arrivals.popleft()

    def arrival_rate(self, now_s: float) -> float:
        """Calls per second over the window (or since the first arrival, if shorter)."""
        self._trim(now_s)
        if len(self.arrivals) < 2:
            return 0.0
        span = max(now_s - self.arrivals[0], 1.0)
        return len(self.arrivals) / span
