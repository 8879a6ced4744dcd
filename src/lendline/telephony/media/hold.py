"""Music on hold (synthesised here, nothing downloaded) and the periodic wait announcement.

``MusicOnHold`` is an endless source: a slow C-major pentatonic melody over soft chords,
sine partials with a gentle attack/release, rendered once (12 s loop) and shared.
``hold_with_announcements`` keeps the music going and, every ``interval_s``, plays the
current position / estimated wait ("您前面还有3位客户，预计等待约1分钟") over it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import lru_cache

import numpy as np

from lendline.telephony.media.session import MediaSession
from lendline.telephony.media.sources import RATE_HZ, AudioSource
from lendline.telephony.rtp.g711 import Int16Array
from lendline.telephony.rtp.resample import FloatArray

# (MIDI note of the melody, chord root) per beat; 0.75 s a beat, 16 beats = 12 s.
_MELODY = [72, 76, 79, 76, 74, 72, 69, 72, 67, 69, 72, 74, 76, 74, 72, 72]
_CHORDS = [48, 48, 48, 48, 45, 45, 45, 45, 41, 41, 41, 41, 43, 43, 43, 48]
_BEAT_S = 0.75


def _hz(note: int) -> float:
    return float(440.0 * 2 ** ((note - 69) / 12))


def _note(freq_hz: float, dur_s: float, level: float) -> FloatArray:
    t = np.arange(int(dur_s * RATE_HZ)) / RATE_HZ
    tone = np.sin(2 * np.pi * freq_hz * t) + 0.3 * np.sin(4 * np.pi * freq_hz * t)
    env = np.minimum(1.0, t / 0.04) * np.exp(-2.2 * t)  # soft attack, bell-like decay
    out: FloatArray = level * tone * env
    return out


@lru_cache(maxsize=1)
def render_music_loop() -> Int16Array:
    """The 12 s loop as 8 kHz int16 (peak about −12 dBFS)."""
    beat = int(_BEAT_S * RATE_HZ)
    out = np.zeros(beat * len(_MELODY) + RATE_HZ, dtype=np.float64)
    for i, (note, root) in enumerate(zip(_MELODY, _CHORDS, strict=True)):
        start = i * beat
        mel = _note(_hz(note), _BEAT_S * 1.6, 0.5)
        out[start : start + len(mel)] += mel
        if i % 4 == 0:  # a chord every bar, held across it
            for interval in (0, 4, 7):
                ch = _note(_hz(root + interval), _BEAT_S * 4.5, 0.18)
                out[start : start + len(ch)] += ch
    # fold the tail over the start so the loop is seamless
    tail = out[beat * len(_MELODY) :]
    out = out[: beat * len(_MELODY)]
    out[: len(tail)] += tail
    out *= (10 ** (-12 / 20) * 32767) / max(1e-9, float(np.abs(out).max()))
    pcm: Int16Array = out.astype(np.int16)
    return pcm


class MusicOnHold:
    """Endless music on hold; ``read`` never returns ``None``."""

    def __init__(self) -> None:
        self._loop = render_music_loop()
        self._pos = 0

    def read(self, samples: int) -> Int16Array:
        start, n = self._pos, len(self._loop)
        self._pos = (start + samples) % n
        if start + samples <= n:
            return self._loop[start : start + samples]
        out: Int16Array = self._loop[(np.arange(samples) + start) % n]
        return out


async def hold_with_announcements(
    session: MediaSession,
    announcement: Callable[[], Awaitable[AudioSource | None]],
    *,
    interval_s: float = 30.0,
    first_after_s: float = 0.0,
    music: AudioSource | None = None,
) -> None:
    """Music on hold until cancelled, with ``announcement()`` played every ``interval_s``.

    ``announcement`` is asked each time (the position and wait change); ``None`` skips one.
    The caller cancels the task when an agent answers; the music stops then.
    """
    session.start_hold(music or MusicOnHold())
    try:
        await asyncio.sleep(first_after_s)
        while not session.closed:
            source = await announcement()
            if source is not None:
                await session.play(source)
            await asyncio.sleep(interval_s)
    finally:
        session.stop_hold()
