"""Carries out the IVR menu's actions (``lendline.telephony.ivr``) on a caller's media leg.

Prompts are synthesised once per text (``TtsEngine``, cached) and played with barge-in; a
``Collect`` waits for keys; ``LookupStatus`` asks the ``status_lookup`` callable. The run
ends with the menu's ``Transfer`` (returned, with the choices made) or when the call ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import numpy as np

from lendline.speech.tts import TtsEngine
from lendline.telephony.ivr import (
    Collect,
    IvrAction,
    IvrMenu,
    Keys,
    LookupStatus,
    NoInput,
    PauseRecording,
    ResumeRecording,
    Say,
    Start,
    StatusFound,
    Transfer,
)
from lendline.telephony.media import MediaSession, PcmSource
from lendline.telephony.rtp.g711 import Int16Array

StatusLookup = Callable[[str], Awaitable[str]]


@dataclass(frozen=True, slots=True)
class IvrOutcome:
    """How the menu ended: ``transfer`` to a target, or ``hangup`` (caller left)."""

    kind: str
    target: str = ""
    reason: str = ""
    choices: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()  # every key sequence collected, in order


class PromptCache:
    """TTS audio per prompt text, synthesised off the event loop, once."""

    def __init__(self, tts: TtsEngine | None) -> None:
        self.tts = tts
        self._audio: dict[tuple[str, str], Int16Array] = {}

    async def audio(self, text: str, lang: str) -> Int16Array:
        key = (text, lang)
        pcm = self._audio.get(key)
        if pcm is None:
            if self.tts is None:  # no TTS: a short beep stands in for the prompt
                t = np.arange(1600) / 8000.0
                pcm = (np.sin(2 * np.pi * 440 * t) * 6000).astype(np.int16)
            else:
                pcm = await asyncio.to_thread(self.tts.synthesize, text, lang)
            self._audio[key] = pcm
        return pcm


async def run_ivr(
    leg: MediaSession,
    prompts: PromptCache,
    status_lookup: StatusLookup,
    *,
    lang: str = "zh",
) -> IvrOutcome:
    """Run the DTMF menu until it transfers or the media leg closes."""
    menu = IvrMenu(lang=lang)
    keys: list[str] = []
    pending = menu.handle(Start())
    pending_audio: list[Int16Array] = []
    while pending:
        action = pending.pop(0)
        if leg.closed:
            break
        if isinstance(action, Say):
            pending_audio.append(await prompts.audio(action.text, lang))
            if pending and isinstance(pending[0], Say):
                continue  # play consecutive prompts as one, so a key can cut them all
            audio = np.concatenate(pending_audio)
            pending_audio.clear()
            if pending and isinstance(pending[0], Collect):
                collect = pending.pop(0)
                assert isinstance(collect, Collect)
                pending = _collected(menu, keys, await _collect(leg, collect, audio)) + pending
            else:
                await leg.play(PcmSource(audio), barge_in=False)
        elif isinstance(action, Collect):
            pending = _collected(menu, keys, await _collect(leg, action, None)) + pending
        elif isinstance(action, PauseRecording):
            leg.pause_recording()
        elif isinstance(action, ResumeRecording):
            leg.resume_recording()
        elif isinstance(action, LookupStatus):
            text = await status_lookup(action.id_number)
            pending = menu.handle(StatusFound(text)) + pending
        elif isinstance(action, Transfer):
            return IvrOutcome(
                "transfer", action.target, action.reason, tuple(menu.choices), tuple(keys)
            )
    return IvrOutcome("hangup", choices=tuple(menu.choices), keys=tuple(keys))


async def _collect(leg: MediaSession, c: Collect, prompt: Int16Array | None) -> str | None:
    result = await leg.collect_dtmf(
        max_digits=c.max_digits,
        timeout_s=c.timeout_s,
        inter_digit_timeout_s=4.0,
        terminators=c.terminators,
        prompt=PcmSource(prompt) if prompt is not None else None,
    )
    if result.reason == "closed":
        return None
    return result.digits


def _collected(menu: IvrMenu, keys: list[str], digits: str | None) -> list[IvrAction]:
    if digits is None:
        return []
    if digits:
        keys.append(digits)
        return list(menu.handle(Keys(digits)))
    return list(menu.handle(NoInput()))
