"""Login throttling and lockout (pure; the caller passes monotonic seconds).

* per source address: at most ``ip_max_attempts`` login attempts per ``ip_window_s``
  (answer 429 ``too_many_attempts``);
* per username: ``lock_after_failures`` consecutive failures lock the account for
  ``lock_s`` (answer 423 ``account_locked``, even with the right password). The lock is kept
  in the users table by the edge so every node sees it; unknown usernames are counted here
  in memory so a probe cannot tell which names exist.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LoginRules:
    ip_max_attempts: int = 20
    ip_window_s: float = 60.0
    lock_after_failures: int = 5
    lock_s: float = 15 * 60.0


class AddressThrottle:
    """Sliding-window attempt counter per source address."""

    def __init__(self, rules: LoginRules) -> None:
        self.rules = rules
        self._seen: dict[str, deque[float]] = {}

    def allow(self, address: str, now_s: float) -> float:
        """Record an attempt; returns 0 when allowed, else seconds to wait."""
        q = self._seen.setdefault(address, deque())
        while q and q[0] <= now_s - self.rules.ip_window_s:
            q.popleft()
        if len(q) >= self.rules.ip_max_attempts:
            return q[0] + self.rules.ip_window_s - now_s
        q.append(now_s)
        if len(self._seen) > 100_000:  # bound memory under a spray of addresses
            self._seen = {a: d for a, d in self._seen.items() if d and d[-1] > now_s - 60}
        return 0.0


def after_failure(failures: int, rules: LoginRules) -> tuple[int, bool]:
    """(new failure count, lock now?)"""
    n = failures + 1
    return n, n >= rules.lock_after_failures
