"""What a queued caller hears, from routing's own position and EWT: the caller at the head
of the queue is told they are next (routing counts positions from 1), and a queue nobody
serves is announced as "more than an hour", not as a figure."""

from __future__ import annotations

from lendline.telephony.queue_wait import queue_announcement
from tests.unit.routing.helpers import agent, arrive, make_engine


def test_the_caller_at_the_head_is_next_and_the_one_behind_has_one_ahead() -> None:
    engine, _clock = make_engine()
    agent(engine, "a1", {"general": 5}, available=False)  # staffed, nobody free
    first, second = arrive(engine), arrive(engine)
    assert first.queue == second.queue == "general"
    pos1, ewt1 = engine.position(first.call_id)
    pos2, ewt2 = engine.position(second.call_id)
    assert queue_announcement(pos1, ewt1, "zh", 1e9).startswith("您是下一位，")
    assert queue_announcement(pos2, ewt2, "zh", 1e9).startswith("您前面还有1位客户，")
    assert queue_announcement(pos1, ewt1, "en", 1e9).startswith("You are next;")


def test_a_queue_nobody_serves_promises_no_figure_and_offers_a_callback() -> None:
    engine, _clock = make_engine()
    call = arrive(engine)  # no agent at all: routing caps the EWT
    position, ewt = engine.position(call.call_id)
    text = queue_announcement(position, ewt, "zh", 120.0)
    assert text == "您是下一位，预计等待超过1小时。如需稍后回电，请按1。"
