"""The recording tap of a session: 20 ms stereo frames, batched into ~1 s writes.

Left = what the caller sent us (their voice), right = what we sent them (the agent's voice
through a bridge, or the bot's prompts) — on the caller's leg this is exactly the
dual-channel layout ``lendline.domain.recording`` asks for.
"""

from __future__ import annotations

import numpy as np

from lendline.domain.recording import RecordingInfo, RecordingWriter
from lendline.telephony.rtp.g711 import Int16Array


class RecordingTap:
    """Buffers stereo frames and writes them through a ``RecordingWriter``."""

    def __init__(self, writer: RecordingWriter, *, flush_frames: int = 50) -> None:
        self.writer = writer
        self.flush_frames = flush_frames
        self._chunks: list[bytes] = []
        self.paused = False

    def add(self, left: Int16Array | None, right: Int16Array | None, samples: int) -> None:
        frame = np.zeros((samples, 2), dtype="<i2")
        if left is not None:
            frame[: len(left), 0] = left[:samples]
        if right is not None:
            frame[: len(right), 1] = right[:samples]
        self._chunks.append(frame.tobytes())
        if len(self._chunks) >= self.flush_frames:
            self.flush()

    def flush(self) -> None:
        if self._chunks:
            self.writer.write(b"".join(self._chunks))
            self._chunks.clear()

    def pause(self) -> None:
        """Stop storing audio (a caller reads out a card or ID number)."""
        self.flush()
        self.writer.pause()
        self.paused = True

    def resume(self) -> None:
        self.flush()
        self.writer.resume()
        self.paused = False

    def close(self) -> RecordingInfo:
        self.flush()
        return self.writer.close()
