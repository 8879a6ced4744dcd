"""Helpers shared by tests: users and logins, waiting for a condition, a prompt log."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

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


async def eventually(cond: Callable[[], object], timeout_s: float = 20.0, what: str = "") -> None:
    """Wait (on the running loop) until ``cond()`` is true; fail the test after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"not met within {timeout_s:g} s: {what or cond}")
        await asyncio.sleep(0.02)


class SayingTts:
    """Wraps a TTS engine and notes each prompt as it is asked for (``said``)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.said: list[str] = []

    def synthesize(self, text: str, lang: str = "zh") -> Any:
        self.said.append(text)
        return self.inner.synthesize(text, lang)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)
