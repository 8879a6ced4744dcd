"""Repository of users."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lendline.compliance.passwords import hash_password
from lendline.compliance.rbac import Role
from lendline.errors import Conflict, ValidationError
from lendline.store.models_auth import UserRow


class UserRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def by_username(self, username: str) -> UserRow | None:
        return self.session.scalars(select(UserRow).where(UserRow.username == username)).first()

    def get(self, user_id: str) -> UserRow | None:
        return self.session.get(UserRow, user_id)

    def create(
        self,
        username: str,
        password: str,
        role: str,
        *,
        display_name: str = "",
        agent_id: str | None = None,
        team_id: str | None = None,
    ) -> UserRow:
        try:
            Role(role)
        except ValueError:
            raise ValidationError(f"unknown role {role!r}", field="role") from None
        if self.by_username(username) is not None:
            raise Conflict(f"user {username!r} exists", code="user_exists")
        row = UserRow(
            user_id=uuid.uuid4().hex[:16],
            username=username,
            display_name=display_name or username,
            password_hash=hash_password(password),
            role=role,
            agent_id=agent_id,
            team_id=team_id,
            language="zh-CN",
            active=True,
            failed_logins=0,
            created_at=datetime.now(UTC),
        )
        self.session.add(row)
        self.session.flush()
        return row
