"""The supervisor's live board: queue figures, agents that changed, last-hour samples,
service-level and compliance alerts, the calls a supervisor is on (``supervision`` on the
agent rows: who, mode), all on the push hub's ``wallboard`` topic.

Pushes are coalesced: at most one ``wallboard.delta`` per ``wallboard_interval_s``
carrying every queue and only the agents that changed (1,000 agents in every frame would
cost ~30 ms of CPU each time). The full board is ``wallboard()`` (REST, on page load and
after a resync); a chart point is sampled every few seconds.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import structlog

from lendline.web.push import PushHub

log = structlog.get_logger(__name__)
WALLBOARD = "wallboard"
SL_TARGET = 0.8  # share of calls answered within the queue's target time


class WallboardFeed:
    def __init__(
        self,
        hub: PushHub,
        call_center: Callable[[], Any],
        *,
        wallboard_interval_s: float = 0.5,
        history_points: int = 720,
    ) -> None:
        self.hub = hub
        self._call_center = call_center
        self.wallboard_interval_s = wallboard_interval_s
        self.alerts: deque[dict[str, Any]] = deque(maxlen=100)
        self.history: deque[dict[str, Any]] = deque(maxlen=history_points)
        self._sl_alerted: set[str] = set()
        self._agent_rows: dict[str, dict[str, Any]] = {}
        self.supervised: dict[str, dict[str, Any]] = {}  # call_id -> who supervises, mode
        self._dirty: set[str] = set()
        self._wallboard_due = False
        self._tasks: set[asyncio.Task[Any]] = set()

    def _spawn(self, co: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(co)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _alert(self, kind: str, code: str, detail: str) -> None:
        alert = {"kind": kind, "code": code, "detail": detail, "at": _now()}
        self.alerts.append(alert)
        self.hub.publish(WALLBOARD, "alert", alert)

    def _schedule_wallboard(self) -> None:
        if self._wallboard_due:
            return
        self._wallboard_due = True
        self._spawn(self._flush_wallboard())

    def _touch(self, agent_id: str, **fields: Any) -> None:
        row = self._agent_rows.setdefault(agent_id, {"agent_id": agent_id})
        row.update(fields)
        self._dirty.add(agent_id)

    async def _flush_wallboard(self) -> None:
        """Push the queues and the agents that changed (``wallboard.delta``)."""
        await asyncio.sleep(self.wallboard_interval_s)
        self._wallboard_due = False
        queues = await asyncio.to_thread(self._queues)
        if queues is None:
            return
        agents = [dict(self._agent_rows[a]) for a in sorted(self._dirty)]
        self._dirty.clear()
        snap = {"at": _now(), "queues": queues, "agents": agents}
        self.hub.publish(WALLBOARD, "wallboard.delta", snap)
        await self._check_service_level(snap)

    def _queues(self) -> list[dict[str, Any]] | None:
        cc = self._call_center()
        return None if cc is None else [asdict(q) for q in cc.queues()]

    def wallboard(self) -> dict[str, Any] | None:
        cc = self._call_center()
        if cc is None:
            return None
        queues = [asdict(q) for q in cc.queues()]
        now = datetime.now(UTC)
        by_agent = {
            m["agent_id"]: {k: v for k, v in m.items() if k != "agent_id"}
            for m in list(self.supervised.values())
            if m.get("agent_id")
        }
        agents = [
            {
                "agent_id": a.agent_id,
                "name": a.name,
                "state": str(a.state),
                "state_since": a.state_since.isoformat(),
                "in_state_s": round(max(0.0, (now - a.state_since).total_seconds()), 1),
                "team": a.team,
                "call_id": a.call_id,
                "supervision": by_agent.get(a.agent_id),
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
        cc = self._call_center()
        queues = self._queues()
        if cc is None or queues is None:
            return None
        states = [str(a.state) for a in cc.agents()]
        return {
            "at": _now(),
            "waiting": sum(q["waiting"] for q in queues),
            "longest_wait_s": max((q["longest_wait_s"] for q in queues), default=0.0),
            "service_level": _weighted_sl(queues),
            "on_call": states.count("on_call"),
            "available": states.count("available"),
        }

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
