"""Audio sources a session plays: 8 kHz int16 mono, read 20 ms (160 samples) at a time.

``read(n)`` returns exactly ``n`` samples, or fewer / ``None`` when the source is finished.
Sources are plain objects (no asyncio), so they are tested without an event loop.
"""

from __future__ import annotations

import wave
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

import numpy as np

from lendline.errors import ValidationError
from lendline.telephony.rtp.g711 import Int16Array
from lendline.telephony.rtp.resample import resample

RATE_HZ = 8000


class AudioSource(Protocol):
    def read(self, samples: int) -> Int16Array | None:
        """Up to ``samples`` int16 samples at 8 kHz, or ``None`` when finished."""
        ...


class PcmSource:
    """A finite buffer of 8 kHz int16 samples."""

    def __init__(self, pcm: Int16Array) -> None:
        self._pcm = pcm.astype(np.int16, copy=False)
        self._pos = 0

    @property
    def duration_s(self) -> float:
        return len(self._pcm) / RATE_HZ

    def read(self, samples: int) -> Int16Array | None:
        if self._pos >= len(self._pcm):
            return None
        chunk = self._pcm[self._pos : self._pos + samples]
        self._pos += samples
        return chunk


class ToneSource:
    """A sine tone (``freq_hz``) for ``duration_s`` (``None`` = endless)."""

    def __init__(self, freq_hz: float, duration_s: float | None, amplitude: int = 8000) -> None:
        self.freq_hz = freq_hz
        self.amplitude = amplitude
        self._left = None if duration_s is None else int(duration_s * RATE_HZ)
        self._n = 0

    def read(self, samples: int) -> Int16Array | None:
        if self._left is not None:
            if self._left <= 0:
                return None
            samples = min(samples, self._left)
            self._left -= samples
        t = (np.arange(samples) + self._n) / RATE_HZ
        self._n += samples
        out: Int16Array = (self.amplitude * np.sin(2 * np.pi * self.freq_hz * t)).astype(np.int16)
        return out


class SequenceSource:
    """Several sources one after another."""

    def __init__(self, sources: Iterable[AudioSource]) -> None:
        self._sources = list(sources)

    def read(self, samples: int) -> Int16Array | None:
        while self._sources:
            chunk = self._sources[0].read(samples)
            if chunk is not None and len(chunk):
                return chunk
            self._sources.pop(0)
        return None


def load_wav(path: Path) -> Int16Array:
    """A WAV file (PCM 8/16-bit, any rate, mono or stereo) as 8 kHz mono int16.

    Raises ``ValidationError`` (field ``path``) when the file is not PCM WAV.
    """
    try:
        with wave.open(str(path), "rb") as w:
            width, channels, rate = w.getsampwidth(), w.getnchannels(), w.getframerate()
            raw = w.readframes(w.getnframes())
    except (wave.Error, EOFError) as exc:
        raise ValidationError(f"not a PCM WAV file: {exc}", field="path") from exc
    if width == 2:
        pcm = np.frombuffer(raw, dtype="<i2").astype(np.int16)
    elif width == 1:
        pcm = ((np.frombuffer(raw, dtype=np.uint8).astype(np.int16) - 128) << 8).astype(np.int16)
    else:
        raise ValidationError(f"unsupported sample width {width} bytes", field="path")
    if channels > 1:
        pcm = pcm.reshape(-1, channels).mean(axis=1).astype(np.int16)
    return resample(pcm, rate, RATE_HZ)


def save_wav(path: Path, pcm: Int16Array, rate_hz: int = RATE_HZ) -> None:
    """Write mono int16 samples as a WAV file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate_hz)
        w.writeframes(pcm.astype("<i2").tobytes())
