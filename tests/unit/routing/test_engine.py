from __future__ import annotations

import pytest

from lendline.domain.agent import AgentState
from lendline.domain.call import CallState, EndReason
from lendline.domain.events import AgentReserved, CallOverflowed, CallQueued, ReservationTimedOut
from lendline.errors import Conflict
from lendline.routing.agents import MostProficient, RandomAgent, Sticky
from lendline.routing.ewt import erlang_c, erlang_c_wait_s, live_wait_s
from lendline.routing.state import DECLINE_COOLOFF_S

from .helpers import agent, arrive, make_engine


def test_call_is_offered_to_longest_idle_agent_and_answered() -> None:
    engine, clock = make_engine()
    agent(engine, "a1", {"general": 5})
    clock.advance(10)
    agent(engine, "a2", {"general": 9})
    call = arrive(engine)
    assert call.state is CallState.RINGING and call.agent_id == "a1"
    engine.accept(call.call_id, "a1")
    clock.advance(60)
    engine.hangup(call.call_id)
    assert call.end_reason is EndReason.ANSWERED
    assert engine.get_agent("a1").state is AgentState.WRAP_UP
    clock.advance(5)
    engine.run_due()  # wrap-up over
    assert engine.get_agent("a1").state is AgentState.AVAILABLE
    engine.check_invariants()


def test_most_proficient_picks_the_highest_level() -> None:
    engine, clock = make_engine(selector=MostProficient())
    agent(engine, "a1", {"general": 5})
    clock.advance(10)
    agent(engine, "a2", {"general": 9})
    assert arrive(engine).agent_id == "a2"


def test_fifo_within_class_and_priority_with_aging() -> None:
    engine, clock = make_engine()
    agent(engine, "a1", {"general": 5}, available=False)
    first = arrive(engine)
    clock.advance(1)
    second = arrive(engine)
    clock.advance(1)
    urgent = arrive(engine, "urgent")  # priority 2: worth 60 s of waiting (aging_s 30)
    assert engine.queues["general"].call_ids() == [urgent.call_id, first.call_id, second.call_id]
    # a normal call that has waited more than 60 s longer than a new urgent one goes first
    clock.advance(70)
    late_urgent = arrive(engine, "urgent")
    order = engine.queues["general"].call_ids()
    assert order.index(first.call_id) < order.index(late_urgent.call_id)
    assert engine.position(urgent.call_id)[0] == 1
    engine.set_agent_state("a1", AgentState.AVAILABLE)
    assert urgent.state is CallState.RINGING
    engine.check_invariants()


def test_proficiency_relaxes_in_steps_as_the_call_waits() -> None:
    engine, clock = make_engine()
    agent(engine, "junior", {"senior_loans": 4})
    call = arrive(engine, loan_amount_yuan=200_000, first_call=True)
    assert call.queue == "vip" and call.state is CallState.QUEUED  # needs 8 at first
    clock.advance(30)
    engine.run_due()
    assert call.state is CallState.QUEUED  # relaxed to 5: still not enough
    clock.advance(30)
    engine.run_due()
    assert call.state is CallState.RINGING and call.agent_id == "junior"  # relaxed to 1


def test_overflow_after_n_seconds_keeps_seniority() -> None:
    engine, clock = make_engine()
    vip = arrive(engine, loan_amount_yuan=200_000, first_call=True)
    clock.advance(60)
    waiting = arrive(engine)
    clock.advance(60)
    events = engine.run_due()
    assert any(isinstance(e, CallOverflowed) and e.to_queue == "general" for e in events)
    assert vip.queue == "general"
    assert engine.queues["general"].call_ids()[0] == vip.call_id  # waited longer (and prio 5)
    assert waiting.state is CallState.QUEUED
    engine.check_invariants()


def test_overflow_to_voicemail_when_ewt_is_too_long() -> None:
    engine, _clock = make_engine()
    agent(engine, "a1", {"collections": 5}, available=False)
    engine.set_agent_state("a1", AgentState.AVAILABLE)
    arrive(engine, "repayment")  # takes a1
    calls = [arrive(engine, "repayment") for _ in range(3)]
    # EWT with one busy agent and 200 s AHT: 1st waiting 200 s > 100 s → voicemail
    assert all(c.end_reason is EndReason.VOICEMAIL for c in calls)


