"""The reservation seam: who holds each agent. One holder per agent, atomically.

The engine asks the ledger before offering a call to an agent. ``InMemoryLedger`` serves
one node; ``lendline.calls.redis_ledger.RedisLedger`` (``SET agent NX``) lets several
nodes share agents so that no agent is ever offered two calls.
"""

from __future__ import annotations

from typing import Protocol


class ReservationLedger(Protocol):
    def reserve(self, agent_id: str, call_id: str, ttl_s: float) -> bool:
        """Take ``agent_id`` for ``call_id``; False if someone else holds it."""
        ...

    def release(self, agent_id: str, call_id: str) -> None:
        """Let go of ``agent_id`` if (and only if) ``call_id`` holds it."""
        ...

    def holder(self, agent_id: str) -> str | None: ...


class InMemoryLedger:
    def __init__(self) -> None:
        self._holders: dict[str, str] = {}

    def reserve(self, agent_id: str, call_id: str, ttl_s: float) -> bool:
        current = self._holders.get(agent_id)
        if current is not None and current != call_id:
            return False
        self._holders[agent_id] = call_id
        return True

    def release(self, agent_id: str, call_id: str) -> None:
        if self._holders.get(agent_id) == call_id:
            del self._holders[agent_id]

    def holder(self, agent_id: str) -> str | None:
        return self._holders.get(agent_id)
