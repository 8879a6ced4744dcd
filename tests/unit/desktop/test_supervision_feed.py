"""A supervisor on a call, as the wallboard and the agent see it (``CallSupervisionChanged``
from the bus through ``DesktopFeed`` to the push hub)."""

from __future__ import annotations

import asyncio

from lendline.domain.events import CallEnded, CallSupervisionChanged
from lendline.web.desktop_feed import WALLBOARD, agent_topic
from lendline.web.push import Message

from .test_feed import _next, _setup


def _changed(
    state: str, mode: str, reason: str = "", agent_id: str = "agent01"
) -> CallSupervisionChanged:
    return CallSupervisionChanged(
        call_id="C1",
        agent_id=agent_id,
        supervisor="supervisor01",
        mode=mode,
        state=state,
        reason=reason,
    )


def _types(q: asyncio.Queue[Message | None]) -> list[str]:
    out = []
    while not q.empty():
        m = q.get_nowait()
        assert m is not None
        out.append(m.type)
    return out


async def _wallboard_row(q: asyncio.Queue[Message | None], agent_id: str) -> dict[str, object]:
    while True:
        m = await _next(q, "wallboard.delta")
        rows = [a for a in m.data["agents"] if a["agent_id"] == agent_id]
        if rows:
            return rows[0]


async def test_the_wallboard_marks_the_supervised_agent_and_clears_it_on_stop() -> None:
    cc, hub, feed = _setup()
    wall, _ = hub.subscribe(frozenset({WALLBOARD}))
    cc.bus.publish(_changed("ringing", "listen"))
    ringing = await _next(wall.queue, "supervision")
    assert ringing.data["state"] == "ringing" and ringing.data["supervisor"] == "supervisor01"
    cc.bus.publish(_changed("active", "barge"))
    row = await _wallboard_row(wall.queue, "agent01")
    assert row["supervision"] == {
        "call_id": "C1",
        "supervisor": "supervisor01",
        "mode": "barge",
        "state": "active",
    }
    board = feed.wallboard()
    assert board is not None
    marks = {a["agent_id"]: a["supervision"] for a in board["agents"]}
    assert marks["agent01"]["mode"] == "barge" and marks["agent02"] is None
    cc.bus.publish(_changed("ended", "barge", "stopped"))
    ended = await _next(wall.queue, "supervision")
    assert (ended.data["state"], ended.data["reason"]) == ("ended", "stopped")
    assert (await _wallboard_row(wall.queue, "agent01"))["supervision"] is None
    board = feed.wallboard()
    assert board is not None
    assert all(a["supervision"] is None for a in board["agents"])


async def test_the_agent_is_told_of_a_whisper_or_barge_never_of_a_silent_listen() -> None:
    cc, hub, feed = _setup()
    agent, _ = hub.subscribe(frozenset({agent_topic("agent01")}))
    wall, _ = hub.subscribe(frozenset({WALLBOARD}))
    for ev in (_changed("ringing", "listen"), _changed("active", "listen")):
        cc.bus.publish(ev)
        await _next(wall.queue, "supervision")
    assert "supervision.notice" not in _types(agent.queue)
    assert "agent01" not in feed.notices

    cc.bus.publish(_changed("active", "whisper"))
    m = await _next(agent.queue, "supervision.notice")
    assert m.data == {
        "call_id": "C1",
        "notice": {"call_id": "C1", "supervisor": "supervisor01", "mode": "whisper"},
    }
    cc.bus.publish(_changed("active", "listen"))  # back to silent: the notice goes away
    m = await _next(agent.queue, "supervision.notice")
    assert m.data["notice"] is None and "agent01" not in feed.notices
    cc.bus.publish(_changed("active", "barge"))
    m = await _next(agent.queue, "supervision.notice")
    assert m.data["notice"]["mode"] == "barge"
    assert feed.notices["agent01"]["mode"] == "barge"  # what /me shows after a reload
    cc.bus.publish(_changed("ended", "barge", "supervisor_hung_up"))
    m = await _next(agent.queue, "supervision.notice")
    assert m.data["notice"] is None and not feed.notices


async def test_a_transferred_call_moves_the_marker_and_the_notice() -> None:
    cc, hub, feed = _setup()
    a1, _ = hub.subscribe(frozenset({agent_topic("agent01")}))
    a2, _ = hub.subscribe(frozenset({agent_topic("agent02")}))
    cc.bus.publish(_changed("active", "whisper"))
    await _next(a1.queue, "supervision.notice")
    cc.bus.publish(_changed("active", "whisper", agent_id="agent02"))
    assert (await _next(a1.queue, "supervision.notice")).data["notice"] is None
    assert (await _next(a2.queue, "supervision.notice")).data["notice"]["mode"] == "whisper"
    board = feed.wallboard()
    assert board is not None
    marks = {a["agent_id"]: a["supervision"] for a in board["agents"]}
    assert marks["agent01"] is None and marks["agent02"]["mode"] == "whisper"


async def test_no_marker_or_notice_outlives_the_call() -> None:
    """Even when the supervisor's leg vanished without its ``ended`` (its node died)."""
    cc, hub, feed = _setup()
    agent, _ = hub.subscribe(frozenset({agent_topic("agent01")}))
    wall, _ = hub.subscribe(frozenset({WALLBOARD}))
    cc.bus.publish(_changed("active", "barge"))
    assert (await _next(agent.queue, "supervision.notice")).data["notice"]["mode"] == "barge"
    cc.bus.publish(CallEnded(call_id="C1", reason="caller_hung_up", agent_id="agent01"))
    assert (await _next(agent.queue, "supervision.notice")).data["notice"] is None
    while (await _wallboard_row(wall.queue, "agent01")).get("supervision") is not None:
        pass
    board = feed.wallboard()
    assert board is not None
    assert all(a["supervision"] is None for a in board["agents"]) and not feed.supervised
