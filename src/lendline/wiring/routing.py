"""Wiring of the routing feature into the container.

Registers ``services["call_center"]`` (an ``EngineCallCenter``) and
``services["routing_rules"]`` (a ``RulesSource``); on start it loads the agents, runs the
ticker (routing timers every ``routing_tick_s``, call records flushed every second) and
reloads the rules on SIGHUP; on stop it flushes the last records.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from typing import TYPE_CHECKING

import structlog

from lendline.calls.metrics import COLLECTOR
from lendline.calls.redis_ledger import ledger_from_url
from lendline.calls.rules_source import RulesSource
from lendline.calls.service import EngineCallCenter
from lendline.errors import RuleError
from lendline.routing.agents import make_selector
from lendline.routing.config import RoutingConfig

if TYPE_CHECKING:
    from lendline.app import Container

log = structlog.get_logger(__name__)


def wire(container: Container) -> None:
    """Build the routing services and register them on ``container.services``."""
    settings = container.settings
    holder: list[EngineCallCenter] = []

    def apply(config: RoutingConfig) -> None:
        if holder:
            holder[0].apply_config(config)

    rules = RulesSource(settings.rules_file, apply)
    ledger = ledger_from_url(settings.redis_url) if settings.redis_url else None
    center = EngineCallCenter(
        config=rules.current,
        clock=container.clock,
        db=container.db,
        bus=container.bus,
        cipher=container.field_cipher,
        selector=make_selector(settings.routing_strategy),
        ledger=ledger,
        reservation_timeout_s=settings.reservation_timeout_s,
        timezone=settings.timezone,
        node_id=settings.node_id,
    )
    holder.append(center)
    container.services["call_center"] = center
    container.services["routing_rules"] = rules
    COLLECTOR.attach(center)
    tasks: list[asyncio.Task[None]] = []

    async def ticker() -> None:
        flush_every = max(1, round(1.0 / settings.routing_tick_s))
        n = 0
        while True:
            await asyncio.sleep(settings.routing_tick_s)
            try:
                center.tick()
                n += 1
                if n % flush_every == 0 and center.writer.pending:
                    await asyncio.to_thread(center.flush)
            except Exception:
                log.exception("routing_tick_failed")

    def on_sighup() -> None:
        try:
            rules.reload()
            log.info("rules_reloaded", source=rules.current.source)
        except RuleError as exc:
            log.error("rules_reload_rejected", line=exc.line, detail=exc.detail)

    async def start() -> None:
        closed = await asyncio.to_thread(center.close_interrupted) if container.owns_node else []
        if closed:
            log.warning("calls_closed_after_unclean_stop", node=settings.node_id, calls=len(closed))
            audit = container.services.get("audit")
            if audit is not None:
                await asyncio.to_thread(
                    audit.record,
                    actor="system",
                    action="call.interrupted",
                    target=settings.node_id,
                    outcome="closed",
                    detail=f"{len(closed)} call record(s) left open by an unclean stop, "
                    f"closed at restart: {', '.join(closed[:20])}"
                    + (" …" if len(closed) > 20 else ""),
                )
        await asyncio.to_thread(center.load_agents)
        tasks.append(asyncio.create_task(ticker(), name="routing-ticker"))
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, on_sighup)

    async def stop() -> None:
        for t in tasks:
            t.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await t
        tasks.clear()
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
        await asyncio.to_thread(center.flush)

    container.on_start(start)
    container.on_stop(stop)
