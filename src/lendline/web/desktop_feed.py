"""From domain events to desktop pushes: incoming-call alerts, screen pops, the wallboard.

On ``AgentReserved`` the agent's topic gets ``call.offered`` at once (the ringing alert)
and then ``screen_pop`` as soon as the connectors answer or their deadline passes; late
parts follow as ``screen_pop.part``. Call and agent changes go to the agent's topic and
to the wallboard (``wallboard_feed``). ``CallSupervisionChanged`` marks the agent's row on
the wallboard and, for a whisper or a barge, shows the agent a notice. The bus may
publish from any thread: events are queued and handed to the hub's event loop in one
wake-up, so the publisher (routing) never waits for a pop.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import structlog

from lendline.clock import Clock
from lendline.compliance.masking import mask_phone
from lendline.domain.call import Call
from lendline.domain.events import (
    AgentReserved,
    AgentStateChanged,
    BotHandoff,
    CallAnswered,
    CallEnded,
    CallOverflowed,
    CallQueued,
    CallSupervisionChanged,
    ComplianceAlert,
    DomainEvent,
    ReservationTimedOut,
)
from lendline.integration.screenpop import ScreenPopAssembler
from lendline.web.push import PushHub
from lendline.web.wallboard_feed import WALLBOARD, WallboardFeed

__all__ = ["WALLBOARD", "DesktopFeed", "agent_topic"]

log = structlog.get_logger(__name__)


_WATCHED = (
    AgentReserved,
    AgentStateChanged,
    CallAnswered,
    CallEnded,
    CallQueued,
    CallOverflowed,
    ReservationTimedOut,
    ComplianceAlert,
    CallSupervisionChanged,
)
AUDIBLE_MODES = ("whisper", "barge")  # the agent hears the supervisor: the agent is told


def agent_topic(agent_id: str) -> str:
    return f"agent:{agent_id}"


class DesktopFeed(WallboardFeed):
    """Subscribes to the bus and feeds the push hub. ``call_center`` may arrive late."""

    def __init__(
        self,
        hub: PushHub,
        assembler: ScreenPopAssembler,
        call_center: Callable[[], Any],
        *,
        wallboard_interval_s: float = 0.5,
        history_points: int = 720,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(
            hub,
            call_center,
            wallboard_interval_s=wallboard_interval_s,
            history_points=history_points,
        )
        self.assembler = assembler
        self.clock = clock  # the clock AgentReserved.at_s was read from
        self.current: dict[str, dict[str, Any]] = {}  # agent_id -> offer/pop of its call
        self.bot_context: dict[str, dict[str, Any]] = {}  # call_id -> hand-off context
        self.notices: dict[str, dict[str, Any]] = {}  # agent_id -> supervisor whispering/barging
        self._inbox: list[DomainEvent] = []
        self._inbox_lock = threading.Lock()
        self._wake_pending = False

    # --- bus side (any thread) ---
    def on_event(self, event: DomainEvent) -> None:
        """Queue the event for the loop; one wake-up however many events arrive at once."""
        if isinstance(event, BotHandoff):
            if event.call_id:
                self.bot_context[event.call_id] = dict(event.context)
            return
        if not isinstance(event, _WATCHED):
            return
        loop = self.hub.loop
        if loop is None:
            return
        with self._inbox_lock:
            self._inbox.append(event)
            if self._wake_pending:
                return
            self._wake_pending = True
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            loop.call_soon(self._drain)
        else:
            loop.call_soon_threadsafe(self._drain)

    def _drain(self) -> None:
        with self._inbox_lock:
            events = list(self._inbox)
            self._inbox.clear()
            self._wake_pending = False
        for ev in events:
            if isinstance(ev, AgentReserved):
                self._offer(ev)
            elif isinstance(ev, ComplianceAlert):
                self._spawn(self._alert("compliance", ev.kind, ev.detail))
            elif isinstance(ev, CallSupervisionChanged):
                self._supervision(ev)
            else:
                self._on_change(ev)

    # --- loop side ---
    def _offer(self, ev: AgentReserved) -> None:
        """The ringing alert now (in event order); the pop as soon as it is assembled."""
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
        self._touch(ev.agent_id, call_id=ev.call_id)
        self.hub.publish(topic, "call.offered", offer)
        self._schedule_wallboard()
        if call is None:
            return
        if not call.context and ev.call_id in self.bot_context:
            call.context = self.bot_context[ev.call_id]
        self._spawn(self._pop(ev, call))

    async def _pop(self, ev: AgentReserved, call: Call) -> None:
        topic = agent_topic(ev.agent_id)

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
            # the deadline counts from the reservation, not from when this task got the loop;
            # an event stamped by another node's clock (Redis bus) or unstamped is not trusted
            spent_s = self.clock.monotonic() - ev.at_s if self.clock and ev.at_s > 0 else 0.0
            spent_s = spent_s if 0.0 <= spent_s <= 5.0 else 0.0
            pop = await self.assembler.assemble(call, ev.agent_id, on_late=late, spent_s=spent_s)
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

    def _supervision(self, ev: CallSupervisionChanged) -> None:
        """The wallboard marker (who supervises which call, in which mode), the outcome for
        the supervisor's page, and the agent's notice — whisper and barge only: the agent
        hears the supervisor then; a silent listen-in is not shown to the agent."""
        prev = self.supervised.get(ev.call_id)
        marker: dict[str, Any] | None = None
        if ev.state != "ended":
            marker = {
                "call_id": ev.call_id,
                "supervisor": ev.supervisor,
                "mode": ev.mode,
                "state": ev.state,
            }
            self.supervised[ev.call_id] = {**marker, "agent_id": ev.agent_id}
        else:
            self.supervised.pop(ev.call_id, None)
        old_agent = prev.get("agent_id") if prev is not None else None
        if old_agent and old_agent != ev.agent_id:  # the call moved to another agent
            self._touch(old_agent, supervision=None)
            self._notify_agent(old_agent, ev.call_id, None)
        if ev.agent_id:
            self._touch(ev.agent_id, supervision=marker)
            audible = ev.state == "active" and ev.mode in AUDIBLE_MODES
            notice = {"call_id": ev.call_id, "supervisor": ev.supervisor, "mode": ev.mode}
            self._notify_agent(ev.agent_id, ev.call_id, notice if audible else None)
        out = ev.to_dict()
        out.pop("at_s", None)
        self.hub.publish(WALLBOARD, "supervision", out)
        self._schedule_wallboard()

    def _notify_agent(self, agent_id: str, call_id: str, notice: dict[str, Any] | None) -> None:
        """Push ``supervision.notice`` to the agent when what it should see changes."""
        shown = self.notices.get(agent_id)
        if shown == notice or (notice is None and (shown is None or shown["call_id"] != call_id)):
            return
        if notice is None:
            del self.notices[agent_id]
        else:
            self.notices[agent_id] = notice
        self.hub.publish(
            agent_topic(agent_id), "supervision.notice", {"call_id": call_id, "notice": notice}
        )

    def _on_change(self, ev: DomainEvent) -> None:
        agent_id = getattr(ev, "agent_id", None)
        if isinstance(ev, (CallEnded, ReservationTimedOut)) and agent_id:
            cur = self.current.get(agent_id)
            if cur is not None and cur["call_id"] == getattr(ev, "call_id", None):
                if isinstance(ev, ReservationTimedOut):
                    del self.current[agent_id]
                else:
                    cur["ended"] = True
        if isinstance(ev, CallEnded) and ev.call_id in self.supervised:
            # normally an ``ended`` supervision change comes first; this covers a node that
            # died with the supervisor's leg: no marker or notice outlives the call
            gone = self.supervised.pop(ev.call_id)
            if gone.get("agent_id"):
                self._touch(gone["agent_id"], supervision=None)
                self._notify_agent(gone["agent_id"], ev.call_id, None)
        if isinstance(ev, CallAnswered):
            cur = self.current.get(ev.agent_id)
            if cur is not None and cur["call_id"] == ev.call_id:
                cur["answered"] = True
        if isinstance(ev, AgentStateChanged) and ev.new in ("available", "offline", "break"):
            self.current.pop(ev.agent_id, None)
        if isinstance(ev, AgentStateChanged):
            busy = ev.new in ("reserved", "on_call", "wrap_up")
            self._touch(
                ev.agent_id, state=ev.new, state_since=_now(), **({} if busy else {"call_id": None})
            )
        if agent_id and isinstance(
            ev, (CallAnswered, CallEnded, ReservationTimedOut, AgentStateChanged)
        ):
            self.hub.publish(agent_topic(agent_id), ev.name, asdict(ev))
        if isinstance(ev, (CallQueued, CallAnswered, CallEnded, AgentStateChanged)) or (
            ev.name.startswith(("call.", "agent."))
        ):
            self._schedule_wallboard()


def _now() -> str:
    return datetime.now(UTC).isoformat()
