from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from lendline.telephony.rtp.jitter import JitterBuffer
from lendline.telephony.rtp.pacing import Pacer


def _frame(i: int) -> bytes:
    return bytes([i % 256]) * 160


def test_in_order_stream_plays_every_frame_after_initial_buffering() -> None:
    jb = JitterBuffer()
    out = []
    for i in range(50):
        jb.push(i, i * 160, _frame(i), i * 0.02)
        out.append(jb.pop())
    played = [f[0] for f in out if f is not None]
    assert played == list(range(len(played)))
    assert len(played) >= 48
    assert jb.counters.lost == 0


def test_reordered_packets_come_out_in_order() -> None:
    jb = JitterBuffer(min_frames=3)
    order = [0, 2, 1, 3, 5, 4, 6, 7, 9, 8, 10, 11]
    out = []
    for k, i in enumerate(order):
        jb.push(i, i * 160, _frame(i), k * 0.02)
        out.append(jb.pop())
    out += [jb.pop() for _ in range(3)]
    assert [f[0] for f in out if f is not None] == list(range(12))


def test_lost_frame_is_a_gap_and_late_arrival_is_dropped() -> None:
    jb = JitterBuffer(min_frames=2)
    out = []
    for i in [0, 1, 2, 4, 5, 6]:
        jb.push(i, i * 160, _frame(i), i * 0.02)
        out.append(jb.pop())
    out.append(jb.pop())
    jb.push(3, 3 * 160, _frame(3), 0.2)  # far too late
    played = [None if f is None else f[0] for f in out]
    assert played[played.index(0) :] == [0, 1, 2, None, 4, 5]
    assert jb.counters.lost == 1 and jb.counters.late == 1


def test_target_depth_grows_with_jitter_and_stays_bounded() -> None:
    calm, shaky = JitterBuffer(), JitterBuffer()
    for i in range(200):
        calm.push(i, i * 160, _frame(i), i * 0.02)
        calm.pop()
        shaky.push(i, i * 160, _frame(i), i * 0.02 + (0.06 if i % 2 else 0.0))
        shaky.pop()
    assert calm.target_frames == 1
    assert 5 <= shaky.target_frames <= shaky.max_frames
    assert shaky.jitter_ms > 40


def test_sequence_wrap_is_seamless() -> None:
    jb = JitterBuffer()
    out = []
    for k in range(20):
        seq = (0xFFF6 + k) & 0xFFFF
        jb.push(seq, k * 160, _frame(k), k * 0.02)
        out.append(jb.pop())
    played = [f[0] for f in out if f is not None]
    assert played == list(range(len(played))) and len(played) >= 18


def test_pacer_has_no_drift_when_every_wakeup_is_late() -> None:
    p = Pacer(t0_s=100.0, period_s=0.02)
    now, sent = 100.0, 0
    for _ in range(5000):  # each wake-up 1.5 ms late: a sleep-loop would drift 7.5 s
        sent += p.due(now)
        now = p.next_deadline() + 0.0015
    assert sent == 5000
    assert abs(p.next_deadline() - (100.0 + 5000 * 0.02)) < 1e-6


def test_pacer_catches_up_in_bounded_bursts_after_a_stall() -> None:
    p = Pacer(t0_s=0.0, period_s=0.02, max_burst=3)
    assert p.due(0.0) == 1
    assert p.due(0.005) == 0
    assert p.due(0.2) == 3  # 10 frames owed after a 200 ms stall: 3 sent, 7 skipped
    assert p.skipped == 7
    assert p.next_deadline() == 11 * 0.02 or abs(p.next_deadline() - 0.22) < 1e-9


@settings(max_examples=200)
@given(
    order=st.permutations(list(range(40))),
    drop=st.sets(st.integers(0, 39), max_size=8),
    delays=st.lists(st.floats(0, 0.2), min_size=40, max_size=40),
)
def test_jitter_buffer_never_reorders_or_duplicates(
    order: list[int], drop: set[int], delays: list[float]
) -> None:
    """Whatever the network does, frames come out once each, in sequence order."""
    jb = JitterBuffer()
    arrivals = sorted((i * 0.02 + delays[i], i) for i in order if i not in drop)
    out: list[int] = []
    tick = 0
    for t, i in arrivals:
        while tick * 0.02 < t:
            f = jb.pop()
            if f is not None:
                out.append(f[0])
            tick += 1
        jb.push(i, i * 160, _frame(i), t)
    for _ in range(60):
        f = jb.pop()
        if f is not None:
            out.append(f[0])
    assert out == sorted(set(out))  # strictly increasing: no reordering, no duplicates
    assert not set(out) & drop
