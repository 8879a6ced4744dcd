"""A plain WAV ``RecordingSink`` for development and tests (stereo, 8 kHz, 16-bit).

Left = caller, right = agent or bot, as the ``lendline.domain.recording`` contract says.
Production uses the compliance vault, which implements the same protocol with encryption.
"""

from __future__ import annotations

import uuid
import wave
from pathlib import Path

from lendline.domain.recording import RecordingInfo, RecordingMeta, RecordingWriter

_BYTES_PER_FRAME = 4  # two channels × 16 bit


class WavRecordingWriter:
    """Writes interleaved stereo PCM to ``path``; drops audio while paused."""

    def __init__(self, path: Path, meta: RecordingMeta, recording_id: str) -> None:
        self.recording_id = recording_id
        self.path = path
        self._meta = meta
        self._wav = wave.open(str(path), "wb")  # noqa: SIM115 - closed in close()
        self._wav.setnchannels(meta.channels)
        self._wav.setsampwidth(2)
        self._wav.setframerate(meta.sample_rate_hz)
        self._paused = False
        self._written = 0
        self._dropped = 0
        self._closed = False

    def write(self, pcm16_stereo: bytes) -> None:
        if self._closed:
            return
        if self._paused:
            self._dropped += len(pcm16_stereo)
            return
        self._wav.writeframesraw(pcm16_stereo)
        self._written += len(pcm16_stereo)

    def pause(self) -> None:
        self._paused = True

    def resume(self) -> None:
        self._paused = False

    def close(self) -> RecordingInfo:
        if not self._closed:
            self._wav.close()
            self._closed = True
        rate = self._meta.sample_rate_hz * _BYTES_PER_FRAME
        return RecordingInfo(
            recording_id=self.recording_id,
            call_id=self._meta.call_id,
            duration_s=self._written / rate,
            audio_bytes=self._written,
            paused_s=self._dropped / rate,
            extra={"path": str(self.path)},
        )


class WavRecordingSink:
    """Opens one WAV file per recording under ``directory`` (``<call_id>-<id>.wav``)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def open(self, meta: RecordingMeta) -> RecordingWriter:
        self.directory.mkdir(parents=True, exist_ok=True)
        rid = uuid.uuid4().hex
        safe_call = "".join(c for c in meta.call_id if c.isalnum() or c in "-_.")[:64] or "call"
        return WavRecordingWriter(self.directory / f"{safe_call}-{rid}.wav", meta, rid)
