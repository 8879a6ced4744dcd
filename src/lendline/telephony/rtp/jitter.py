"""Adaptive jitter buffer for 20 ms audio frames.

``push`` stores packets by extended sequence number as they arrive (any order);
``pop`` is called once per playout tick and gives the next frame or ``None`` (a gap the
caller conceals). The target depth follows the measured interarrival jitter::

    target_frames = clamp(1 + ceil(3 × jitter_ms / frame_ms), min_frames, max_frames)

State table::

    buffering --pop, depth >= target--> playing      (return a frame)
    buffering --pop, depth <  target--> buffering    (return None, hold)
    playing   --pop, frame present-->   playing      (return it)
    playing   --pop, frame missing, depth > 0--> playing (return None: lost, skip it)
    playing   --pop, buffer empty-->    buffering    (underrun: re-buffer to target)
    playing   --pop, depth > target + 2--> playing   (drop the oldest frame: shrink delay)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from lendline.telephony.rtp.packet import seq_delta


@dataclass(slots=True)
class JitterCounters:
    late: int = 0
    duplicate: int = 0
    lost: int = 0
    underruns: int = 0
    dropped_for_delay: int = 0


class JitterBuffer:
    """Frames in, frames out at the playout rate; depth adapts to jitter."""

    def __init__(
        self,
        *,
        frame_ms: int = 20,
        clock_rate_hz: int = 8000,
        min_frames: int = 1,
        max_frames: int = 10,
    ) -> None:
        self.frame_ms = frame_ms
        self.clock_rate_hz = clock_rate_hz
        self.min_frames = min_frames
        self.max_frames = max_frames
        self.counters = JitterCounters()
        self._frames: dict[int, bytes] = {}
        self._next: int | None = None  # extended seq of the next frame to play
        self._last_ext: int | None = None
        self._playing = False
        self._jitter_ms = 0.0
        self._prev_transit: float | None = None

    @property
    def jitter_ms(self) -> float:
        return self._jitter_ms

    @property
    def target_frames(self) -> int:
        want = 1 + math.ceil(3 * self._jitter_ms / self.frame_ms - 1e-6)
        return max(self.min_frames, min(self.max_frames, want))

    @property
    def depth(self) -> int:
        """Frames held from the next playout position onwards."""
        return len(self._frames)

    def _extend(self, seq: int) -> int:
        if self._last_ext is None:
            self._last_ext = seq
            return seq
        ext = self._last_ext + seq_delta(seq, self._last_ext & 0xFFFF)
        self._last_ext = max(self._last_ext, ext)
        return ext

    def push(self, sequence: int, timestamp: int, payload: bytes, arrival_s: float) -> None:
        """Store one frame. Late (already played) and duplicate frames are counted, dropped."""
        transit_ms = arrival_s * 1000.0 - timestamp * 1000.0 / self.clock_rate_hz
        if self._prev_transit is not None:
            d = abs(transit_ms - self._prev_transit)
            if d < 10_000:
                self._jitter_ms += (d - self._jitter_ms) / 16.0
        self._prev_transit = transit_ms
        ext = self._extend(sequence)
        if self._next is not None and ext < self._next:
            self.counters.late += 1
            return
        if ext in self._frames:
            self.counters.duplicate += 1
            return
        self._frames[ext] = payload
        if self._next is None:
            self._next = ext

    def pop(self) -> bytes | None:
        """The frame for this playout tick, or ``None`` (buffering, or a lost frame)."""
        if self._next is None:
            return None
        if not self._playing:
            if len(self._frames) < self.target_frames:
                return None
            self._playing = True
            self._next = min(self._frames)
        if not self._frames:
            self._playing = False
            self.counters.underruns += 1
            return None
        while len(self._frames) > self.target_frames + 2:
            oldest = min(self._frames)
            del self._frames[oldest]
            self.counters.dropped_for_delay += 1
            self._next = max(self._next, oldest + 1)
        frame = self._frames.pop(self._next, None)
        if frame is None:
            self.counters.lost += 1
        self._next += 1
        return frame
