"""The voice seam: what a call's media runner does with a ``Reply``, and how caller audio
and keys become a ``UserInput``. Pure; the IVR/SIP side carries it out.

Per turn the runner (``telephony``) does::

    reply = service.start(channel="voice", call_id=call.call_id, phone=caller)   # once
    loop:
        plan = voice_plan(reply)
        speak plan.text with TTS (barge-in: stop speaking when the caller starts talking
            or presses a key); pause the recording while plan.sensitive
        if plan.transfer_queue: the service has already enqueued the call → bridge to agent
        if plan.hangup: play out and hang up
        collect up to plan.max_digits keys (ending with plan.terminator) or one utterance
            (ASR), for at most plan.timeout_s
        reply = service.message(conversation_id, **caller_input(asr_text, keys))

The flow files do not change between text and voice: prompts already carry the DTMF
alternative ("个人贷款请按1"), states declare ``dtmf`` keys and ``dtmf_digits``.
"""

from __future__ import annotations

from dataclasses import dataclass

from lendline.dialogue.model import Reply

DIGIT_TIMEOUT_S = 12.0  # time allowed to key a long number (ID: 18 keys)
SPEECH_TIMEOUT_S = 6.0  # no-input timeout for a spoken answer


@dataclass(frozen=True, slots=True)
class VoicePlan:
    text: str
    max_digits: int  # 0 = single keys only (``keys``), or none
    keys: tuple[str, ...]
    terminator: str
    timeout_s: float
    sensitive: bool
    barge_in: bool
    transfer_queue: str | None
    hangup: bool


def voice_plan(reply: Reply) -> VoicePlan:
    """What to play and collect after ``reply``."""
    hint = reply.expects
    long_digits = hint.dtmf_max_digits > 1
    return VoicePlan(
        text=reply.text,
        max_digits=hint.dtmf_max_digits or (1 if hint.dtmf_keys else 0),
        keys=hint.dtmf_keys,
        terminator=hint.terminator,
        timeout_s=DIGIT_TIMEOUT_S if long_digits else SPEECH_TIMEOUT_S,
        sensitive=hint.sensitive,
        barge_in=reply.handoff is None and not reply.ended,
        transfer_queue=reply.handoff.queue if reply.handoff else None,
        hangup=reply.ended and reply.handoff is None,
    )


def caller_input(asr_text: str | None = None, keys: str | None = None) -> dict[str, str]:
    """Keyword arguments for ``ConversationService.message``: keys win over speech; both
    empty is silence (the no-input timer fired). ``*`` stands for X in an ID number."""
    if keys:
        return {"text": "", "dtmf": keys.strip()}
    return {"text": (asr_text or "").strip(), "dtmf": ""}