def test_reservation_timeout_returns_call_to_head_and_agent_to_not_ready() -> None:
    engine, clock = make_engine(timeout_s=10)
    agent(engine, "a1", {"general": 5})
    call = arrive(engine)
    other = arrive(engine)
    assert call.agent_id == "a1"
    clock.advance(10)
    events = engine.run_due()
    assert any(isinstance(e, ReservationTimedOut) for e in events)
    assert engine.get_agent("a1").state is AgentState.NOT_READY
    assert engine.queues["general"].call_ids() == [call.call_id, other.call_id]
    agent(engine, "a2", {"general": 5})
    assert call.agent_id == "a2"
    with pytest.raises(Conflict):
        engine.accept(call.call_id, "a1")
    engine.check_invariants()


def test_decline_offers_the_call_to_someone_else() -> None:
    engine, clock = make_engine()
    agent(engine, "a1", {"general": 5})
    clock.advance(1)
    agent(engine, "a2", {"general": 5})
    call = arrive(engine)
    assert call.agent_id == "a1"
    engine.decline(call.call_id, "a1")
    assert call.agent_id == "a2"
    engine.check_invariants()


def test_a_declined_call_comes_back_to_the_only_agent_after_the_cool_off() -> None:
    engine, clock = make_engine()
    agent(engine, "a1", {"general": 5})
    call = arrive(engine)
    assert call.agent_id == "a1"
    engine.decline(call.call_id, "a1")  # a1 stays available; nobody else is staffed
    assert call.agent_id is None and call.state is CallState.QUEUED
    clock.advance(DECLINE_COOLOFF_S - 1)
    engine.run_due()
    assert call.agent_id is None  # not offered straight back to the agent who declined
    clock.advance(1)
    engine.run_due()
    assert call.agent_id == "a1" and call.state is CallState.RINGING
    engine.check_invariants()


def test_a_declined_call_goes_to_a_colleague_who_frees_up_during_the_cool_off() -> None:
    engine, clock = make_engine()
    agent(engine, "a1", {"general": 5})
    call = arrive(engine)
    engine.decline(call.call_id, "a1")
    clock.advance(5)
    agent(engine, "a2", {"general": 5})
    assert call.agent_id == "a2"
    engine.accept(call.call_id, "a2")
    clock.advance(DECLINE_COOLOFF_S)
    engine.run_due()  # the cool-off timer finds the call already answered: nothing moves
    assert call.agent_id == "a2" and call.state is CallState.CONNECTED
    engine.check_invariants()


def test_a_missed_offer_never_falls_back_to_an_agent_still_cooling_off() -> None:
    engine, clock = make_engine()
    agent(engine, "a1", {"general": 5})
    call = arrive(engine)
    engine.decline(call.call_id, "a1")
    agent(engine, "a2", {"general": 5})
    assert call.agent_id == "a2"
    clock.advance(20)  # a2 lets it ring out; a1 declined only 20 s ago
    engine.run_due()
    assert call.agent_id is None and call.state is CallState.QUEUED
    engine.check_invariants()


def test_sticky_waits_for_the_last_agent_then_gives_up() -> None:
    engine, clock = make_engine(selector=Sticky(wait_s=20))
    agent(engine, "mine", {"general": 5})
    busy = arrive(engine)
    engine.accept(busy.call_id, "mine")
    clock.advance(1)
    agent(engine, "other", {"general": 5})
    other_call = arrive(engine)  # no preference: the free agent takes it
    assert other_call.agent_id == "other"
    engine.accept(other_call.call_id, "other")
    engine.hangup(other_call.call_id)
    clock.advance(5)
    engine.run_due()  # 'other' free again
    call = arrive(engine, last_agent_id="mine")
    assert call.state is CallState.QUEUED  # held for 'mine' although 'other' is free
    engine.hangup(busy.call_id)
    clock.advance(5)
    engine.run_due()
    assert call.agent_id == "mine"
    # and when the last agent stays busy, the hold ends after sticky_wait_s
    engine.accept(call.call_id, "mine")
    late = arrive(engine, last_agent_id="mine")
    clock.advance(20)
    engine.run_due()
    assert late.agent_id == "other"
    engine.check_invariants()


