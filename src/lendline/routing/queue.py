"""A skill queue: waiting calls in service order, with priority classes and aging.

Order. A call's effective priority grows linearly while it waits: ``priority + waited_s /
aging_s``. Comparing two calls at any instant ``now``, A goes before B when
``pA + (now − tA)/aging_s > pB + (now − tB)/aging_s``, i.e. when
``tA − pA·aging_s < tB − pB·aging_s``: the order does not change with time, so each call
gets a fixed rank key ``entered_s − priority·aging_s`` (smaller = sooner) and the queue
is a sorted list. FIFO within a priority class follows (same priority → earlier entry
first), and a low-priority call that has waited ``Δp·aging_s`` longer than a newer
high-priority one goes first, so nothing starves.

Storage: a Python list of ``(−key, −seq, call_id)`` kept ascending, so the head is the
last element (``pop()`` is O(1)); insert and position are a bisect (O(log n) compares
plus an O(n) memmove that is microseconds for 20,000 calls).
"""

from __future__ import annotations

from bisect import bisect_left, insort
from dataclasses import dataclass

from lendline.routing.config import QueueSpec
from lendline.routing.ewt import RecentStats

Entry = tuple[float, int, str]


@dataclass(slots=True)
class QueueCounters:
    offered: int = 0
    answered: int = 0
    answered_in_sl: int = 0
    abandoned: int = 0
    overflowed: int = 0
    wait_sum_s: float = 0.0

    @property
    def service_level(self) -> float:
        done = self.answered + self.abandoned
        return self.answered_in_sl / done if done else 1.0

    @property
    def abandon_rate(self) -> float:
        done = self.answered + self.abandoned
        return self.abandoned / done if done else 0.0


class SkillQueue:
    def __init__(self, spec: QueueSpec) -> None:
        self.spec = spec
        self.name = spec.name
        self.aging_s = spec.aging_s
        self._entries: list[Entry] = []
        self.stats = RecentStats(spec.default_aht_s)
        self.counters = QueueCounters()

    @property
    def spec(self) -> QueueSpec:
        return self._spec

    @spec.setter
    def spec(self, spec: QueueSpec) -> None:
        self._spec = spec
        self.skill = spec.required_skill  # cached: read on every decision
        self.floor = spec.floor_proficiency
        self.aging_s = spec.aging_s

    def __len__(self) -> int:
        return len(self._entries)

    def rank_key(self, entered_s: float, priority: int) -> float:
        return entered_s - priority * self.aging_s

    def push(self, key: float, seq: int, call_id: str) -> Entry:
        entry = (-key, -seq, call_id)
        insort(self._entries, entry)
        return entry

    def push_head(self, seq: int, call_id: str, own_key: float) -> Entry:
        """Put a call back at the very head (a missed or declined offer)."""
        key = own_key
        if self._entries:
            key = min(key, -self._entries[-1][0] - 1e-3)
        return self.push(key, seq, call_id)

    def remove(self, entry: Entry) -> bool:
        i = bisect_left(self._entries, entry)
        if i < len(self._entries) and self._entries[i] == entry:
            del self._entries[i]
            return True
        return False

    def peek(self) -> Entry | None:
        return self._entries[-1] if self._entries else None

    def from_head(self, limit: int) -> list[Entry]:
        """The first ``limit`` entries in service order."""
        return self._entries[: -limit - 1 : -1]

    def position(self, entry: Entry) -> int:
        """1-based position of ``entry`` (1 = next to be served)."""
        return len(self._entries) - bisect_left(self._entries, entry)

    def position_for(self, key: float, seq: int) -> int:
        """The position a new entry with this key would take."""
        return len(self._entries) - bisect_left(self._entries, (-key, -seq, "")) + 1

    def call_ids(self) -> list[str]:
        """Waiting calls in service order (head first)."""
        return [e[2] for e in reversed(self._entries)]
