"""Prompts the call controller speaks itself (wait announcements, callback, apologies),
synthesised once per text off the event loop; the IVR menu and the voicebot are run by
``telephony.media.ivr_runner`` and ``telephony.voicebot``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import numpy as np

from lendline.speech.tts import ToneTts, TtsEngine
from lendline.telephony.rtp.g711 import Int16Array

StatusLookup = Callable[[str], Awaitable[str]]


class PromptCache:
    """TTS audio per prompt text, synthesised off the event loop, once."""

    def __init__(self, tts: TtsEngine | None) -> None:
        self.tts = tts
        self._audio: dict[tuple[str, str], Int16Array] = {}

    @property
    def engine(self) -> TtsEngine:
        """The TTS for the menu and the voicebot: ours, or one beep per sentence."""
        return self.tts if self.tts is not None else ToneTts()

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
