"""Calls and the call state machine.

State table (``(state, event) -> new state``)::

    arriving  --route-->     routing
    routing   --to_bot-->    in_bot
    routing   --enqueue-->   queued
    in_bot    --enqueue-->   queued       (hand-off to a human)
    in_bot    --hangup-->    ended
    queued    --reserve-->   ringing      (an agent is offered the call)
    ringing   --timeout-->   queued       (back to the head of its queue)
    ringing   --decline-->   queued
    ringing   --answer-->    connected
    connected --transfer-->  queued
    connected --hangup-->    ended
    queued    --overflow-->  queued       (moved to another queue)
    queued    --callback-->  ended        (end_reason = callback)
    *         --abandon-->   ended        (caller hung up before an agent answered)
    queued    --voicemail--> ended        (overflow to voicemail)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from lendline.errors import Conflict


class CallDirection(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class CallState(StrEnum):
    ARRIVING = "arriving"
    ROUTING = "routing"
    IN_BOT = "in_bot"
    QUEUED = "queued"
    RINGING = "ringing"
    CONNECTED = "connected"
    ENDED = "ended"


class CallEvent(StrEnum):
    ROUTE = "route"
    TO_BOT = "to_bot"
    ENQUEUE = "enqueue"
    RESERVE = "reserve"
    TIMEOUT = "timeout"
    DECLINE = "decline"
    ANSWER = "answer"
    TRANSFER = "transfer"
    OVERFLOW = "overflow"
    CALLBACK = "callback"
    HANGUP = "hangup"
    ABANDON = "abandon"
    VOICEMAIL = "voicemail"


class EndReason(StrEnum):
    ANSWERED = "answered"  # talked to an agent
    BOT_COMPLETED = "bot_completed"  # the voicebot finished the task
    ABANDONED = "abandoned"
    CALLBACK = "callback"
    VOICEMAIL = "voicemail"
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # the node carrying it stopped uncleanly; closed at restart


_S, _E = CallState, CallEvent
CALL_TRANSITIONS: dict[tuple[CallState, CallEvent], CallState] = {
    (_S.ARRIVING, _E.ROUTE): _S.ROUTING,
    (_S.ROUTING, _E.TO_BOT): _S.IN_BOT,
    (_S.ROUTING, _E.ENQUEUE): _S.QUEUED,
    (_S.IN_BOT, _E.ENQUEUE): _S.QUEUED,
    (_S.IN_BOT, _E.HANGUP): _S.ENDED,
    (_S.QUEUED, _E.RESERVE): _S.RINGING,
    (_S.QUEUED, _E.OVERFLOW): _S.QUEUED,
    (_S.QUEUED, _E.CALLBACK): _S.ENDED,
    (_S.RINGING, _E.TIMEOUT): _S.QUEUED,
    (_S.RINGING, _E.DECLINE): _S.QUEUED,
    (_S.RINGING, _E.ANSWER): _S.CONNECTED,
    (_S.CONNECTED, _E.TRANSFER): _S.QUEUED,
    (_S.CONNECTED, _E.HANGUP): _S.ENDED,
    (_S.ARRIVING, _E.ABANDON): _S.ENDED,
    (_S.ROUTING, _E.ABANDON): _S.ENDED,
    (_S.IN_BOT, _E.ABANDON): _S.ENDED,
    (_S.QUEUED, _E.ABANDON): _S.ENDED,
    (_S.RINGING, _E.ABANDON): _S.ENDED,
    (_S.QUEUED, _E.VOICEMAIL): _S.ENDED,
}


def next_call_state(state: CallState, event: CallEvent) -> CallState:
    try:
        return CALL_TRANSITIONS[(state, event)]
    except KeyError:
        raise Conflict(
            f"call in state {state.value!r} cannot {event.value!r}", code="invalid_call_transition"
        ) from None


@dataclass(slots=True)
class Disposition:
    """What the agent recorded at wrap-up."""

    code: str  # e.g. resolved, promise_to_pay, callback_requested, complaint_logged, wrong_number
    note: str = ""
    resolved: bool = True


DISPOSITION_CODES: dict[str, str] = {
    "resolved": "已解决",
    "promise_to_pay": "承诺还款",
    "unable_to_pay": "无力还款",
    "callback_requested": "预约回电",
    "complaint_logged": "投诉已登记",
    "application_submitted": "已提交申请",
    "transferred": "已转接",
    "wrong_number": "号码错误",
    "unresolved": "未解决",
}


@dataclass(slots=True)
class Call:
    call_id: str
    direction: CallDirection = CallDirection.INBOUND
    caller: str = ""  # E.164 or SIP URI of the caller
    dialed: str = ""
    customer_id: str | None = None
    reason: str = ""  # what the caller wants, when known (IVR choice, bot intent)
    state: CallState = CallState.ARRIVING
    queue: str | None = None
    agent_id: str | None = None
    priority: int = 0
    rule: str | None = None  # name of the routing rule that matched
    routing_reason: str = ""
    arrived_s: float = 0.0  # monotonic
    queued_s: float | None = None
    answered_s: float | None = None
    ended_s: float | None = None
    started_at: datetime | None = None
    end_reason: EndReason | None = None
    disposition: Disposition | None = None
    context: dict[str, Any] = field(default_factory=dict)  # bot hand-off context, etc.

    def apply(self, event: CallEvent) -> CallState:
        self.state = next_call_state(self.state, event)
        return self.state
