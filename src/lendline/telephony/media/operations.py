"""The media operations of a ``MediaSession``: play, hold, DTMF, recording, bridging.

Split from ``session.py`` (lifecycle, datagrams and the 20 ms tick) to keep each module
to one idea; ``MediaSession`` inherits these. State lives on the session; every method
runs on the event loop thread.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

import numpy as np

from lendline.clock import Clock
from lendline.domain.recording import RecordingInfo, RecordingMeta, RecordingSink
from lendline.errors import Conflict
from lendline.telephony.media.events import MediaEvent, PlaybackDone
from lendline.telephony.media.recorder import RecordingTap
from lendline.telephony.media.sources import AudioSource, PcmSource, load_wav
from lendline.telephony.rtp.g711 import Int16Array
from lendline.telephony.rtp.stream import RtpStream

if TYPE_CHECKING:
    from lendline.speech.tts import TtsEngine
    from lendline.telephony.media.session import MediaSession

FRAME = 160  # samples per 20 ms at 8 kHz


@dataclass(frozen=True, slots=True)
class PlayResult:
    """How a ``play`` ended; ``digit`` is the key that barged in, if any."""

    interrupted: bool
    digit: str | None = None
    played_s: float = 0.0


@dataclass(frozen=True, slots=True)
class CollectResult:
    """Digits collected; ``reason``: max_digits | terminator | timeout | closed."""

    digits: str
    reason: str
    terminator: str | None = None


@dataclass(slots=True)
class _Playback:
    source: AudioSource
    done: asyncio.Future[PlayResult]
    barge_in: bool
    frames: int = 0


class MediaOperations:
    """Operations on a connected leg; state is declared here and set by ``MediaSession``."""

    clock: Clock
    stream: RtpStream | None
    _closed: asyncio.Event
    _digits: deque[str]
    _digit_arrived: asyncio.Event
    _playback: _Playback | None
    _hold: AudioSource | None
    _partner: MediaOperations | None
    _extras: tuple[MediaOperations, ...]
    _tap: RecordingTap | None
    _rx: Int16Array | None

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def _emit(self, event: MediaEvent) -> None:
        raise NotImplementedError

    # ---- playing -------------------------------------------------------------------
    async def play(
        self, source: AudioSource | Path | Int16Array, *, barge_in: bool = False
    ) -> PlayResult:
        """Play ``source`` (a source, a WAV path, or 8 kHz int16 samples) to the peer.

        Returns when it has been sent, or at once when ``barge_in`` and a key is pressed,
        or when ``stop_playback``/``close`` cuts it. Replaces a prompt already playing.
        """
        if isinstance(source, Path):
            source = PcmSource(load_wav(source))
        elif isinstance(source, np.ndarray):
            source = PcmSource(source)
        if self.closed or self.stream is None:
            return PlayResult(interrupted=True)
        self._finish_playback(interrupted=True)
        done: asyncio.Future[PlayResult] = asyncio.get_running_loop().create_future()
        self._playback = _Playback(source, done, barge_in)
        try:
            return await asyncio.shield(done)
        except asyncio.CancelledError:
            self._finish_playback(interrupted=True)
            raise

    async def say(
        self, text: str, tts: TtsEngine, *, lang: str = "zh", barge_in: bool = False
    ) -> PlayResult:
        """Speak ``text`` with ``tts`` (synthesised off the event loop; engines cache)."""
        pcm = await asyncio.to_thread(tts.synthesize, text, lang)
        return await self.play(pcm, barge_in=barge_in)

    def stop_playback(self) -> None:
        self._finish_playback(interrupted=True)

    @property
    def playing(self) -> bool:
        return self._playback is not None

    def _finish_playback(self, *, interrupted: bool, digit: str | None = None) -> None:
        pb, self._playback = self._playback, None
        if pb is None:
            return
        if not pb.done.done():
            pb.done.set_result(PlayResult(interrupted, digit, pb.frames * FRAME / 8000))
        self._emit(PlaybackDone(interrupted, self.clock.monotonic()))

    def start_hold(self, source: AudioSource) -> None:
        """Play ``source`` whenever no prompt is playing (music on hold)."""
        self._hold = source

    def stop_hold(self) -> None:
        self._hold = None

    # ---- DTMF ----------------------------------------------------------------------
    def send_dtmf(self, digits: str, *, duration_ms: int = 160) -> None:
        """Send key presses to the peer as RFC 4733 events (``duration_ms`` each)."""
        if self.stream is None:
            raise Conflict("media session is not connected", code="media_not_connected")
        self.stream.send_dtmf(digits, duration_ms=duration_ms)

    @property
    def pending_digits(self) -> str:
        """Keys pressed but not yet collected (type-ahead)."""
        return "".join(self._digits)

    def flush_digits(self) -> str:
        """Discard (and return) keys pressed but not yet collected."""
        out = "".join(self._digits)
        self._digits.clear()
        return out

    async def collect_dtmf(
        self,
        *,
        max_digits: int = 1,
        timeout_s: float = 5.0,
        inter_digit_timeout_s: float = 3.0,
        terminators: str = "#",
        prompt: AudioSource | Path | None = None,
        flush: bool = True,
    ) -> CollectResult:
        """Collect up to ``max_digits`` keys; the prompt (if any) stops at the first key.

        ``timeout_s`` runs from the end of the prompt to the first key,
        ``inter_digit_timeout_s`` between keys; a terminator ends collection (not included).
        """
        if flush:
            self._digits.clear()
        if prompt is not None:
            await self.play(prompt, barge_in=True)
        digits = ""
        while not self.closed:
            while self._digits:
                d = self._digits.popleft()
                if d in terminators:
                    return CollectResult(digits, "terminator", d)
                digits += d
                if len(digits) >= max_digits:
                    return CollectResult(digits, "max_digits")
            self._digit_arrived.clear()
            wait = timeout_s if not digits else inter_digit_timeout_s
            try:
                await asyncio.wait_for(self._digit_arrived.wait(), wait)
            except TimeoutError:
                return CollectResult(digits, "timeout")
        return CollectResult(digits, "closed")

    # ---- recording -----------------------------------------------------------------
    def start_recording(self, sink: RecordingSink, meta: RecordingMeta) -> str:
        """Record this leg in stereo (left = peer's audio, right = what we send); its id."""
        if self._tap is not None:
            raise Conflict("already recording", code="recording_active")
        self._tap = RecordingTap(sink.open(meta))
        return self._tap.writer.recording_id

    def pause_recording(self) -> None:
        if self._tap is not None:
            self._tap.pause()

    def resume_recording(self) -> None:
        if self._tap is not None:
            self._tap.resume()

    @property
    def recording_paused(self) -> bool:
        return self._tap is not None and self._tap.paused

    def stop_recording(self) -> RecordingInfo | None:
        tap, self._tap = self._tap, None
        return tap.close() if tap is not None else None

    # ---- bridging ------------------------------------------------------------------
    def bridge(self, other: MediaSession) -> None:
        """Connect two legs: each sends the other's received audio (and relays DTMF)."""
        if other is self:
            raise Conflict("cannot bridge a session to itself", code="bridge_self")
        self.unbridge()
        other.unbridge()
        self._partner, other._partner = other, self

    def unbridge(self) -> None:
        partner, self._partner = self._partner, None
        if partner is not None and partner._partner is self:
            partner._partner = None

    @property
    def bridged_to(self) -> MediaSession | None:
        return cast("MediaSession | None", self._partner)

    def mix_in(self, sources: tuple[MediaSession, ...]) -> None:
        """Also send the audio these legs receive, summed with the bridged partner's
        (a supervisor listening in, whispering or barging: ``telephony.media.mixer``).
        ``()`` removes them. Closed legs count as silence."""
        if self in sources:
            raise Conflict("a leg cannot hear itself", code="bridge_self")
        self._extras = tuple(sources)

    @property
    def mixed_in(self) -> tuple[MediaSession, ...]:
        return cast("tuple[MediaSession, ...]", self._extras)
