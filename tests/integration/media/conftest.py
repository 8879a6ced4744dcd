from __future__ import annotations

from collections.abc import AsyncIterator

import numpy as np
import pytest

from lendline.telephony.media import MediaScheduler, MediaSession


@pytest.fixture
async def scheduler() -> AsyncIterator[MediaScheduler]:
    s = MediaScheduler()
    yield s
    await s.close()


@pytest.fixture
async def pair(scheduler: MediaScheduler) -> AsyncIterator[tuple[MediaSession, MediaSession]]:
    """Two sessions on ephemeral loopback ports, connected to each other (PCMU)."""
    a = await MediaSession.open(scheduler, call_id="leg-a")
    b = await MediaSession.open(scheduler, call_id="leg-b")
    a.connect("127.0.0.1", b.local_port, payload_type=0)
    b.connect("127.0.0.1", a.local_port, payload_type=0)
    yield a, b
    await a.close()
    await b.close()


def dominant_hz(x: np.ndarray, rate: int = 8000) -> float:
    x = x.astype(np.float64)
    if len(x) < 64 or not np.any(x):
        return 0.0
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / rate)[int(spec.argmax())])
