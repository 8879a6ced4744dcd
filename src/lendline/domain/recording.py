"""The recording-sink contract: telephony writes every call through it; the compliance
vault implements it with envelope encryption.

Audio is 16-bit little-endian PCM, interleaved stereo: left = caller, right = agent or bot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class RecordingMeta:
    call_id: str
    started_at: datetime
    kind: str = "call"  # call | bot | outbound — retention may differ per kind
    customer_id: str | None = None
    agent_id: str | None = None
    caller_masked: str = ""
    loan_id: str | None = None
    sample_rate_hz: int = 8000
    channels: int = 2


@dataclass(frozen=True, slots=True)
class RecordingInfo:
    recording_id: str
    call_id: str
    duration_s: float
    audio_bytes: int
    paused_s: float = 0.0
    extra: dict[str, str] = field(default_factory=dict)


class RecordingWriter(Protocol):
    recording_id: str

    def write(self, pcm16_stereo: bytes) -> None:
        """Append interleaved stereo frames; ignored (not stored) while paused."""
        ...

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def close(self) -> RecordingInfo: ...


class RecordingSink(Protocol):
    def open(self, meta: RecordingMeta) -> RecordingWriter: ...
