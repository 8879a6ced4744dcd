"""Circuit breaker and a short TTL cache for the HTTP connectors (sans-I/O: told the time).

Circuit breaker state table (``(state, event) -> new state``)::

    closed    --failure (count < threshold)-->  closed
    closed    --failure (count = threshold)-->  open       (refuse calls for open_s)
    closed    --success-->                      closed     (count reset)
    open      --allow after open_s-->           half_open  (one probe call let through)
    half_open --success-->                      closed
    half_open --failure-->                      open       (another open_s)
"""

from __future__ import annotations

from collections import OrderedDict
from enum import StrEnum
from typing import Generic, TypeVar

T = TypeVar("T")


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Stops calling a system that keeps failing, so a dead CRM costs nothing per call."""

    def __init__(self, *, failure_threshold: int = 5, open_s: float = 10.0) -> None:
        self.failure_threshold = failure_threshold
        self.open_s = open_s
        self.state = BreakerState.CLOSED
        self.failures = 0
        self._opened_at_s = 0.0
        self._probe_out = False

    def allow(self, now_s: float) -> bool:
        """May a call go out now? In half-open, only one probe at a time."""
        if self.state is BreakerState.OPEN:
            if now_s - self._opened_at_s < self.open_s:
                return False
            self.state = BreakerState.HALF_OPEN
            self._probe_out = False
        if self.state is BreakerState.HALF_OPEN:
            if self._probe_out:
                return False
            self._probe_out = True
        return True

    def record_success(self) -> None:
        self.state = BreakerState.CLOSED
        self.failures = 0
        self._probe_out = False

    def record_failure(self, now_s: float) -> None:
        if self.state is BreakerState.HALF_OPEN:
            self._open(now_s)
            return
        self.failures += 1
        if self.failures >= self.failure_threshold:
            self._open(now_s)

    def _open(self, now_s: float) -> None:
        self.state = BreakerState.OPEN
        self._opened_at_s = now_s
        self._probe_out = False


class TTLCache(Generic[T]):
    """A small LRU cache whose entries expire after ``ttl_s`` seconds."""

    def __init__(self, *, ttl_s: float = 30.0, max_entries: int = 2048) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._items: OrderedDict[str, tuple[float, T]] = OrderedDict()

    def get(self, key: str, now_s: float) -> T | None:
        item = self._items.get(key)
        if item is None:
            return None
        stored_s, value = item
        if now_s - stored_s > self.ttl_s:
            del self._items[key]
            return None
        self._items.move_to_end(key)
        return value

    def put(self, key: str, value: T, now_s: float) -> None:
        self._items[key] = (now_s, value)
        self._items.move_to_end(key)
        while len(self._items) > self.max_entries:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)
