"""Sample-rate conversion to and from 8 kHz telephone audio (numpy only).

A windowed-sinc low-pass (Blackman window, cutoff at 0.9 × the lower Nyquist) is applied
before linear-phase interpolation, so a 16/22.05/44.1/48 kHz prompt does not alias when
brought down to 8 kHz. Good enough for speech; not a mastering resampler.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Int16Array = npt.NDArray[np.int16]
FloatArray = npt.NDArray[np.float64]


def _lowpass(cutoff: float, taps: int = 63) -> FloatArray:
    """FIR taps; ``cutoff`` as a fraction of the sampling rate (0 < cutoff < 0.5)."""
    n = np.arange(taps) - (taps - 1) / 2
    h = 2 * cutoff * np.sinc(2 * cutoff * n) * np.blackman(taps)
    out: FloatArray = h / h.sum()
    return out


def resample(samples: Int16Array, from_hz: int, to_hz: int) -> Int16Array:
    """Convert mono int16 ``samples`` from ``from_hz`` to ``to_hz``."""
    if from_hz == to_hz or len(samples) == 0:
        return samples.astype(np.int16, copy=False)
    if from_hz <= 0 or to_hz <= 0:
        raise ValueError("sample rates must be positive")
    x = samples.astype(np.float64)
    if to_hz < from_hz:
        x = np.convolve(x, _lowpass(0.45 * to_hz / from_hz), mode="same")
    n_out = round(len(x) * to_hz / from_hz)
    positions = np.arange(n_out) * (from_hz / to_hz)
    y = np.interp(positions, np.arange(len(x)), x)
    if to_hz > from_hz:
        y = np.convolve(y, _lowpass(0.45 * from_hz / to_hz), mode="same")
    out: Int16Array = np.clip(np.round(y), -32768, 32767).astype(np.int16)
    return out


def stereo_interleave(left: Int16Array, right: Int16Array) -> bytes:
    """Two mono int16 arrays (padded to the longer) → interleaved little-endian stereo."""
    n = max(len(left), len(right))
    frame = np.zeros((n, 2), dtype="<i2")
    frame[: len(left), 0] = left
    frame[: len(right), 1] = right
    return frame.tobytes()


class StreamUpsampler:
    """Streaming integer-factor upsampler (8 kHz → 16 kHz for ASR engines).

    Zero-stuffs each chunk and runs one FIR low-pass whose state carries across chunks, so
    20 ms frames come out seamless (resampling each frame alone would click every 20 ms).
    Adds a constant delay of ``(taps - 1) / 2`` output samples.
    """

    def __init__(self, factor: int = 2, taps: int = 63) -> None:
        self.factor = factor
        self._h = _lowpass(0.5 / factor * 0.9, taps) * factor
        self._state = np.zeros(taps - 1)

    def process(self, chunk: Int16Array) -> Int16Array:
        z = np.zeros(len(chunk) * self.factor)
        z[:: self.factor] = chunk
        buf = np.concatenate([self._state, z])
        y = np.convolve(buf, self._h, mode="valid")
        self._state = buf[len(buf) - len(self._state) :]
        out: Int16Array = np.clip(np.round(y), -32768, 32767).astype(np.int16)
        return out
