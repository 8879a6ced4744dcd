"""Deadline-based pacing: frame ``n`` is due at ``t0 + n * period_s``, never ``last + period``.

Sleeping ``period_s`` after each send drifts by the loop's overhead every tick; computing
every deadline from ``t0`` does not. When the process falls behind (a GC pause, a busy core)
``due`` says how many frames are owed; beyond ``max_burst`` they are skipped rather than sent
in a burst, so a late process never floods the network.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(slots=True)
class Pacer:
    """Frame schedule from a monotonic origin. Times in seconds."""

    t0_s: float
    period_s: float = 0.020
    max_burst: int = 3
    sent: int = 0
    skipped: int = 0

    def next_deadline(self) -> float:
        """When the next frame is due (seconds, same clock as ``t0_s``)."""
        return self.t0_s + self.sent * self.period_s

    def due(self, now_s: float) -> int:
        """How many frames to send now; advances the schedule by that many.

        Frames older than ``max_burst`` periods are dropped from the schedule (counted in
        ``skipped``) instead of being sent late.
        """
        owed = math.floor((now_s - self.t0_s) / self.period_s + 1e-9) + 1 - self.sent
        if owed <= 0:
            return 0
        if owed > self.max_burst:
            self.skipped += owed - self.max_burst
            self.sent += owed - self.max_burst
            owed = self.max_burst
        self.sent += owed
        return owed

    def lateness(self, now_s: float) -> float:
        """Seconds past the last due deadline (≥ 0), for measuring scheduler overruns."""
        return max(0.0, now_s - (self.t0_s + (self.sent - 1) * self.period_s))