def test_callback_keeps_its_place() -> None:
    engine, clock = make_engine()
    first = arrive(engine, "complaint")
    clock.advance(1)
    second = arrive(engine, "complaint")
    assert first.context.get("callback_offered") is True  # no agent at all: long EWT
    cb, _events = engine.request_callback(first.call_id, "+8613800000000")
    assert first.end_reason is EndReason.CALLBACK
    assert engine.queues["complaints"].call_ids() == [cb.call_id, second.call_id]
    agent(engine, "a1", {"complaints": 5})
    assert cb.state is CallState.RINGING and cb.context["callback_for"] == first.call_id


def test_bot_hand_off_then_team_and_agent_targets() -> None:
    engine, _clock = make_engine()
    call = arrive(engine, "bot")
    assert call.state is CallState.IN_BOT
    agent(engine, "t1", {"general": 2}, team="team_a")
    engine.enqueue(call.call_id, "team:team_a", context={"intent": "repay"})
    assert call.agent_id == "t1" and call.context["intent"] == "repay"
    engine.accept(call.call_id, "t1")
    agent(engine, "t2", {"general": 2})
    engine.transfer(call.call_id, agent_id="t2")
    assert call.agent_id == "t2" and call.state is CallState.RINGING
    engine.check_invariants()


def test_abandon_while_ringing_frees_the_agent() -> None:
    engine, _clock = make_engine()
    agent(engine, "a1", {"general": 5})
    call = arrive(engine)
    waiting = arrive(engine)
    engine.abandon(call.call_id)
    assert call.end_reason is EndReason.ABANDONED
    assert waiting.agent_id == "a1"
    engine.check_invariants()


def test_a_call_cut_by_a_stopping_node_is_interrupted_not_abandoned() -> None:
    engine, _clock = make_engine()
    queued = arrive(engine)  # no agent: it waits in its queue
    assert queued.queue is not None and queued.state is CallState.QUEUED
    counters = engine.queues[queued.queue].counters
    engine.abandon(queued.call_id, interrupted=True)
    assert queued.end_reason is EndReason.INTERRUPTED and queued.state is CallState.ENDED
    assert counters.abandoned == 0  # the caller did not give up: service level unaffected
    gone = arrive(engine)
    engine.abandon(gone.call_id)
    assert gone.end_reason is EndReason.ABANDONED and counters.abandoned == 1
    engine.check_invariants()


def test_random_selector_is_seeded() -> None:
    picks = []
    for _ in range(2):
        engine, _clock = make_engine(selector=RandomAgent(seed=7))
        for i in range(10):
            agent(engine, f"a{i}", {"general": 5})
        picks.append([arrive(engine).agent_id for _ in range(5)])
    assert picks[0] == picks[1]


def test_queued_event_carries_position_and_ewt() -> None:
    engine, clock = make_engine()
    agent(engine, "a1", {"general": 5})
    arrive(engine)  # a1 busy from now on
    calls = [arrive(engine) for _ in range(3)]
    clock.advance(1)
    assert [engine.position(c.call_id)[0] for c in calls] == [1, 2, 3]
    pos, ewt = engine.position(calls[-1].call_id)
    assert pos == 3 and ewt == pytest.approx(3 * 180.0)


def test_erlang_c_known_values() -> None:
    assert erlang_c(1, 0.5) == pytest.approx(0.5)  # M/M/1: P(wait) = rho
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    # M/M/1 with rho 0.5, service 1 s: Wq = rho/(mu - lambda) = 1 s
    assert erlang_c_wait_s(1, 0.5, 1.0) == pytest.approx(1.0)
    assert erlang_c_wait_s(2, 3.0, 1.0) == float("inf")
    assert live_wait_s(3, 1, 4, 100.0) == pytest.approx(50.0)
    assert live_wait_s(1, 1, 4, 100.0) == 0.0


def test_queued_events_are_emitted() -> None:
    engine, _clock = make_engine()
    c = arrive(engine)
    assert c.state is CallState.QUEUED
    assert c.context["ewt_at_queue_s"] > 0
    agent(engine, "x", {"general": 1}, available=False)
    events = engine.set_agent_state("x", AgentState.AVAILABLE)
    assert any(isinstance(e, AgentReserved) and e.call_id == c.call_id for e in events)
    assert not any(isinstance(e, CallQueued) for e in events)
