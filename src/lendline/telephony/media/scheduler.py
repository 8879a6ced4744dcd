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

    def tick_skip(self, frames: int) -> None: ...


class MediaScheduler:
    """Drives all registered sessions every ``period_s`` seconds."""

    def __init__(
        self, *, period_s: float = 0.020, clock: Clock | None = None, max_burst: int = 5
    ) -> None:
        """``max_burst``: after a stall, up to this many frames per call are sent at once
        (a peer's jitter buffer absorbs 100 ms); older ones are skipped in media time."""
        self.period_s = period_s
        self.max_burst = max_burst
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
        self.pacer = pacer = Pacer(self.clock.monotonic(), self.period_s, max_burst=self.max_burst)
        while self._sessions:
            now = self.clock.monotonic()
            skipped_before = pacer.skipped
            late_s = now - pacer.next_deadline()  # before ``due`` moves the schedule on
            n = pacer.due(now)
            if pacer.skipped > skipped_before:
                self._skip(pacer.skipped - skipped_before)
            if n:
                self.max_lateness_s = max(self.max_lateness_s, late_s)
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

    def _skip(self, frames: int) -> None:
        """The process fell too far behind: frames not sent still pass in media time."""
        for s in list(self._sessions.values()):
            try:
                s.tick_skip(frames)
            except Exception:
                log.exception("media_tick_skip_failed")

    async def close(self) -> None:
        self._sessions.clear()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


def request_realtime(priority: int = 10) -> bool:
    """Ask the OS to schedule this process SCHED_RR at ``priority`` (as media servers run).

    On a busy host default scheduling can leave the process unscheduled for tens of ms, which
    shows as jitter (docs/media.md, benchmark). Returns False, with a warning logged, when
    not permitted (needs CAP_SYS_NICE) or not supported; media still works without it.
    """
    import os

    try:
        os.sched_setscheduler(0, os.SCHED_RR, os.sched_param(priority))
    except (PermissionError, OSError, AttributeError) as exc:
        log.warning("media_realtime_unavailable", error=str(exc))
        return False
    return True
