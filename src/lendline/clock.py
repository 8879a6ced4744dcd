"""Clocks. The core never reads the time itself: it is handed a ``Clock``.

``SystemClock`` is used at the edges; ``ManualClock`` in tests and the simulator.
All values are seconds (float) for monotonic time and aware UTC datetimes for wall time.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds from an arbitrary origin; never goes backwards."""
        ...

    def now(self) -> datetime:
        """Wall-clock time, timezone-aware UTC."""
        ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told to; ``start`` is the wall time at t=0."""

    def __init__(self, start: datetime | None = None, t0_s: float = 0.0) -> None:
        self._t = t0_s
        self._start = start or datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
        self._t0 = t0_s

    def monotonic(self) -> float:
        return self._t

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self._t - self._t0)

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock does not go backwards")
        self._t += seconds

    def set(self, t_s: float) -> None:
        if t_s < self._t:
            raise ValueError("a clock does not go backwards")
        self._t = t_s
