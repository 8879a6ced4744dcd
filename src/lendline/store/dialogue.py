"""Persistence of conversations: the sealed context, masked turns, hand-off records."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from lendline.compliance.fieldcrypt import FieldCipher
from lendline.dialogue.model import ConversationContext, Reply
from lendline.errors import Conflict, NotFound
from lendline.store.base import Database
from lendline.store.models_dialogue import ConversationRow, ConversationTurnRow

_CTX = b"conversation"


class ConversationRepository:
    """Conversations in the built-in tables; the context is sealed with ``cipher``."""

    def __init__(self, db: Database, cipher: FieldCipher) -> None:
        self.db = db
        self.cipher = cipher

    def _seal(self, ctx: ConversationContext) -> bytes:
        return self.cipher.encrypt(json.dumps(ctx.to_dict(), ensure_ascii=False), context=_CTX)

    def create(self, ctx: ConversationContext, reply: Reply, now: datetime) -> None:
        with self.db.session() as s:
            s.add(
                ConversationRow(
                    conversation_id=ctx.conversation_id,
                    customer_id=ctx.customer_id,
                    channel=ctx.channel,
                    language=ctx.language,
                    status=ctx.status,
                    state=reply.state,
                    call_id=ctx.call_id,
                    turns=0,
                    context_cipher=self._seal(ctx),
                    created_at=now,
                    updated_at=now,
                )
            )
            s.flush()
            s.add(_turn(ctx.conversation_id, 0, now, "", reply))

    def load(self, conversation_id: str) -> ConversationContext:
        with self.db.session() as s:
            row = s.get(ConversationRow, conversation_id)
            if row is None:
                raise NotFound(
                    f"no conversation {conversation_id!r}", code="conversation_not_found"
                )
            data = json.loads(self.cipher.decrypt(row.context_cipher, context=_CTX))
        return ConversationContext.from_dict(data)

    def save_turn(
        self, ctx: ConversationContext, user_text: str, reply: Reply, now: datetime
    ) -> int:
        """Store the new context and the turn; returns the turn's sequence number."""
        with self.db.session() as s:
            row = s.get(ConversationRow, ctx.conversation_id, with_for_update=True)
            if row is None:
                raise NotFound(
                    f"no conversation {ctx.conversation_id!r}", code="conversation_not_found"
                )
            if row.turns != ctx.version:
                raise Conflict(
                    "the conversation moved on in another request; send the turn again",
                    code="conversation_busy",
                )
            row.turns += 1
            ctx.version = row.turns
            row.status = ctx.status
            row.state = reply.state
            row.customer_id = ctx.customer_id
            row.call_id = ctx.call_id
            row.context_cipher = self._seal(ctx)
            row.updated_at = now
            if reply.handoff is not None:
                row.handoff_queue = reply.handoff.queue
                row.handoff_reason = reply.handoff.reason
            s.add(_turn(ctx.conversation_id, row.turns, now, user_text, reply))
            return row.turns

    def summary(self, conversation_id: str) -> dict[str, Any]:
        with self.db.session() as s:
            row = s.get(ConversationRow, conversation_id)
            if row is None:
                raise NotFound(
                    f"no conversation {conversation_id!r}", code="conversation_not_found"
                )
            turns = s.scalars(
                select(ConversationTurnRow)
                .where(ConversationTurnRow.conversation_id == conversation_id)
                .order_by(ConversationTurnRow.seq)
            ).all()
            return {
                "conversation_id": row.conversation_id,
                "customer_id": row.customer_id,
                "channel": row.channel,
                "language": row.language,
                "status": row.status,
                "state": row.state,
                "handoff_queue": row.handoff_queue,
                "handoff_reason": row.handoff_reason,
                "call_id": row.call_id,
                "created_at": row.created_at.isoformat(),
                "turns": [
                    {
                        "seq": t.seq,
                        "at": t.at.isoformat(),
                        "user": t.user_text,
                        "reply": t.reply_text,
                        "intent": t.intent,
                        "confidence": t.confidence,
                        "state": t.state,
                        "actions": list(t.actions or []),
                    }
                    for t in turns
                ],
            }

    def count(self) -> int:
        with self.db.session() as s:
            return int(s.scalar(select(func.count()).select_from(ConversationRow)) or 0)


def _turn(cid: str, seq: int, now: datetime, user_text: str, reply: Reply) -> ConversationTurnRow:
    return ConversationTurnRow(
        conversation_id=cid,
        seq=seq,
        at=now,
        user_text=user_text,
        reply_text=reply.text,
        intent=reply.intent,
        confidence=reply.confidence,
        state=reply.state,
        actions=list(reply.actions),
    )


def add_demo_customers(db: Database, cipher: FieldCipher, n: int, seed: int) -> list[Any]:
    """Add ``n`` demo customers (``lendline.demo.seed.make_customers``) without users or
    teams — a quick world for conversation stories and tests. Returns the customers."""
    import random

    from lendline.demo.seed import make_customers
    from lendline.store.customers import CustomerRepository

    people = make_customers(random.Random(seed), n)
    with db.session() as s:
        repo = CustomerRepository(s, cipher)
        for cust, _ in people:
            cust.team = None
            repo.add(cust)
        s.flush()
        for _, loans in people:
            for ln in loans:
                repo.add_loan(ln)
    return [p for p, _ in people]
