"""One 20 ms scheduler for every media session of the process.

A single asyncio task wakes at deadlines computed from a monotonic origin
(``lendline.telephony.rtp.pacing.Pacer``: tick ``n`` at ``t0 + n × 20 ms``), so there is no
drift and no task per call. Each tick runs in two phases over all sessions: first every
session pulls its received frame from its jitter buffer, then every session sends — so a
bridge forwards the frame its partner received in this same tick.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Protocol

import structlog

from lendline.clock import Clock, SystemClock
from lendline.telephony.rtp.pacing import Pacer

log = structlog.get_logger(__name__)


class Ticking(Protocol):
    def tick_receive(self, now_s: float) -> None: ...

    def tick_send(self, now_s: float) -> None: ...


class MediaScheduler:
    """Drives all registered sessions every ``period_s`` seconds."""

    def __init__(self, *, period_s: float = 0.020, clock: Clock | None = None) -> None:
        self.period_s = period_s
        self.clock = clock or SystemClock()
        self._sessions: dict[int, Ticking] = {}
        self._task: asyncio.Task[None] | None = None
        self.pacer: Pacer | None = None
        self.max_lateness_s = 0.0
        self.ticks = 0

    def add(self, session: Ticking) -> None:
        self._sessions[id(session)] = session
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="media-tick")

    def discard(self, session: Ticking) -> None:
        self._sessions.pop(id(session), None)

    @property
    def session_count(self) -> int:
        return len(self._sessions)

    async def _run(self) -> None:
        self.pacer = pacer = Pacer(self.clock.monotonic(), self.period_s, max_burst=3)
        while self._sessions:
            now = self.clock.monotonic()
            n = pacer.due(now)
            if n:
                self.max_lateness_s = max(self.max_lateness_s, pacer.lateness(now))
            for _ in range(n):
                self._tick(now)
            delay = pacer.next_deadline() - self.clock.monotonic()
            await asyncio.sleep(max(0.0, delay))
        self._task = None

    def _tick(self, now_s: float) -> None:
        self.ticks += 1
        sessions = list(self._sessions.values())
        for s in sessions:
            try:
                s.tick_receive(now_s)
            except Exception:  # one broken session must not stop the others' audio
                log.exception("media_tick_receive_failed")
        for s in sessions:
            try:
                s.tick_send(now_s)
            except Exception:
                log.exception("media_tick_send_failed")

    async def close(self) -> None:
        self._sessions.clear()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
