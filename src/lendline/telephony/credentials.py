"""Agents' SIP digest credentials from the store (``agents.sip_user``/``sip_ha1_*``).

Lookups are cached for ``ttl_s`` so a phone re-registering does not hit the database each
time; ``set_password`` writes both HA1 values (the password itself is never stored).
"""

from __future__ import annotations

from sqlalchemy import select

from lendline.clock import Clock
from lendline.errors import NotFound
from lendline.store.base import Database
from lendline.store.models import AgentRow
from lendline.telephony.sip.digest import ha1


class AgentCredentials:
    def __init__(self, db: Database, realm: str, clock: Clock, *, ttl_s: float = 30.0) -> None:
        self.db = db
        self.realm = realm
        self.clock = clock
        self.ttl_s = ttl_s
        self._cache: dict[str, tuple[float, dict[str, str | None], str | None]] = {}

    def ha1(self, user: str) -> dict[str, str | None]:
        return self._row(user)[0]

    def agent_id(self, user: str) -> str | None:
        """The agent who owns SIP user ``user``."""
        return self._row(user)[1]

    def _row(self, user: str) -> tuple[dict[str, str | None], str | None]:
        now = self.clock.monotonic()
        hit = self._cache.get(user)
        if hit is not None and now - hit[0] < self.ttl_s:
            return hit[1], hit[2]
        with self.db.session() as s:
            row = s.scalars(
                select(AgentRow).where(AgentRow.sip_user == user, AgentRow.active.is_(True))
            ).first()
            creds: dict[str, str | None] = {}
            agent_id = None
            if row is not None:
                creds = {"MD5": row.sip_ha1_md5, "SHA-256": row.sip_ha1_sha256}
                agent_id = row.agent_id
        self._cache[user] = (now, creds, agent_id)
        return creds, agent_id

    def set_password(self, agent_id: str, password: str, *, sip_user: str | None = None) -> str:
        """Store the HA1s of ``password`` for the agent; returns its SIP user name."""
        with self.db.session() as s:
            row = s.get(AgentRow, agent_id)
            if row is None:
                raise NotFound(f"no agent {agent_id!r}", code="agent_not_found")
            row.sip_user = sip_user or row.sip_user or agent_id
            row.sip_ha1_md5 = ha1("MD5", row.sip_user, self.realm, password)
            row.sip_ha1_sha256 = ha1("SHA-256", row.sip_user, self.realm, password)
            user = row.sip_user
        self._cache.pop(user, None)
        return user
