"""Events a ``MediaSession`` reports to its listeners (the call controller)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DtmfReceived:
    """A key press from the peer (RFC 4733), reported once per tone."""

    digit: str
    at_s: float  # monotonic seconds


@dataclass(frozen=True, slots=True)
class PlaybackDone:
    """A ``play`` finished; ``interrupted`` when barge-in or ``stop_playback`` cut it."""

    interrupted: bool
    at_s: float


@dataclass(frozen=True, slots=True)
class MediaTimeout:
    """No RTP from the peer for ``silent_s`` seconds (the peer is probably gone)."""

    silent_s: float
    at_s: float


MediaEvent = DtmfReceived | PlaybackDone | MediaTimeout
