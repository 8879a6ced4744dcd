"""Text-to-speech behind one interface; espeak-ng by default, cached by text hash.

``TtsEngine.synthesize(text, lang)`` gives 8 kHz mono int16 samples, ready for G.711.
``EspeakTts`` speaks Mandarin through the ``cmn-latn-pinyin`` voice (hanzi → numbered
pinyin first, see ``lendline.speech.pinyin``) and English through ``en-us``; each result is
stored as ``<cache_dir>/<sha256>.wav`` so a prompt is synthesised once per text and voice.
"""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Protocol

import numpy as np

from lendline.errors import ConfigError, UpstreamError
from lendline.speech.pinyin import to_pinyin, warm
from lendline.telephony.media.sources import load_wav, save_wav
from lendline.telephony.rtp.g711 import Int16Array

VOICES = {"zh": "cmn-latn-pinyin", "en": "en-us"}
# espeak counts each pinyin syllable as a word: 200 "wpm" is 3.3 syllables a second, a
# clear telephone pace for Mandarin (conversation runs at 4–5); English at 160 wpm.
SPEEDS_WPM = {"zh": 200, "en": 160}


class TtsEngine(Protocol):
    def synthesize(self, text: str, lang: str = "zh") -> Int16Array:
        """Speech for ``text`` as 8 kHz mono int16 samples."""
        ...


def _lang_key(lang: str) -> str:
    return "zh" if lang.lower().startswith(("zh", "cmn")) else "en"


class EspeakTts:
    """espeak-ng through a subprocess, with a WAV cache keyed by (voice, speed, text).

    ``speed_wpm`` overrides espeak's words per minute (default per language,
    ``SPEEDS_WPM``); ``cache_dir`` None disables the cache.
    Raises ``ConfigError`` (``tts_unavailable``) if espeak-ng is not installed.
    """

    def __init__(
        self,
        cache_dir: Path | None,
        *,
        binary: str = "espeak-ng",
        speed_wpm: int | None = None,
        timeout_s: float = 20.0,
    ) -> None:
        self.cache_dir = cache_dir
        self.binary = binary
        self.speed_wpm = speed_wpm
        self.timeout_s = timeout_s
        warm()  # at start-up, not under the first call's prompt (see ``pinyin.warm``)

    def cache_path(self, text: str, lang: str) -> Path | None:
        if self.cache_dir is None:
            return None
        key = f"espeak-ng|{VOICES[_lang_key(lang)]}|{self._speed(lang)}|{text}"
        return self.cache_dir / f"{hashlib.sha256(key.encode()).hexdigest()}.wav"

    def _speed(self, lang: str) -> int:
        return self.speed_wpm or SPEEDS_WPM[_lang_key(lang)]

    def engine_text(self, text: str, lang: str) -> str:
        """What espeak-ng is actually given (pinyin for Mandarin)."""
        return to_pinyin(text) if _lang_key(lang) == "zh" else text

    def synthesize(self, text: str, lang: str = "zh") -> Int16Array:
        cached = self.cache_path(text, lang)
        if cached is not None and cached.is_file():
            return load_wav(cached)
        exe = shutil.which(self.binary)
        if exe is None:
            raise ConfigError(f"{self.binary} is not installed", code="tts_unavailable")
        voice = VOICES[_lang_key(lang)]
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "tts.wav"
            try:
                subprocess.run(
                    [
                        exe,
                        "-v",
                        voice,
                        "-s",
                        str(self._speed(lang)),
                        "-w",
                        str(out),
                        "--",
                        self.engine_text(text, lang),
                    ],
                    check=True,
                    capture_output=True,
                    timeout=self.timeout_s,
                )
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
                raise UpstreamError(f"espeak-ng failed: {exc}", code="tts_failed") from exc
            pcm = _normalise(load_wav(out))
        if cached is not None:
            cached.parent.mkdir(parents=True, exist_ok=True)
            part = cached.with_suffix(".part")
            save_wav(part, pcm)
            part.replace(cached)
        return pcm

    async def synthesize_async(self, text: str, lang: str = "zh") -> Int16Array:
        """``synthesize`` off the event loop (espeak takes tens of milliseconds)."""
        return await asyncio.to_thread(self.synthesize, text, lang)


def _normalise(pcm: Int16Array, peak_dbfs: float = -3.0) -> Int16Array:
    """Scale to ``peak_dbfs`` so espeak's near-full-scale output does not clip in G.711."""
    peak = int(np.abs(pcm.astype(np.int32)).max()) if len(pcm) else 0
    if peak == 0:
        return pcm
    gain = 10 ** (peak_dbfs / 20) * 32767 / peak
    out: Int16Array = np.clip(pcm * gain, -32768, 32767).astype(np.int16)
    return out


class ToneTts:
    """A TTS stand-in for hosts without espeak-ng: one short beep per sentence.

    Not a fake of espeak: a documented degraded mode so a demo still runs.
    """

    def synthesize(self, text: str, lang: str = "zh") -> Int16Array:
        t = np.arange(int(0.3 * 8000)) / 8000
        out: Int16Array = (6000 * np.sin(2 * np.pi * 660 * t)).astype(np.int16)
        return out


def build_tts(engine: str, cache_dir: Path) -> TtsEngine:
    """The TTS named by settings (``espeak-ng`` | ``tone``)."""
    if engine in ("espeak-ng", "espeak"):
        return EspeakTts(cache_dir)
    if engine == "tone":
        return ToneTts()
    raise ConfigError(f"unknown tts_engine {engine!r}", code="invalid_tts_engine")
