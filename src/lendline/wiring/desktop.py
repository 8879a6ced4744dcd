"""Wiring of the desktop feature: connectors, screen pop, push hub, webhooks, reports.

Services registered: ``connectors`` (CRM / loans / risk: built-in tables unless
``crm_url``/``los_url``/``risk_url`` are set), ``push_hub``, ``desktop_feed``,
``webhook_store``, ``webhooks``, ``reports``.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from lendline.analytics.reports import CallReports
from lendline.integration.builtin import BuiltinCustomers, BuiltinLoans, BuiltinRisk
from lendline.integration.http import HttpCustomers, HttpLoans, HttpPolicy, HttpRisk, LenderHttp
from lendline.integration.screenpop import Connectors, ScreenPopAssembler
from lendline.integration.webhook_store import WebhookStore
from lendline.integration.webhooks import WebhookDispatcher
from lendline.web.desktop_feed import DesktopFeed
from lendline.web.push import PushHub

if TYPE_CHECKING:
    from lendline.app import Container


def build_connectors(container: Container) -> tuple[Connectors, list[LenderHttp]]:
    """Built-in connectors, replaced one by one by HTTP ones whose URL is configured."""
    s = container.settings
    policy = HttpPolicy(timeout_s=s.connector_timeout_s)
    clients: list[LenderHttp] = []

    def http(url: str, name: str) -> LenderHttp:
        client = LenderHttp(url, name=name, policy=policy, clock=container.clock)
        clients.append(client)
        return client

    customers: Any = (
        HttpCustomers(http(s.crm_url, "crm"))
        if s.crm_url
        else BuiltinCustomers(container.db, container.field_cipher)
    )
    loans: Any = HttpLoans(http(s.los_url, "los")) if s.los_url else BuiltinLoans(container.db)
    risk: Any = HttpRisk(http(s.risk_url, "risk")) if s.risk_url else BuiltinRisk(container.db)
    return Connectors(customers, loans, risk), clients


def wire(container: Container) -> None:
    """Build the desktop services and register them on ``container.services``."""
    connectors, clients = build_connectors(container)
    hub = PushHub()
    assembler = ScreenPopAssembler(connectors, deadline_s=container.settings.connector_timeout_s)
    feed = DesktopFeed(
        hub, assembler, lambda: container.services.get("call_center"), clock=container.clock
    )
    container.bus.subscribe(feed.on_event)
    store = WebhookStore(container.db, container.field_cipher)
    dispatcher = WebhookDispatcher(store, container.clock)
    container.bus.subscribe(dispatcher.on_event)
    container.services.update(
        connectors=connectors,
        push_hub=hub,
        desktop_feed=feed,
        webhook_store=store,
        webhooks=dispatcher,
        reports=CallReports(container.db, timezone=container.settings.timezone),
    )
    tasks: list[asyncio.Task[None]] = []

    async def start() -> None:
        hub.bind(asyncio.get_running_loop())
        await dispatcher.start()
        tasks.append(asyncio.create_task(feed.run_sampler(), name="wallboard-sampler"))

    async def stop() -> None:
        for t in tasks:
            t.cancel()
        tasks.clear()
        await dispatcher.stop()
        for c in clients:
            await c.aclose()

    container.on_start(start)
    container.on_stop(stop)


def seed_demo(container: Container) -> str:
    """Seven days of past calls for the reports page (only into an empty calls table)."""
    from sqlalchemy import select

    from lendline.analytics.demo_history import seed_call_history
    from lendline.store.models import AgentRow, CustomerRow

    with container.db.session() as s:
        customers = list(s.scalars(select(CustomerRow.customer_id)))
        agents = list(s.scalars(select(AgentRow.agent_id)))
    if not customers or not agents:
        return ""
    n = seed_call_history(
        container.db,
        now=container.clock.now(),
        seed=container.settings.demo_seed,
        customer_ids=customers,
        agent_ids=agents,
    )
    return f"{n} past calls for the reports" if n else ""
