"""HTTP routes of the dialogue feature: the text channel of the bot.

``POST /api/v1/conversations`` opens a conversation and returns the greeting;
``POST /api/v1/conversations/{id}/messages`` takes one caller turn;
``GET /api/v1/conversations/{id}`` gives the masked transcript.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from lendline.dialogue.model import Reply
from lendline.dialogue.service import ConversationService
from lendline.errors import ConfigError, ValidationError
from lendline.web.auth import Principal, require

router = APIRouter(prefix="/api/v1/conversations", tags=["dialogue"])


class NewConversation(BaseModel):
    customer_id: str | None = Field(None, max_length=40)
    phone: str | None = Field(None, max_length=32, description="caller number, any format")
    channel: str = Field("text", description="text | web | app | voice | sms")
    language: str = Field("zh-CN", description="zh-CN | en")
    flow: str | None = Field(None, max_length=60, description="open this flow at once")


class Message(BaseModel):
    text: str = Field("", max_length=10_000, description="the caller's words (≤ 500 chars)")
    dtmf: str = Field("", max_length=64, description="keys pressed: 0-9 * #")
    no_input: bool = Field(False, description="the caller said nothing (silence timeout)")


def _service(request: Request) -> ConversationService:
    svc = request.app.state.container.services.get("dialogue")
    if svc is None:
        raise ConfigError("the dialogue feature is not wired", code="dialogue_unavailable")
    return svc  # type: ignore[no-any-return]


Service = Annotated[ConversationService, Depends(_service)]


def _body(r: Reply) -> dict[str, Any]:
    return {
        "reply": r.text,
        "reply_zh": r.text_zh,
        "reply_en": r.text_en,
        "intent": r.intent,
        "confidence": r.confidence,
        "slots": r.slots,
        "state": r.state,
        "action": r.action,
        "actions": list(r.actions),
        "handoff": (
            {
                "queue": r.handoff.queue,
                "reason": r.handoff.reason,
                "call_id": r.handoff.context.get("call_id"),
            }
            if r.handoff
            else None
        ),
        "ended": r.ended,
    }


@router.post("", status_code=201)
def create_conversation(
    body: NewConversation,
    svc: Service,
    _p: Annotated[Principal, Depends(require("conversations.create"))],
) -> dict[str, Any]:
    started = svc.start(
        customer_id=body.customer_id,
        phone=body.phone,
        channel=body.channel,
        language=body.language,
        flow=body.flow,
    )
    return {
        "conversation_id": started.conversation_id,
        "customer_id": started.customer_id,
        "greeting": started.reply.text,
        **_body(started.reply),
    }


@router.post("/{conversation_id}/messages")
def post_message(
    conversation_id: str,
    body: Message,
    svc: Service,
    _p: Annotated[Principal, Depends(require("conversations.message"))],
) -> dict[str, Any]:
    if not body.no_input and not body.text.strip() and not body.dtmf:
        raise ValidationError(
            'empty message: send text, dtmf, or {"no_input": true} for silence',
            field="text",
            code="empty_input",
        )
    reply = svc.message(conversation_id, text=body.text, dtmf=body.dtmf)
    return _body(reply)


@router.get("/{conversation_id}")
def get_conversation(
    conversation_id: str,
    svc: Service,
    _p: Annotated[Principal, Depends(require("conversations.read"))],
) -> dict[str, Any]:
    return svc.summary(conversation_id)
