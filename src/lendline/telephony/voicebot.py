"""Runs a dialogue flow (the voicebot) on a live call: the same flow files as the text
channel, spoken with TTS, answered with keys (RFC 4733) or speech (ASR when configured).

Per turn, as ``lendline.dialogue.voice`` describes: speak the reply (barge-in by a key;
the recording paused while the caller is asked for an ID or card number), then collect
what the state expects — a digit string, a single key, or one spoken utterance — and
hand it to the ``ConversationService``. A hand-off has already been queued by the service
(the call's context goes with it); the runner returns the queue so the call controller
can play hold music and wait for the agent.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import structlog

from lendline.dialogue.service import ConversationService
from lendline.dialogue.voice import VoicePlan, voice_plan
from lendline.speech.asr import AsrEngine
from lendline.speech.tts import TtsEngine
from lendline.telephony.media import MediaSession
from lendline.telephony.media.ivr_runner import listen

log = structlog.get_logger(__name__)
MAX_TURNS = 40  # a runaway flow never holds a line forever


@dataclass
class VoicebotOutcome:
    conversation_id: str
    transfer_queue: str | None = None  # the call was handed to this skill queue
    hung_up: bool = False  # the flow ended the call
    turns: int = 0
    states: list[str] = field(default_factory=list)


async def run_voicebot(
    session: MediaSession,
    tts: TtsEngine,
    service: ConversationService,
    *,
    call_id: str,
    customer_id: str | None,
    flow: str | None = None,
    language: str = "zh-CN",
    asr: AsrEngine | None = None,
    max_wait_s: float | None = None,
) -> VoicebotOutcome:
    """Converse until the flow hands off, ends, the caller hangs up or MAX_TURNS.

    ``max_wait_s`` caps each no-input wait (the flow's own timeouts otherwise).
    """
    lang = "zh" if language.startswith("zh") else "en"
    speech = asr is not None and asr.supports(lang)
    started = await asyncio.to_thread(
        service.start,
        customer_id=customer_id,
        channel="voice",
        language=language,
        flow=flow,
        call_id=call_id,
    )
    out = VoicebotOutcome(conversation_id=started.conversation_id)
    reply = started.reply
    session.flush_digits()
    while not session.closed and out.turns < MAX_TURNS:
        plan = voice_plan(reply)
        out.states.append(reply.state)
        if plan.sensitive:
            session.pause_recording()
        if plan.text:
            pcm = await asyncio.to_thread(tts.synthesize, plan.text, lang)
            await session.play(pcm, barge_in=plan.barge_in)
        if plan.transfer_queue is not None:
            out.transfer_queue = plan.transfer_queue
            break
        if plan.hangup:
            out.hung_up = True
            break
        wait_s = plan.timeout_s if max_wait_s is None else min(plan.timeout_s, max_wait_s)
        keys, heard = await _collect(session, plan, asr if speech else None, lang, wait_s)
        if plan.sensitive:
            session.resume_recording()
        if session.closed:
            break
        out.turns += 1
        reply = await asyncio.to_thread(
            service.message, started.conversation_id, text=heard, dtmf=keys
        )
    log.info("voicebot_done", call_id=call_id, turns=out.turns, queue=out.transfer_queue)
    return out


async def _collect(
    session: MediaSession, plan: VoicePlan, asr: AsrEngine | None, lang: str, wait_s: float
) -> tuple[str, str]:
    """(keys, heard text): whichever comes first; both empty on no input."""
    keys_task = asyncio.create_task(
        session.collect_dtmf(
            max_digits=max(plan.max_digits, 1),
            timeout_s=wait_s,
            inter_digit_timeout_s=min(5.0, wait_s),
            terminators=plan.terminator or "#",
            flush=False,  # a key pressed during the prompt counts
        )
    )
    tasks: set[asyncio.Task[object]] = {keys_task}
    heard_task: asyncio.Task[str] | None = None
    if asr is not None:
        heard_task = asyncio.create_task(
            listen(session, asr, lang=lang, phrases=(), timeout_s=wait_s)
        )
        tasks.add(heard_task)
    while tasks:
        done, tasks = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        if keys_task in done and keys_task.result().digits:
            break
        if heard_task is not None and heard_task in done and heard_task.result():
            break
    for t in tasks:
        t.cancel()
    keys = ""
    if keys_task.done() and not keys_task.cancelled():
        result = keys_task.result()
        keys = result.digits
        if result.reason == "max_digits" and plan.max_digits > 1:
            await _swallow_terminator(session, plan.terminator or "#")
    heard = ""
    if not keys and heard_task is not None and heard_task.done() and not heard_task.cancelled():
        heard = heard_task.result()
    return keys, heard


async def _swallow_terminator(session: MediaSession, terminators: str, wait_s: float = 0.4) -> None:
    """A caller who keys a full-length number often ends it with '#' anyway; that key must
    not be taken as the (empty) answer to the next question."""
    for _ in range(int(wait_s / 0.02)):
        pending = session.pending_digits
        if pending:
            if pending[0] in terminators:
                await session.collect_dtmf(
                    max_digits=1, timeout_s=0.0, terminators=terminators, flush=False
                )
            return
        await asyncio.sleep(0.02)
