"""Asyncio media: RTP endpoints driven by one shared 20 ms scheduler, and media operations.

The public API for the call controller is ``MediaSession`` (see ``session.py`` and
docs/media.md); ``MediaScheduler`` is built once per process and shared by all sessions.
"""

from lendline.telephony.media.events import DtmfReceived, MediaEvent, MediaTimeout, PlaybackDone
from lendline.telephony.media.scheduler import MediaScheduler
from lendline.telephony.media.session import CollectResult, MediaSession, PlayResult
from lendline.telephony.media.sources import (
    AudioSource,
    PcmSource,
    SequenceSource,
    ToneSource,
    load_wav,
)
from lendline.telephony.media.wav_sink import WavRecordingSink

__all__ = [
    "AudioSource",
    "CollectResult",
    "DtmfReceived",
    "MediaEvent",
    "MediaScheduler",
    "MediaSession",
    "MediaTimeout",
    "PcmSource",
    "PlayResult",
    "PlaybackDone",
    "SequenceSource",
    "ToneSource",
    "WavRecordingSink",
    "load_wav",
]
