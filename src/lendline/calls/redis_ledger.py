"""Agent reservations agreed by several nodes in Redis (the engine's ``ReservationLedger``).

``reserve`` is one ``SET lendline:agent:<id> <call_id> NX PX <hold>``: of two nodes offering
calls to the same agent at the same instant exactly one wins; the loser's call stays in its
queue. ``release`` deletes the key only if this call still holds it (a Lua compare-and-
delete), so a late release never frees an agent that has moved on. The hold expires after
``hold_s`` (default 4 h) so a node that dies cannot pin an agent forever.

Scope: this guarantees that no agent is offered two calls across nodes. Each node still
keeps its own view of agent states; sharing those views (Redis Streams) is the next step.
"""

from __future__ import annotations

from typing import Any

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class RedisLedger:
    def __init__(self, client: Any, *, prefix: str = "lendline:agent:", hold_s: float = 4 * 3600):
        self.client = client
        self.prefix = prefix
        self.hold_ms = int(hold_s * 1000)
        self._release = client.register_script(_RELEASE)

    def _key(self, agent_id: str) -> str:
        return f"{self.prefix}{agent_id}"

    def reserve(self, agent_id: str, call_id: str, ttl_s: float) -> bool:
        key = self._key(agent_id)
        if self.client.set(key, call_id, nx=True, px=self.hold_ms):
            return True
        current = self.client.get(key)
        return current is not None and _text(current) == call_id

    def release(self, agent_id: str, call_id: str) -> None:
        self._release(keys=[self._key(agent_id)], args=[call_id])

    def holder(self, agent_id: str) -> str | None:
        value = self.client.get(self._key(agent_id))
        return None if value is None else _text(value)

    def clear(self, agent_ids: list[str]) -> None:
        """Forget holds of these agents (tests, or an operator resetting a node)."""
        if agent_ids:
            self.client.delete(*(self._key(a) for a in agent_ids))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def ledger_from_url(url: str, *, prefix: str = "lendline:agent:") -> RedisLedger:
    import redis

    return RedisLedger(redis.Redis.from_url(url), prefix=prefix)
