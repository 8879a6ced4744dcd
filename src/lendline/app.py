"""Composition root: the only place that builds adapters from settings and wires them.

``build_container(settings)`` gives a ``Container``; ``lendline serve`` runs its
``start()``/``stop()`` around the HTTP server, tests call it with their own settings.
Each feature wires itself in ``lendline.wiring.<feature>.wire(container)``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import importlib
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import structlog

from lendline.bus import InProcessBus
from lendline.bus.redis_streams import RedisStreamsBus as RedisStreamsBusType
from lendline.clock import Clock, SystemClock
from lendline.compliance.fieldcrypt import FieldCipher
from lendline.settings import Settings
from lendline.store.base import Database

log = structlog.get_logger(__name__)

LEASE_CHECK_S = 30.0  # how often a node checks it still holds its node id

FEATURES = ("routing", "compliance", "dialogue", "telephony", "desktop", "outbound")


@dataclass
class Container:
    settings: Settings
    db: Database
    bus: InProcessBus
    clock: Clock
    field_cipher: FieldCipher
    master_key: bytes
    # feature services, set by lendline.wiring.<feature>.wire(); typed by their owners
    services: dict[str, Any] = field(default_factory=dict)
    _starters: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    _stoppers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    _lease_task: asyncio.Task[None] | None = field(default=None, repr=False)

    def on_start(self, fn: Callable[[], Awaitable[None]]) -> None:
        self._starters.append(fn)

    def on_stop(self, fn: Callable[[], Awaitable[None]]) -> None:
        self._stoppers.append(fn)

    async def start(self) -> None:
        # the node's lease first: the starters' crash recovery runs only under it
        from lendline.store.lease import acquire_node_lease

        lease = await asyncio.to_thread(
            acquire_node_lease, self.db, self.settings.data_dir, self.settings.node_id
        )
        self.services["node_lease"] = lease
        if lease is not None:
            self._lease_task = asyncio.create_task(self._watch_lease(lease), name="node-lease")
        else:
            log.warning(
                "node_id_in_use",
                node=self.settings.node_id,
                detail="another live process runs as this node: nothing it left open is "
                "recovered by this one; give each process its own LENDLINE_NODE_ID",
            )
        try:
            for fn in self._starters:
                await fn()
        except BaseException:
            # a start that fails gives the node back (serve exits; a test builds another)
            await self._give_back_lease()
            raise

    async def _watch_lease(self, lease: Any) -> None:
        while True:
            await asyncio.sleep(LEASE_CHECK_S)
            try:
                held = await asyncio.to_thread(lease.check)
            except Exception:  # the database is down: try again at the next check
                log.warning("node_lease_check_failed", node=self.settings.node_id)
                continue
            if not held:
                log.error(
                    "node_lease_lost",
                    node=self.settings.node_id,
                    detail="another process now runs as this node: give each its own "
                    "LENDLINE_NODE_ID",
                )
                return

    @property
    def owns_node(self) -> bool:
        """This process holds its node's lease (crash recovery may run)."""
        return self.services.get("node_lease") is not None

    async def stop(self) -> None:
        for fn in reversed(self._stoppers):
            try:
                await fn()
            except Exception:
                log.exception("stop_failed")
        await self._give_back_lease()
        self.db.dispose()

    async def _give_back_lease(self) -> None:
        task = self._lease_task
        if task is not None:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
            self._lease_task = None
        lease = self.services.pop("node_lease", None)
        if lease is not None:
            await asyncio.to_thread(lease.release)


def load_master_key(settings: Settings) -> bytes:
    """The master key: from settings/env, else the key file, else a generated local one."""
    if settings.master_key:
        key = base64.b64decode(settings.master_key)
        if len(key) != 32:
            raise ValueError("LENDLINE_MASTER_KEY must be 32 bytes, base64-encoded")
        return key
    path = settings.effective_master_key_file
    if path.is_file():
        return base64.b64decode(path.read_text().strip())
    path.parent.mkdir(parents=True, exist_ok=True)
    key = os.urandom(32)
    path.write_text(base64.b64encode(key).decode() + "\n")
    path.chmod(0o600)
    log.warning(
        "generated_local_master_key",
        path=str(path),
        warning="DEVELOPMENT ONLY: production must supply LENDLINE_MASTER_KEY or a key file",
    )
    return key


def build_container(settings: Settings, *, clock: Clock | None = None) -> Container:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    master_key = load_master_key(settings)
    bus: InProcessBus
    if settings.redis_url:
        bus = RedisStreamsBusType(settings.redis_url, node_id=settings.node_id)
    else:
        bus = InProcessBus()
    c = Container(
        settings=settings,
        db=Database(settings.effective_database_url),
        bus=bus,
        clock=clock or SystemClock(),
        field_cipher=FieldCipher(master_key),
        master_key=master_key,
    )
    if isinstance(bus, RedisStreamsBusType):
        c.on_start(bus.start)
        c.on_stop(bus.stop)
    for feature in FEATURES:
        module = importlib.import_module(f"lendline.wiring.{feature}")
        module.wire(c)
    return c
