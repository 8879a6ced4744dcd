"""Who is acting: a logged-in user or a system's API key (pure value object)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: str
    username: str
    role: str
    agent_id: str | None = None
    team_id: str | None = None
    language: str = "zh-CN"
    via: str = "session"  # session | api_key
    scopes: frozenset[str] | None = None  # API keys: the actions the key may use; None = role's
