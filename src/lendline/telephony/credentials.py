"""SIP digest credentials from the store: agents (``agents.sip_user``/``sip_ha1_*``) and
the staff who may supervise calls (``staff_sip_accounts``: supervisors and team leads).

A SIP user is looked up among the agents first, then among active staff whose role may
listen in (``supervise.listen``); a deactivated user or a changed role stops the phone
registering within ``ttl_s``. Lookups are cached for ``ttl_s`` so a phone re-registering
does not hit the database each time; ``set_password`` / ``set_staff_password`` write both
HA1 values (the password itself is never stored).
"""

from __future__ import annotations

from sqlalchemy import select

from lendline.clock import Clock
from lendline.compliance.rbac import allowed
from lendline.errors import Conflict, NotFound
from lendline.store.base import Database
from lendline.store.models import AgentRow
from lendline.store.models_auth import UserRow
from lendline.store.models_telephony import StaffSipAccountRow
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
            else:
                staff = s.execute(
                    select(StaffSipAccountRow, UserRow.role)
                    .join(UserRow, UserRow.username == StaffSipAccountRow.username)
                    .where(StaffSipAccountRow.sip_user == user, UserRow.active.is_(True))
                ).first()
                if staff is not None and allowed(staff[1], "supervise.listen"):
                    creds = {"MD5": staff[0].sip_ha1_md5, "SHA-256": staff[0].sip_ha1_sha256}
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

    def staff_sip_user(self, username: str) -> str | None:
        """The SIP user of a supervisor's or team lead's softphone (None: none set)."""
        with self.db.session() as s:
            return s.scalar(
                select(StaffSipAccountRow.sip_user).where(StaffSipAccountRow.username == username)
            )

    def set_staff_password(self, username: str, password: str) -> str:
        """Give user ``username`` (a role that may supervise calls) a softphone account; the
        SIP user is the user name. Returns it."""
        with self.db.session() as s:
            user = s.scalars(select(UserRow).where(UserRow.username == username)).first()
            if user is None:
                raise NotFound(f"no user {username!r}", code="user_not_found")
            if not allowed(user.role, "supervise.listen"):
                raise Conflict(
                    f"{username} 不是班长/主管，无需监听电话 / {username} may not supervise calls",
                    code="not_a_supervisor",
                )
            taken = s.scalar(select(AgentRow.agent_id).where(AgentRow.sip_user == username))
            if taken is not None:
                raise Conflict(
                    f"SIP user {username!r} belongs to agent {taken}", code="sip_user_taken"
                )
            row = s.get(StaffSipAccountRow, username)
            if row is None:
                row = StaffSipAccountRow(username=username, sip_user=username)
                s.add(row)
            row.sip_ha1_md5 = ha1("MD5", row.sip_user, self.realm, password)
            row.sip_ha1_sha256 = ha1("SHA-256", row.sip_user, self.realm, password)
            sip_user = row.sip_user
        self._cache.pop(sip_user, None)
        return sip_user
