"""A parsed flow: its states and prompts (``dialogue/flow.py`` reads them from YAML)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Text:
    zh: str
    en: str

    def pick(self, zh: bool) -> str:
        return self.zh if zh else self.en


@dataclass(frozen=True, slots=True)
class State:
    name: str
    line: int
    say: Text | None = None
    help: Text | None = None  # said instead of ``say`` after a miss or a silence
    lines: dict[str, int] = field(default_factory=dict)  # key -> line, for error reports
    slot: str | None = None
    choices: dict[str, tuple[str, ...]] = field(default_factory=dict)
    dtmf: dict[str, str] = field(default_factory=dict)
    next: str | None = None
    on_intent: dict[str, str] = field(default_factory=dict)
    action: str | None = None
    args: dict[str, Any] = field(default_factory=dict)
    on: dict[str, str] = field(default_factory=dict)
    end: str | None = None  # None | "flow" | "abort" (this flow and its callers) | "conversation"
    handoff: tuple[str, str] | None = None  # (queue, reason)
    subflow: str | None = None
    free_text: str | None = None
    skip_if: tuple[str, ...] = ()
    max_misses: int = 2
    dtmf_digits: int = 0

    @property
    def waits(self) -> bool:
        """True when the state asks the caller something and waits for the answer."""
        return bool(self.slot or self.free_text or self.on_intent) and not self.action


@dataclass(frozen=True, slots=True)
class Flow:
    name: str
    title: Text
    intents: tuple[str, ...]
    queue: str
    start: str
    states: dict[str, State]
    corrections: dict[str, str]
    source: str = ""


__all__ = ["Flow", "State", "Text"]
