"""Invariants of the ACD engine on random event sequences (hypothesis).

* no agent is ever reserved for (or connected to) two calls;
* no call is lost: every arrived call ends answered, abandoned, in voicemail, as a
  callback or by the bot — or is still in the engine (queued, ringing, connected, in bot);
* FIFO within a priority class unless aging says otherwise: when an agent is offered a call
  from a queue, no call ranked ahead of it in that queue was one the agent could take
  (except a sticky match: the customer's own last agent may take them out of turn).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lendline.domain.agent import AgentState
from lendline.domain.call import Call, CallState, EndReason
from lendline.domain.events import (
    AgentReserved,
    CallOverflowed,
    CallQueued,
    DomainEvent,
    ReservationTimedOut,
)
from lendline.errors import Conflict
from lendline.routing.agents import LongestIdle, MostProficient, RandomAgent, Sticky
from lendline.routing.engine import RoutingEngine
from tests.unit.routing.helpers import make_engine

AGENTS = {
    "a1": {"general": 3, "senior_loans": 9},
    "a2": {"general": 7, "collections": 6},
    "a3": {"complaints": 5, "general": 2},
    "a4": {"senior_loans": 4, "collections": 2},
}
REASONS = ["", "urgent", "repayment", "complaint", "bot", "big"]
ENDS = {
    EndReason.ANSWERED,
    EndReason.ABANDONED,
    EndReason.VOICEMAIL,
    EndReason.CALLBACK,
    EndReason.BOT_COMPLETED,
}

arrive_op = st.tuples(st.just("arrive"), st.sampled_from(REASONS))
op = st.one_of(
    arrive_op,
    arrive_op,
    arrive_op,
    st.tuples(st.just("advance"), st.floats(0.1, 90.0)),
    st.tuples(st.just("accept"), st.integers(0, 50)),
    st.tuples(st.just("decline"), st.integers(0, 50)),
    st.tuples(st.just("hangup"), st.integers(0, 50)),
    st.tuples(st.just("abandon"), st.integers(0, 50)),
    st.tuples(st.just("callback"), st.integers(0, 50)),
    st.tuples(st.just("handoff"), st.integers(0, 50)),
    st.tuples(st.just("transfer"), st.integers(0, 50)),
    st.tuples(
        st.just("state"),
        st.tuples(
            st.sampled_from(sorted(AGENTS)),
            st.sampled_from(["available", "available", "break", "offline"]),
        ),
    ),
)
selectors = st.sampled_from(["longest", "most", "random", "sticky"])


def _selector(name: str):  # type: ignore[no-untyped-def]
    return {
        "longest": LongestIdle(),
        "most": MostProficient(),
        "random": RandomAgent(seed=1),
        "sticky": Sticky(wait_s=15),
    }[name]


def _pick(engine: RoutingEngine, state: CallState, i: int) -> Call | None:
    live = sorted((c for c in engine.calls.values() if c.state is state), key=lambda c: c.call_id)
    return live[i % len(live)] if live else None


def _check_fifo(engine: RoutingEngine, events: list[DomainEvent]) -> None:
    now = engine.clock.monotonic()
    for i, ev in enumerate(events):
        if not isinstance(ev, AgentReserved) or ev.call_id not in engine.waiting:
            continue
        # calls that entered this queue only after this offer (a later timer in the same
        # batch: a missed offer, an overflow) were not in it when the offer was made
        later = {
            e.call_id
            for e in events[i:]
            if isinstance(e, (ReservationTimedOut, CallOverflowed, CallQueued))
        }
        w = engine.waiting[ev.call_id]
        q = engine.queues[w.queue]
        level = engine.index.level(ev.agent_id, q.spec.required_skill)
        if ev.agent_id == w.preferred:  # sticky: the customer's own agent, any level,
            assert level >= 1  # and ahead of the queue (that is what sticky means)
            continue
        else:
            assert level >= q.spec.min_proficiency_at(now - w.entered_s), (ev, level)
        for other_id in q.call_ids():
            o = engine.waiting[other_id]
            if other_id in later:
                continue
            if (o.key, o.seq) < (w.key, w.seq) and ev.agent_id not in o.declined:
                need = q.spec.min_proficiency_at(now - o.entered_s)
                assert level < need, (
                    f"{ev.agent_id} took {ev.call_id} while {other_id} was ahead in {q.name}"
                )


@settings(
    max_examples=int(os.environ.get("LENDLINE_HYPOTHESIS_EXAMPLES", "200")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(ops=st.lists(op, min_size=10, max_size=150), selector=selectors)
def test_random_event_sequences_keep_the_invariants(
    ops: list[tuple[str, object]], selector: str
) -> None:
    engine, clock = make_engine(selector=_selector(selector), timeout_s=10)
    for agent_id, skills in AGENTS.items():
        from lendline.domain.agent import Agent

        engine.add_agent(Agent(agent_id=agent_id, name=agent_id, skills=skills, team="t"))
    arrived: dict[str, Call] = {}
    n = 0
    for kind, arg in ops:
        events: list[DomainEvent] = []
        try:
            if kind == "arrive":
                n += 1
                reason = str(arg)
                call = Call(call_id=f"c{n}", reason=reason)
                env = {"reason": reason, "last_agent_id": f"a{n % 4 + 1}"}
                if reason == "big":
                    env.update(loan_amount_yuan=500_000, first_call=True)
                events = engine.arrive(call, env)
                arrived[call.call_id] = call
            elif kind == "advance":
                assert isinstance(arg, float)
                clock.advance(arg)
                events = engine.run_due()
            elif kind == "state":
                assert isinstance(arg, tuple)
                events = engine.set_agent_state(arg[0], AgentState(arg[1]))
            else:
                assert isinstance(arg, int)
                state = {
                    "accept": CallState.RINGING,
                    "decline": CallState.RINGING,
                    "hangup": CallState.CONNECTED,
                    "abandon": CallState.QUEUED,
                    "callback": CallState.QUEUED,
                    "handoff": CallState.IN_BOT,
                    "transfer": CallState.CONNECTED,
                }[kind]
                c = _pick(engine, state, arg)
                if c is not None:
                    if kind == "accept":
                        events = engine.accept(c.call_id, c.agent_id or "")
                    elif kind == "decline":
                        events = engine.decline(c.call_id, c.agent_id or "")
                    elif kind == "hangup":
                        events = engine.hangup(c.call_id)
                    elif kind == "abandon":
                        events = engine.abandon(c.call_id)
                    elif kind == "callback":
                        cb, events = engine.request_callback(c.call_id)
                        arrived[cb.call_id] = cb
                    elif kind == "handoff":
                        events = engine.enqueue(c.call_id, "collections", context={"x": 1})
                    else:
                        events = engine.transfer(c.call_id, queue="complaints")
        except Conflict:
            pass  # refused operations (e.g. break while on a call) change nothing
        engine.check_invariants()
        _check_fifo(engine, events)
    for call_id, call in arrived.items():
        if call.state is CallState.ENDED:
            assert call.end_reason in ENDS, call
            assert call_id not in engine.calls
        else:
            assert engine.calls.get(call_id) is call, f"{call_id} lost in state {call.state}"
            assert call.state in (
                CallState.QUEUED,
                CallState.RINGING,
                CallState.CONNECTED,
                CallState.IN_BOT,
            )
