"""From domain events to desktop pushes: incoming-call alerts, screen pops, the wallboard.

On ``AgentReserved`` the agent's topic gets ``call.offered`` at once (the ringing alert)
and then ``screen_pop`` as soon as the connectors answer or their deadline passes; late
parts follow as ``screen_pop.part``. Call and agent changes go to the agent's topic and,
coalesced to one snapshot per ``wallboard_interval_s``, to the ``wallboard`` topic. The
bus may publish from any thread: work is handed to the hub's event loop, so the
publisher (routing) never waits for a pop.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import structlog

from lendline.compliance.masking import mask_phone
from lendline.domain.events import (
    AgentReserved,
    AgentStateChanged,
    BotHandoff,
    CallAnswered,
    CallEnded,
    CallQueued,
    ComplianceAlert,
    DomainEvent,
    ReservationTimedOut,
)
from lendline.integration.screenpop import ScreenPopAssembler
from lendline.web.push import PushHub

log = structlog.get_logger(__name__)
WALLBOARD = "wallboard"
SL_TARGET = 0.8  # share of calls answered within the queue's target time


def agent_topic(agent_id: str) -> str:
    return f"agent:{agent_id}"


class DesktopFeed:
    """Subscribes to the bus and feeds the push hub. ``call_center`` may arrive late."""

    def __init__(
        self,
        hub: PushHub,
        assembler: ScreenPopAssembler,
        call_center: Callable[[], Any],
        *,
        wallboard_interval_s: float = 0.5,
        history_points: int = 720,
    ) -> None:
        self.hub = hub
        self.assembler = assembler
        self._call_center = call_center
        self.wallboard_interval_s = wallboard_interval_s
        self.current: dict[str, dict[str, Any]] = {}  # agent_id -> offer/pop of its call
        self.bot_context: dict[str, dict[str, Any]] = {}  # call_id -> hand-off context
        self.alerts: deque[dict[str, Any]] = deque(maxlen=100)
        self.history: deque[dict[str, Any]] = deque(maxlen=history_points)
        self._sl_alerted: set[str] = set()
        self._wallboard_due = False
        self._tasks: set[asyncio.Task[Any]] = set()

    # --- bus side (any thread) ---
    def on_event(self, event: DomainEvent) -> None:
        if isinstance(event, AgentReserved):
            self._submit(lambda: self._offer(event))
        elif isinstance(event, BotHandoff) and event.call_id:
            self.bot_context[event.call_id] = dict(event.context)
        elif isinstance(event, ComplianceAlert):
            self._submit(lambda: self._alert("compliance", event.kind, event.detail))
        else:
            self._submit(lambda: self._on_change(event))

    def _submit(self, make: Callable[[], Coroutine[Any, Any, None]]) -> None:
        loop = self.hub.loop
        if loop is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._spawn(make())
        else:
            loop.call_soon_threadsafe(lambda: self._spawn(make()))

    def _spawn(self, co: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(co)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- loop side ---
    async def _offer(self, ev: AgentReserved) -> None:
        topic = agent_topic(ev.agent_id)
        cc = self._call_center()
        call = cc.get_call(ev.call_id) if cc is not None else None
        offer = {
            "call_id": ev.call_id,
            "agent_id": ev.agent_id,
            "queue": ev.queue,
            "timeout_s": ev.timeout_s,
            "caller": mask_phone(call.caller) if call is not None and call.caller else "",
            "routing_reason": call.routing_reason if call is not None else "",
        }
        self.current[ev.agent_id] = {"call_id": ev.call_id, "offer": offer, "pop": None}
        self.hub.publish(topic, "call.offered", offer)
        self._schedule_wallboard()
        if call is None:
            return
        if not call.context and ev.call_id in self.bot_context:
            call.context = self.bot_context[ev.call_id]

        async def late(part: str, partial: dict[str, Any]) -> None:
            cur = self.current.get(ev.agent_id)
            if cur is None or cur["call_id"] != ev.call_id:
                return  # the call moved on: never show a stale customer
            if cur["pop"] is not None:
                cur["pop"].update(partial)
                cur["pop"]["missing"] = [m for m in cur["pop"]["missing"] if m["part"] != part]
            self.hub.publish(
                topic,
                "screen_pop.part",
                {"call_id": ev.call_id, "agent_id": ev.agent_id, "part": part, **partial},
            )

        try:
            pop = await self.assembler.assemble(call, ev.agent_id, on_late=late)
        except Exception:  # a bug in a connector adapter must not leave the agent blank
            log.exception("screen_pop_failed", call_id=ev.call_id)
            pop = await self.assembler.assemble(
                dataclasses.replace(call, customer_id=None), ev.agent_id
            )
        cur = self.current.get(ev.agent_id)
        if cur is None or cur["call_id"] != ev.call_id:
            return
        cur["pop"] = pop
        self.hub.publish(topic, "screen_pop", pop)

    async def _on_change(self, ev: DomainEvent) -> None:
        data = asdict(ev)
        agent_id = getattr(ev, "agent_id", None)
        if isinstance(ev, (CallEnded, ReservationTimedOut)) and agent_id:
            cur = self.current.get(agent_id)
            if cur is not None and cur["call_id"] == getattr(ev, "call_id", None):
                if isinstance(ev, ReservationTimedOut):
                    del self.current[agent_id]
                else:
                    cur["ended"] = True
        if isinstance(ev, CallAnswered):
            cur = self.current.get(ev.agent_id)
            if cur is not None and cur["call_id"] == ev.call_id:
                cur["answered"] = True
        if isinstance(ev, AgentStateChanged) and ev.new in ("available", "offline", "break"):
            self.current.pop(ev.agent_id, None)
        if agent_id and isinstance(
            ev, (CallAnswered, CallEnded, ReservationTimedOut, AgentStateChanged)
        ):
            self.hub.publish(agent_topic(agent_id), ev.name, data)
        if isinstance(ev, (CallQueued, CallAnswered, CallEnded, AgentStateChanged)) or (
            ev.name.startswith(("call.", "agent."))
        ):
            self._schedule_wallboard()

    async def _alert(self, kind: str, code: str, detail: str) -> None:
        alert = {"kind": kind, "code": code, "detail": detail, "at": _now()}
        self.alerts.append(alert)
        self.hub.publish(WALLBOARD, "alert", alert)

    # --- wallboard ---
    def _schedule_wallboard(self) -> None:
        if self._wallboard_due:
            return
        self._wallboard_due = True
        self._spawn(self._flush_wallboard())

    async def _flush_wallboard(self) -> None:
        await asyncio.sleep(self.wallboard_interval_s)
        self._wallboard_due = False
        # 1,000 agents make a large snapshot: build it off the loop so pops never wait
        snap = await asyncio.to_thread(self.wallboard)
        if snap is not None:
            self.hub.publish(WALLBOARD, "wallboard", snap)
            await self._check_service_level(snap)

    def wallboard(self) -> dict[str, Any] | None:
        cc = self._call_center()
        if cc is None:
            return None
        queues = [asdict(q) for q in cc.queues()]
        now = datetime.now(UTC)
        agents = [
            {
                "agent_id": a.agent_id,
                "name": a.name,
                "state": str(a.state),
                "state_since": a.state_since.isoformat(),
                "in_state_s": round(max(0.0, (now - a.state_since).total_seconds()), 1),
                "team": a.team,
                "call_id": a.call_id,
            }
            for a in cc.agents()
        ]
        return {"at": _now(), "queues": queues, "agents": agents}

    def sample(self) -> dict[str, Any] | None:
        """Take one point of the last-hour charts and push it (on the hub's loop)."""
        point = self.sample_point()
        if point is not None:
            self.history.append(point)
            self.hub.publish(WALLBOARD, "wallboard.point", point)
        return point

    def sample_point(self) -> dict[str, Any] | None:
        """One point of the last-hour charts (any thread)."""
        snap = self.wallboard()
        if snap is None:
            return None
        point = {
            "at": snap["at"],
            "waiting": sum(q["waiting"] for q in snap["queues"]),
            "longest_wait_s": max((q["longest_wait_s"] for q in snap["queues"]), default=0.0),
            "service_level": _weighted_sl(snap["queues"]),
            "on_call": sum(1 for a in snap["agents"] if a["state"] == "on_call"),
            "available": sum(1 for a in snap["agents"] if a["state"] == "available"),
        }
        return point

    async def _check_service_level(self, snap: dict[str, Any]) -> None:
        for q in snap["queues"]:
            handled = q.get("answered", 0) + q.get("abandoned", 0)
            low = handled >= 5 and q["service_level"] < SL_TARGET
            if low and q["queue"] not in self._sl_alerted:
                self._sl_alerted.add(q["queue"])
                pct = round(q["service_level"] * 100)
                await self._alert(
                    "service_level", q["queue"], f"{q['queue']} 服务水平 {pct}% 低于目标 80%"
                )
            elif not low:
                self._sl_alerted.discard(q["queue"])

    async def run_sampler(self, every_s: float = 5.0) -> None:
        while True:
            try:
                point = await asyncio.to_thread(self.sample_point)
                if point is not None:
                    self.history.append(point)
                    self.hub.publish(WALLBOARD, "wallboard.point", point)
            except Exception:
                log.exception("wallboard_sample_failed")
            await asyncio.sleep(every_s)


def _weighted_sl(queues: list[dict[str, Any]]) -> float:
    total = sum(q.get("answered", 0) + q.get("abandoned", 0) for q in queues)
    if total == 0:
        return 1.0
    weighted: float = sum(
        q["service_level"] * (q.get("answered", 0) + q.get("abandoned", 0)) for q in queues
    )
    return float(weighted / total)


def _now() -> str:
    return datetime.now(UTC).isoformat()
