"""Runs the sans-I/O ``IvrMenu`` on a live ``MediaSession``: prompts through TTS, keys
through RFC 4733, spoken choices through an ASR engine when one is configured.

Without ASR (or with one that cannot do the menu's language) the menu is DTMF only and
says nothing about speaking: the degradation is clean, not an error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import structlog

from lendline.speech.asr import AsrEngine
from lendline.speech.tts import TtsEngine
from lendline.telephony.ivr import (
    Collect,
    Hangup,
    IvrAction,
    IvrInput,
    IvrMenu,
    Keys,
    LookupStatus,
    NoInput,
    PauseRecording,
    ResumeRecording,
    Said,
    Say,
    Start,
    StatusFound,
    Transfer,
)
from lendline.telephony.media.session import MediaSession
from lendline.telephony.rtp.g711 import Int16Array

log = structlog.get_logger(__name__)
ENGLISH_PHRASES = (
    "agent", "operator", "speak to an agent", "product", "products", "loan", "repayment",
    "repay", "status", "application status", "yes", "no",
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
)  # fmt: skip


@dataclass
class IvrOutcome:
    """How the menu ended: ``transfer`` (target, reason) or hung up / closed."""

    transfer: Transfer | None
    choices: list[str] = field(default_factory=list)
    heard: list[str] = field(default_factory=list)  # ASR texts, for the transcript


async def listen(
    session: MediaSession,
    asr: AsrEngine,
    *,
    lang: str,
    phrases: Sequence[str],
    timeout_s: float,
    start_rms: float = 600.0,
    end_silence_s: float = 0.6,
    max_utterance_s: float = 6.0,
) -> str:
    """One spoken utterance (energy endpointing) recognised by ``asr``; '' when none."""
    frames: asyncio.Queue[Int16Array] = asyncio.Queue()
    session.add_audio_tap(frames.put_nowait)
    stream = asr.open_stream(lang=lang, phrases=phrases)
    try:
        async with asyncio.timeout(timeout_s + max_utterance_s):
            started, quiet, spoken = False, 0, 0
            pre: list[Int16Array] = []
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout_s
            while True:
                wait = deadline - loop.time() if not started else end_silence_s + 1
                try:
                    frame = await asyncio.wait_for(frames.get(), max(0.0, wait))
                except TimeoutError:
                    break
                loud = float(np.sqrt(np.mean(frame.astype(np.float64) ** 2))) > start_rms
                if not started:
                    pre = [*pre[-9:], frame]  # 200 ms before onset
                    if loud:
                        started = True
                        for f in pre:
                            await stream.feed(f)
                    continue
                await stream.feed(frame)
                spoken += 1
                quiet = 0 if loud else quiet + 1
                if quiet * 0.02 >= end_silence_s or spoken * 0.02 >= max_utterance_s:
                    break
            if not started:
                return ""
            return (await stream.finish()).text
    except TimeoutError:
        return ""
    finally:
        session.remove_audio_tap(frames.put_nowait)


async def run_ivr(
    session: MediaSession,
    tts: TtsEngine,
    lookup_status: Callable[[str], Awaitable[str]],
    *,
    lang: str = "zh",
    asr: AsrEngine | None = None,
) -> IvrOutcome:
    """Drive the menu until it transfers, hangs up, or the session closes."""
    speech = asr is not None and _asr_speaks(asr, lang)
    menu = IvrMenu(lang=lang, speech=speech)
    outcome = IvrOutcome(transfer=None)
    session.flush_digits()
    pending: list[IvrAction] = menu.handle(Start())
    while pending and not session.closed:
        action = pending.pop(0)
        event: IvrInput | None = None
        if isinstance(action, Say):
            if session.pending_digits:
                continue  # the caller typed ahead: skip prompts up to the next Collect
            pcm = await asyncio.to_thread(tts.synthesize, action.text, lang)
            await session.play(pcm, barge_in=True)
        elif isinstance(action, Collect):
            event = await _collect(session, action, asr if speech else None, lang, outcome)
        elif isinstance(action, PauseRecording):
            session.pause_recording()
        elif isinstance(action, ResumeRecording):
            session.resume_recording()
        elif isinstance(action, LookupStatus):
            event = StatusFound(await lookup_status(action.id_number))
        elif isinstance(action, Transfer):
            outcome.transfer = action
        elif isinstance(action, Hangup):
            break
        if event is not None:
            pending = menu.handle(event)
    outcome.choices = list(menu.choices)
    return outcome


def _asr_speaks(asr: AsrEngine, lang: str) -> bool:
    if not asr.supports(lang):
        log.info("ivr_dtmf_only", reason="asr_lang", engine=asr.name, lang=lang)
        return False
    return True


async def _collect(
    session: MediaSession,
    action: Collect,
    asr: AsrEngine | None,
    lang: str,
    outcome: IvrOutcome,
) -> IvrInput:
    keys = asyncio.create_task(
        session.collect_dtmf(
            max_digits=action.max_digits,
            timeout_s=action.timeout_s,
            inter_digit_timeout_s=5.0,
            terminators=action.terminators,
            flush=False,  # a key that barged into the prompt counts
        )
    )
    tasks: set[asyncio.Task[object]] = {keys}
    heard: asyncio.Task[str] | None = None
    if asr is not None and action.speech:
        phrases = ENGLISH_PHRASES if lang == "en" else ()
        heard = asyncio.create_task(
            listen(session, asr, lang=lang, phrases=phrases, timeout_s=action.timeout_s)
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
        return Keys(keys.result().digits)
    if heard is not None and heard.done() and not heard.cancelled() and heard.result():
        outcome.heard.append(heard.result())
        return Said(heard.result())
    return NoInput()
