"""What every action shares: its result, its signature, the verified caller."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from lendline.dialogue.backend import CustomerFacts, DialogueBackend
from lendline.dialogue.model import ConversationContext

MAX_VERIFY_FAILURES = 3
PROMISE_HORIZON_DAYS = 30


@dataclass(slots=True)
class ActionResult:
    outcome: str
    vars: dict[str, Any] = field(default_factory=dict)


Action = Callable[[ConversationContext, dict[str, Any], DialogueBackend], ActionResult]


def today_of(ctx: ConversationContext) -> date:
    return date.fromisoformat(ctx.today)


def verified_customer(ctx: ConversationContext, b: DialogueBackend) -> CustomerFacts | None:
    """The verified caller's record. Account data is never read for an unverified caller,
    whatever a flow file says (flows verify first; this is the second lock)."""
    return b.customer(ctx.customer_id) if ctx.customer_id and ctx.verified else None
