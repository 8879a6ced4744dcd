"""Runs the dialogue flows on a live call's media leg (the voice edge; asyncio).

Each bot reply is spoken through the TTS engine with barge-in (a key, or the caller's
voice when an ASR engine is configured, cuts the prompt); then keys (RFC 4733) or one
utterance are collected and sent back as the next turn. Identity questions pause the
recording. The run ends when the bot hands the call off (the service has already put it
in the skill queue) or hangs up, or when the leg closes.

The telephony controller can use ``run_bot_call`` in place of the DTMF menu for calls the
routing rules send to the bot; the flow files are the same as on the text channel.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from lendline.dialogue.model import Reply
from lendline.dialogue.service import ConversationService
from lendline.dialogue.voice import caller_input, voice_plan


@dataclass
class BotCallOutcome:
    """``handoff`` (queue) or ``hangup`` (bot finished) or ``closed`` (caller left)."""

    kind: str
    conversation_id: str = ""
    queue: str | None = None
    reason: str | None = None
    turns: int = 0
    replies: list[str] = field(default_factory=list)


async def run_bot_call(
    session: Any,  # telephony.media.MediaSession
    tts: Any,  # speech.tts.TtsEngine
    service: ConversationService,
    *,
    call_id: str | None = None,
    caller: str | None = None,
    customer_id: str | None = None,
    lang: str = "zh",
    asr: Any = None,  # speech.asr.AsrEngine, or None for DTMF only
    flow: str | None = None,
) -> BotCallOutcome:
    """Talk with the caller on ``session`` until hand-off, hang-up or the leg closing."""
    language = "en" if lang.startswith("en") else "zh-CN"
    started = await asyncio.to_thread(
        service.start, channel="voice", call_id=call_id, phone=caller,
        customer_id=customer_id, language=language, flow=flow,
    )  # fmt: skip
    out = BotCallOutcome("closed", started.conversation_id)
    reply: Reply = started.reply
    session.flush_digits()
    while not session.closed:
        out.replies.append(reply.text)
        plan = voice_plan(reply)
        if plan.sensitive:
            session.pause_recording()
        elif session.recording_paused:
            session.resume_recording()
        pcm = await asyncio.to_thread(tts.synthesize, plan.text, lang)
        if plan.transfer_queue is not None or plan.hangup:
            await session.play(pcm, barge_in=False)
            if session.recording_paused:
                session.resume_recording()
            h = reply.handoff
            out.kind = "handoff" if h is not None else "hangup"
            out.queue, out.reason = (h.queue, h.reason) if h is not None else (None, None)
            return out
        if not session.pending_digits:  # typed ahead: skip the prompt
            await session.play(pcm, barge_in=True)
        text, keys = await _collect(session, plan.max_digits, plan.terminator,
                                    plan.timeout_s, asr, lang)  # fmt: skip
        if session.closed:
            break
        out.turns += 1
        reply = await asyncio.to_thread(
            service.message, started.conversation_id, **caller_input(text, keys)
        )
    return out


async def _collect(
    session: Any, max_digits: int, terminator: str, timeout_s: float, asr: Any, lang: str
) -> tuple[str, str]:
    """(speech, keys): keys up to ``max_digits`` or the terminator, or one utterance."""

    async def _keys() -> Any:
        while True:
            res = await session.collect_dtmf(
                max_digits=max(1, max_digits),
                timeout_s=timeout_s,
                inter_digit_timeout_s=5.0,
                terminators=terminator,
                flush=False,  # a key that cut the prompt counts
            )
            # a lone "#" (the end of a number already complete at max length) means nothing
            if res.digits or res.reason != "terminator":
                return res

    keys = asyncio.create_task(_keys())
    tasks: set[asyncio.Task[Any]] = {keys}
    heard: asyncio.Task[str] | None = None
    if asr is not None and asr.supports(lang):
        from lendline.telephony.media.ivr_runner import listen

        heard = asyncio.create_task(
            listen(session, asr, lang=lang, phrases=(), timeout_s=timeout_s)
        )
        tasks.add(heard)
    while tasks:
        done, tasks = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        if keys in done and keys.result().digits:
            break
        if heard is not None and heard in done and heard.result():
            break
    for t in tasks:
        t.cancel()
    if keys.done() and not keys.cancelled() and keys.result().digits:
        return "", str(keys.result().digits)
    if heard is not None and heard.done() and not heard.cancelled() and heard.result():
        return str(heard.result()), ""
    return "", ""
