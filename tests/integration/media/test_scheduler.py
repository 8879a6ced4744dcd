"""The one shared scheduler: two phases per tick, bounded catch-up, skipped frames kept in
media time. Driven by a ManualClock so lateness is exact."""

from __future__ import annotations

import asyncio

from lendline.clock import ManualClock
from lendline.telephony.media import MediaScheduler
from lendline.telephony.rtp.packet import RtpPacket
from lendline.telephony.rtp.stream import RtpStream


class Ticker:
    def __init__(self, log: list[str], name: str) -> None:
        self.log, self.name = log, name
        self.skipped = 0

    def tick_receive(self, now_s: float) -> None:
        self.log.append(f"rx-{self.name}")

    def tick_send(self, now_s: float) -> None:
        self.log.append(f"tx-{self.name}")

    def tick_skip(self, frames: int) -> None:
        self.skipped += frames


async def test_two_phases_and_bounded_catch_up_after_a_stall() -> None:
    clock = ManualClock(t0_s=100.0)
    sched = MediaScheduler(clock=clock, max_burst=3)
    log: list[str] = []
    a, b = Ticker(log, "a"), Ticker(log, "b")
    sched.add(a)
    sched.add(b)
    await asyncio.sleep(0.01)
    assert log[:4] == ["rx-a", "rx-b", "tx-a", "tx-b"]  # every receive before any send
    ticks = sched.ticks
    clock.advance(0.2)  # the process stalled for 200 ms: 10 frames owed
    await asyncio.sleep(0.06)
    assert sched.ticks - ticks == 3  # at most 3 sent in a burst …
    assert a.skipped == b.skipped == 7  # … the other 7 skipped, in media time
    await sched.close()


def test_skipped_frames_advance_the_rtp_clock() -> None:
    s = RtpStream(ssrc=1)
    first = RtpPacket.parse(s.send_frame(None))
    s.skip_frames(7)
    second = RtpPacket.parse(s.send_frame(None))
    assert second.timestamp - first.timestamp == 8 * 160
    assert second.sequence == (first.sequence + 1) & 0xFFFF  # nothing lost on the wire
