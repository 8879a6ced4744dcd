"""Event bus across nodes on Redis Streams.

``publish`` delivers to this node's handlers at once and appends the event to one stream
(``XADD``, capped at ``maxlen`` entries); a reader task on every node reads the stream
(``XREAD`` blocking) and delivers the events other nodes published to its own handlers.
So a screen pop reaches the agent's socket whichever node reserved the agent.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, cast

import redis
import redis.asyncio as aioredis
import structlog

from lendline.bus import InProcessBus
from lendline.domain.events import DomainEvent, event_from_dict

log = structlog.get_logger(__name__)

READ_BLOCK_MS = 1000
STOP_TIMEOUT_S = 3.0


class RedisStreamsBus(InProcessBus):
    def __init__(
        self, url: str, *, node_id: str, stream: str = "lendline:events", maxlen: int = 100_000
    ) -> None:
        super().__init__()
        self.url = url
        self.node_id = node_id
        self.stream = stream
        self.maxlen = maxlen
        self._sync = redis.Redis.from_url(url)
        self._task: asyncio.Task[None] | None = None
        self._last_id = "$"
        self.received = 0

    def publish(self, event: DomainEvent) -> None:
        super().publish(event)
        payload = json.dumps(event.to_dict(), ensure_ascii=False, default=str)
        try:
            self._sync.xadd(
                self.stream,
                {"node": self.node_id, "data": payload},
                maxlen=self.maxlen,
                approximate=True,
            )
        except redis.RedisError:
            # the local node keeps working; other nodes miss this event — say so loudly
            log.exception("redis_publish_failed", event=event.name)

    def _deliver_remote(self, fields: dict[bytes, bytes]) -> None:
        if fields.get(b"node", b"").decode() == self.node_id:
            return
        try:
            data: dict[str, Any] = json.loads(fields[b"data"])
            event = event_from_dict(data)
        except (KeyError, ValueError, TypeError):
            log.warning("redis_event_undecodable", fields=str(fields)[:200])
            return
        self.received += 1
        InProcessBus.publish(self, event)
        self.published -= 1  # count only what this node published

    async def _read_loop(self) -> None:
        # a socket timeout above the XREAD block time: a reply lost on the way turns into
        # a retry instead of a reader that waits forever
        client = aioredis.Redis.from_url(self.url, socket_timeout=READ_BLOCK_MS / 1000 + 4)
        try:
            while True:
                try:
                    batches = await client.xread(
                        {self.stream: self._last_id}, block=READ_BLOCK_MS, count=500
                    )
                except (redis.RedisError, OSError):
                    log.warning("redis_read_failed_retrying")
                    await asyncio.sleep(0.5)
                    continue
                for _stream, entries in cast(list[Any], batches or []):
                    for entry_id, fields in cast(list[tuple[Any, dict[bytes, bytes]]], entries):
                        self._last_id = (
                            entry_id.decode() if isinstance(entry_id, bytes) else entry_id
                        )
                        self._deliver_remote(fields)
        finally:
            await client.aclose()

    async def start(self) -> None:
        # start reading from the stream's current end: earlier events are history
        info = self._sync.xinfo_stream(self.stream) if self._sync.exists(self.stream) else None
        if info is not None:
            last = info["last-generated-id"]
            self._last_id = last.decode() if isinstance(last, bytes) else str(last)
        else:
            self._last_id = "0-0"
        self._task = asyncio.create_task(self._read_loop(), name="redis-bus-reader")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            # bounded: a reader stuck closing its connection must not stall shutdown
            done, _ = await asyncio.wait({self._task}, timeout=STOP_TIMEOUT_S)
            if not done:
                log.warning("redis_reader_did_not_stop", stream=self.stream)
            self._task = None
        self._sync.close()
