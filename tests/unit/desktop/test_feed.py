import asyncio
from typing import Any

from lendline.bus import InProcessBus
from lendline.domain.agent import AgentState
from lendline.domain.events import BotHandoff, ComplianceAlert
from lendline.integration.screenpop import Connectors, ScreenPopAssembler
from lendline.web.desktop_feed import WALLBOARD, DesktopFeed, agent_topic
from lendline.web.push import Message, PushHub
from tests.helpers import eventually

from .fakes import Behaviour, FakeCallCenter, FakeCustomers, FakeLoans, FakeRisk


def _setup(
    risk_delay_s: float = 0.0, risk: Behaviour | None = None
) -> tuple[FakeCallCenter, PushHub, DesktopFeed]:
    bus = InProcessBus()
    cc = FakeCallCenter(bus, ["agent01", "agent02"])
    hub = PushHub()
    hub.bind(asyncio.get_running_loop())
    conn = Connectors(FakeCustomers(), FakeLoans(), FakeRisk(risk or Behaviour(risk_delay_s)))
    feed = DesktopFeed(
        hub, ScreenPopAssembler(conn, deadline_s=0.1), lambda: cc, wallboard_interval_s=0.01
    )
    bus.subscribe(feed.on_event)
    return cc, hub, feed


async def _next(q: asyncio.Queue[Message | None], type_: str) -> Message:
    while True:
        m = await asyncio.wait_for(q.get(), 2.0)
        assert m is not None
        if m.type == type_:
            return m


async def test_reservation_pushes_offer_then_pop_to_that_agent_only() -> None:
    cc, hub, feed = _setup()
    a1, _ = hub.subscribe(frozenset({agent_topic("agent01")}))
    a2, _ = hub.subscribe(frozenset({agent_topic("agent02")}))
    cc.set_agent_state("agent01", AgentState.AVAILABLE)
    call = cc.inbound_call(caller="+8613812345678", customer_id="C000001")
    offer = await _next(a1.queue, "call.offered")
    assert offer.data["call_id"] == call.call_id and offer.data["caller"] == "138****5678"
    pop = await _next(a1.queue, "screen_pop")
    assert pop.id > offer.id
    assert pop.data["agent_id"] == "agent01" and pop.data["customer"]["name"] == "张**"
    assert all(m is None or m.type == "agent.state_changed" for m in _drain(a2.queue))
    assert feed.current["agent01"]["pop"]["call_id"] == call.call_id


async def test_late_part_follows_and_a_finished_call_never_gets_it() -> None:
    cc, hub, feed = _setup(risk_delay_s=0.3)
    a1, _ = hub.subscribe(frozenset({agent_topic("agent01")}))
    cc.set_agent_state("agent01", AgentState.AVAILABLE)
    cc.inbound_call(caller="+8613812345678", customer_id="C000001")
    pop = await _next(a1.queue, "screen_pop")
    assert [m["part"] for m in pop.data["missing"]] == ["risk"]
    part = await _next(a1.queue, "screen_pop.part")
    assert part.data["part"] == "risk" and part.data["risk_flags"]
    assert feed.current["agent01"]["pop"]["missing"] == []


async def test_stale_pop_is_dropped_when_the_agent_moved_on() -> None:
    risk = Behaviour(delay_s=0.3)
    cc, hub, feed = _setup(risk=risk)
    a1, _ = hub.subscribe(frozenset({agent_topic("agent01")}))
    cc.set_agent_state("agent01", AgentState.AVAILABLE)
    call = cc.inbound_call(caller="+8613812345678", customer_id="C000001")
    await _next(a1.queue, "screen_pop")
    cc.decline(call.call_id, "agent01")  # → available again, the same call is re-offered
    cc.set_agent_state("agent01", AgentState.ON_BREAK)
    # wait until every late risk answer has come back, then let the loop hand it on (a
    # fixed sleep let a loaded machine check before the late part could have been pushed)
    await eventually(lambda: risk.calls > 0 and risk.finished == risk.calls)
    for _ in range(20):
        await asyncio.sleep(0)
    types = [m.type for m in _drain(a1.queue) if m is not None]
    assert "screen_pop.part" not in types
    assert "agent01" not in feed.current


async def test_bot_context_from_handoff_reaches_the_pop() -> None:
    cc, hub, _feed = _setup()
    a1, _ = hub.subscribe(frozenset({agent_topic("agent01")}))
    cc.bus.publish(
        BotHandoff(
            call_id="call-x",
            queue="general",
            context={"intent": "complaint", "verification": "verified"},
        )
    )
    cc.set_agent_state("agent01", AgentState.AVAILABLE)
    cc.inbound_call(caller="+8613812345678", customer_id="C000001", call_id="call-x")
    pop = await _next(a1.queue, "screen_pop")
    assert pop.data["bot"]["intent"] == "complaint"


async def test_wallboard_snapshots_and_alerts() -> None:
    cc, hub, feed = _setup()
    wb, _ = hub.subscribe(frozenset({WALLBOARD}))
    cc.set_agent_state("agent01", AgentState.AVAILABLE)
    delta = await _next(wb.queue, "wallboard.delta")
    # only the agent that changed travels; the full board is feed.wallboard() (REST)
    assert [(a["agent_id"], a["state"]) for a in delta.data["agents"]] == [("agent01", "available")]
    assert delta.data["queues"][0]["queue"] == "general"
    full = feed.wallboard()
    assert full is not None
    assert {a["agent_id"]: a["state"] for a in full["agents"]} == {
        "agent01": "available",
        "agent02": "offline",
    }
    cc.bus.publish(
        ComplianceAlert(kind="rate_cap", detail="产品 micro 年化利率超上限", subject_id="micro")
    )
    alert = await _next(wb.queue, "alert")
    assert alert.data["kind"] == "compliance" and "利率" in alert.data["detail"]
    point = feed.sample()
    assert point is not None and point["available"] == 1 and len(feed.history) == 1


def _drain(q: asyncio.Queue[Any]) -> list[Any]:
    out = []
    while not q.empty():
        out.append(q.get_nowait())
    return out
