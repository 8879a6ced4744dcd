"""The conversation service: the engine plus persistence, hand-off and events.

Channels (the REST API, ``lendline bot chat``, the IVR) call ``start`` and ``message``;
the service loads the context, runs one engine turn, stores the masked turn, publishes
``BotTurn``/``BotHandoff`` and, on a hand-off, puts the conversation in a skill queue
through the ``CallCenter`` (a voice call is enqueued; a text conversation gets a call
record of channel ``chat`` that is enqueued with the context for the agent's screen pop).
"""

from __future__ import annotations

import threading
import uuid
import zlib
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import structlog

from lendline.bus import InProcessBus
from lendline.clock import Clock
from lendline.compliance.masking import mask_text
from lendline.dialogue.engine import DialogueEngine
from lendline.dialogue.model import ConversationContext, Reply, UserInput
from lendline.domain.events import BotHandoff, BotTurn
from lendline.domain.identity import normalize_phone
from lendline.errors import LendlineError, NotFound, ValidationError

log = structlog.get_logger(__name__)
MAX_TEXT_CHARS = 500
MAX_DTMF_CHARS = 32
CHANNELS = ("text", "web", "app", "voice", "sms")
LANGUAGES = ("zh-CN", "en")


class ConversationStore(Protocol):
    def create(self, ctx: ConversationContext, reply: Reply, now: datetime) -> None: ...

    def load(self, conversation_id: str) -> ConversationContext: ...

    def save_turn(
        self, ctx: ConversationContext, user_text: str, reply: Reply, now: datetime
    ) -> int: ...

    def summary(self, conversation_id: str) -> dict[str, Any]: ...


class CustomerLookup(Protocol):
    def customer(self, customer_id: str) -> Any: ...

    def customer_by_phone(self, phone_e164: str) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Started:
    conversation_id: str
    reply: Reply
    customer_id: str | None


class ConversationService:
    def __init__(
        self,
        engine: DialogueEngine,
        store: ConversationStore,
        customers: CustomerLookup,
        clock: Clock,
        bus: InProcessBus,
        *,
        timezone: str = "Asia/Shanghai",
        services: dict[str, Any] | None = None,
    ) -> None:
        self.engine, self.store, self.customers = engine, store, customers
        self.clock, self.bus, self.tz = clock, bus, ZoneInfo(timezone)
        self.services = services if services is not None else {}
        # one turn at a time per conversation (HTTP handlers run in a thread pool): a turn
        # loads the context, runs the engine and saves it; two at once would lose one
        self._locks = [threading.Lock() for _ in range(64)]

    def _lock(self, conversation_id: str) -> threading.Lock:
        return self._locks[zlib.crc32(conversation_id.encode()) % len(self._locks)]

    def _today(self) -> str:
        return self.clock.now().astimezone(self.tz).date().isoformat()

    def start(
        self,
        *,
        customer_id: str | None = None,
        phone: str | None = None,
        channel: str = "text",
        language: str = "zh-CN",
        flow: str | None = None,
        call_id: str | None = None,
    ) -> Started:
        """Open a conversation and greet (or open ``flow`` directly, e.g. a reminder)."""
        if channel not in CHANNELS:
            raise ValidationError(f"must be one of {', '.join(CHANNELS)}", field="channel")
        if language not in LANGUAGES:
            raise ValidationError(f"must be one of {', '.join(LANGUAGES)}", field="language")
        if flow is not None and (flow not in self.engine.flows or flow == "main"):
            raise ValidationError(f"unknown flow {flow!r}", field="flow", code="unknown_flow")
        e164 = normalize_phone(phone) if phone else None
        if customer_id is not None and self.customers.customer(customer_id) is None:
            raise NotFound(f"no customer {customer_id!r}", code="customer_not_found")
        if customer_id is None and e164 is not None:
            customer_id = self.customers.customer_by_phone(e164)
        ctx = ConversationContext(
            conversation_id=uuid.uuid4().hex,
            language=language,
            channel=channel,
            customer_id=customer_id,
            caller_phone=e164,
            call_id=call_id,
            today=self._today(),
        )
        reply = self.engine.start(ctx, flow=flow)
        self.store.create(ctx, reply, self.clock.now())
        log.info("conversation_started", conversation_id=ctx.conversation_id, channel=channel)
        return Started(ctx.conversation_id, reply, customer_id)

    def message(self, conversation_id: str, *, text: str = "", dtmf: str = "") -> Reply:
        """One caller turn. ``text`` and ``dtmf`` both empty is silence (no input)."""
        if len(text) > MAX_TEXT_CHARS:
            raise ValidationError(
                f"at most {MAX_TEXT_CHARS} characters (got {len(text)})",
                field="text",
                code="text_too_long",
            )
        if len(dtmf) > MAX_DTMF_CHARS or any(ch not in "0123456789*#" for ch in dtmf):
            raise ValidationError("DTMF keys are 0-9, * and #", field="dtmf", code="invalid_dtmf")
        with self._lock(conversation_id):
            return self._turn(conversation_id, text, dtmf)

    def _turn(self, conversation_id: str, text: str, dtmf: str) -> Reply:
        ctx = self.store.load(conversation_id)
        ctx.today = self._today()
        reply = self.engine.handle(ctx, UserInput(text=text, dtmf=dtmf))
        user_masked = ctx.transcript[-2]["text"] if len(ctx.transcript) >= 2 else ""
        if reply.handoff is not None:
            reply = self._hand_off(ctx, reply)
        self.store.save_turn(ctx, user_masked, reply, self.clock.now())
        self.bus.publish(
            BotTurn(
                at_s=self.clock.monotonic(),
                conversation_id=conversation_id,
                call_id=ctx.call_id,
                user_text=user_masked,
                reply=reply.text,
                intent=reply.intent or "",
                confidence=reply.confidence or 0.0,
                slots=reply.slots,
            )
        )
        return reply

    def _hand_off(self, ctx: ConversationContext, reply: Reply) -> Reply:
        """Queue the conversation for a human; the context travels with the call."""
        assert reply.handoff is not None
        h = reply.handoff
        center = self.services.get("call_center")
        queue = h.queue
        if center is not None:
            try:
                if ctx.call_id is None:
                    call = center.inbound_call(
                        caller=ctx.caller_phone or "",
                        customer_id=ctx.customer_id,
                        reason=f"bot_handoff:{h.reason}",
                        channel="chat",
                    )
                    ctx.call_id = call.call_id
                    # a generic hand-off keeps the queue the routing rules chose for this
                    # customer (e.g. collections for an overdue account)
                    if h.queue == "general" and call.queue:
                        queue = call.queue
                h.context["call_id"] = ctx.call_id
                h.context["queue"] = queue
                center.enqueue(ctx.call_id, queue, context=h.context)
            except LendlineError as exc:
                # the record of the hand-off (conversation row, event) still stands
                log.warning("handoff_enqueue_failed", error=exc.code, detail=mask_text(exc.detail))
        self.bus.publish(
            BotHandoff(
                at_s=self.clock.monotonic(),
                conversation_id=ctx.conversation_id,
                call_id=ctx.call_id,
                queue=queue,
                context=h.context,
            )
        )
        return replace(reply, handoff=replace(h, queue=queue))

    def summary(self, conversation_id: str) -> dict[str, Any]:
        """The conversation and its masked turns (``NotFound`` for an unknown id)."""
        return self.store.summary(conversation_id)
