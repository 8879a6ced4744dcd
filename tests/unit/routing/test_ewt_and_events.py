"""The corrected EWT (WaitCalibration, relaxation-aware estimate) and lazily built events."""

from __future__ import annotations

import pytest

from lendline.domain.agent import AgentState
from lendline.domain.call import CallState
from lendline.domain.events import AgentReserved, AgentStateChanged, CallArrived, CallRouted
from lendline.routing.ewt import INFINITE_WAIT_S, WaitCalibration
from lendline.routing.state import EventBatch

from .helpers import agent, arrive, make_engine


def test_calibration_without_data_is_the_model() -> None:
    cal = WaitCalibration()
    assert cal.estimate(42.0) == 42.0
    assert cal.line() == (0.0, 1.0)


def test_calibration_learns_a_line_and_blends_with_the_model_while_young() -> None:
    cal = WaitCalibration(forget=1.0, prior_n=10.0)
    for x in range(10, 60, 5):  # actual waits are 2·model + 5
        cal.add(float(x), 2.0 * x + 5.0)
    a, b = cal.line()
    assert a == pytest.approx(5.0) and b == pytest.approx(2.0)
    # 10 pairs against a prior of 10: halfway between the model (30) and the line (65)
    assert cal.estimate(30.0) == pytest.approx(0.5 * 65.0 + 0.5 * 30.0)
    for _ in range(990):
        cal.add(30.0, 65.0)
    assert cal.estimate(30.0) == pytest.approx(65.0, rel=0.02)


def test_calibration_clamps_slope_and_never_goes_negative_or_infinite() -> None:
    cal = WaitCalibration(forget=1.0, prior_n=0.0)
    for x in (10.0, 20.0, 30.0):
        cal.add(x, 1000.0 * x)
    assert cal.line()[1] == 5.0
    assert cal.estimate(INFINITE_WAIT_S) == INFINITE_WAIT_S
    low = WaitCalibration(forget=1.0, prior_n=0.0)
    for x in (10.0, 20.0, 30.0):
        low.add(x, 0.0)
    assert low.estimate(1.0) == 0.0


def test_fading_forgets_old_pairs() -> None:
    cal = WaitCalibration(forget=0.9, prior_n=0.0)
    for _ in range(200):
        cal.add(10.0, 100.0)
    for _ in range(100):
        cal.add(10.0, 20.0)
    assert cal.estimate(10.0) == pytest.approx(20.0, abs=0.5)


def test_answered_calls_teach_their_queue_ewt() -> None:
    engine, clock = make_engine()
    agent(engine, "a1", {"general": 5})
    first = arrive(engine)
    engine.accept(first.call_id, "a1")  # a1 busy: the next call waits
    q = engine.queues["general"]
    shadow = WaitCalibration()
    for i in range(30):
        call = arrive(engine)
        assert call.state is CallState.QUEUED
        model = engine.waiting[call.call_id].model_wait_s
        assert model is not None and model > 0
        assert call.context["ewt_at_queue_s"] == round(shadow.estimate(model), 1)
        waited = 7.0 + 3.0 * i  # actual waits unrelated to the model
        clock.advance(waited)
        engine.hangup(engine.ledger.holder("a1") or "")
        engine.finish_wrap_up("a1")
        assert call.state is CallState.RINGING
        engine.accept(call.call_id, "a1")
        shadow.add(model, waited)
    assert q.calibration.seen == 30
    assert q.calibration.line() == pytest.approx(shadow.line())
    raw = engine._model_wait(q, 1, 0.0)
    assert engine.ewt("general", 1) == pytest.approx(shadow.estimate(raw))
    assert engine.ewt("general", 1) != pytest.approx(raw)
    engine.check_invariants()


def test_free_agents_below_the_level_take_the_call_at_the_relaxation_step() -> None:
    engine, _clock = make_engine()
    agent(engine, "low", {"senior_loans": 3})  # free, but below vip's 8 until 60 s (→ 1)
    call = arrive(engine, loan_amount_yuan=200000, first_call=True)
    assert call.state is CallState.QUEUED and call.queue == "vip"
    assert call.context["ewt_at_queue_s"] == 60.0
    assert engine.position(call.call_id) == (1, 60.0)


def test_events_are_built_when_read_with_the_values_of_their_time() -> None:
    engine, _clock = make_engine()
    agent(engine, "a1", {"general": 5}, available=False)
    events = engine.set_agent_state("a1", AgentState.AVAILABLE)
    assert isinstance(events, EventBatch) and len(events) == 1
    batch = engine.arrive(*_call_and_env())
    assert batch._built is None  # nothing built yet
    engine.accept("lazy-1", "a1")  # the agent's state moves on (reserved → on_call)
    kinds = [type(e) for e in batch]
    assert kinds[:2] == [CallArrived, CallRouted] and AgentReserved in kinds
    changed = [e for e in batch if isinstance(e, AgentStateChanged)]
    assert [(e.old, e.new) for e in changed] == [("available", AgentState.RESERVED)]
    assert batch[0] is batch[0] and batch == list(batch) and len(batch[1:]) == len(batch) - 1


def _call_and_env() -> tuple[object, dict[str, object]]:
    from lendline.domain.call import Call

    return Call(call_id="lazy-1"), {"reason": ""}
