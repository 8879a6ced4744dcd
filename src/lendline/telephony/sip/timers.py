"""RFC 3261 §17 / Table 4 timer values, in seconds, and the timer heap the endpoint pulls from."""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass
from typing import Any

T1_S = 0.5  # RTT estimate
T2_S = 4.0  # maximum retransmit interval for non-INVITE requests and INVITE responses
T4_S = 5.0  # maximum duration a message remains in the network
TRYING_S = 0.2  # a server INVITE sends 100 Trying if the TU has not answered by then


@dataclass(frozen=True, slots=True)
class TimerValues:
    """Per-endpoint timer values; tests may shrink them, production keeps the RFC's."""

    t1_s: float = T1_S
    t2_s: float = T2_S
    t4_s: float = T4_S
    trying_s: float = TRYING_S


class TimerHeap:
    """Deadlines of named timers on owners; cancelled entries are skipped lazily.

    An owner keeps ``timers: dict[str, float]`` with the deadline each live timer has;
    an entry popped from the heap fires only if it still matches that deadline.
    """

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Any, str]] = []
        self._seq = itertools.count()

    def __len__(self) -> int:
        return len(self._heap)

    def schedule(self, owner: Any, name: str, at_s: float) -> None:
        owner.timers[name] = at_s
        heapq.heappush(self._heap, (at_s, next(self._seq), owner, name))

    @staticmethod
    def cancel(owner: Any, name: str) -> None:
        owner.timers.pop(name, None)

    def next_deadline(self) -> float | None:
        heap = self._heap
        while heap:
            at, _, owner, name = heap[0]
            if owner.timers.get(name) == at:
                return at
            heapq.heappop(heap)
        return None

    def pop_due(self, now_s: float) -> list[tuple[Any, str]]:
        """Remove and return ``(owner, name)`` of every live timer due at ``now_s``."""
        due: list[tuple[Any, str]] = []
        heap = self._heap
        while heap and heap[0][0] <= now_s:
            at, _, owner, name = heapq.heappop(heap)
            if owner.timers.get(name) == at:
                del owner.timers[name]
                due.append((owner, name))
        return due
