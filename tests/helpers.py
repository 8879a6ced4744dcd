"""Helpers shared by tests: users and logins."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi.testclient import TestClient

from lendline.store.users import UserRepository

if TYPE_CHECKING:
    from lendline.app import Container

PASSWORD = "Test-Passw0rd!"


def create_user(
    container: Container,
    username: str,
    role: str,
    *,
    agent_id: str | None = None,
    team_id: str | None = None,
    password: str = PASSWORD,
) -> None:
    with container.db.session() as s:
        UserRepository(s).create(username, password, role, agent_id=agent_id, team_id=team_id)


def login(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    """Log in through the API; returns headers carrying the bearer token."""
    r = client.post("/api/v1/session/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}
