"""The WebSocket push hub: numbered messages per topic, resumable after a reconnect.

Topics are ``agent:<agent_id>`` (that agent's offers, screen pops, call changes) and
``wallboard`` (queue and agent figures, alerts). Every message gets the next id of one
hub-wide sequence; each topic keeps its last ``buffer`` messages. A client that
reconnects sends the hub ``epoch`` and the last id it saw and receives every later
message of its topics, in order, before anything live. When it cannot be served from the
buffers (the hub restarted, or the gap is older than the buffer) it is told to
``resync`` and reloads its state over REST, so nothing is silently lost.

The hub lives on one event loop; ``publish_threadsafe`` may be called from any thread.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Message:
    id: int
    topic: str
    type: str
    data: dict[str, Any]
    wire: str  # the JSON text sent on the socket, encoded once


@dataclass(slots=True)
class Subscriber:
    topics: frozenset[str]
    queue: asyncio.Queue[Message | None]
    overflowed: bool = False
    sent: int = 0


@dataclass(slots=True)
class _Topic:
    messages: deque[Message]
    dropped_upto: int = 0  # highest id evicted from the buffer
    subscribers: set[int] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class Resume:
    """What a (re)connecting client gets: the backlog, or an order to resync."""

    backlog: list[Message]
    resync: bool
    last_id: int


class PushHub:
    def __init__(self, *, buffer: int = 500, queue_max: int = 2000) -> None:
        self.epoch = secrets.token_hex(4)
        self.buffer = buffer
        self.queue_max = queue_max
        self.seq = 0
        self._topics: dict[str, _Topic] = {}
        self._subs: dict[int, Subscriber] = {}
        self._lock = threading.Lock()
        self.loop: asyncio.AbstractEventLoop | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    # --- publishing ---
    def publish(self, topic: str, type_: str, data: dict[str, Any]) -> Message:
        """Number, buffer and deliver one message (on the hub's loop)."""
        with self._lock:
            self.seq += 1
            msg_id = self.seq
            wire = json.dumps(
                {
                    "id": msg_id,
                    "epoch": self.epoch,
                    "topic": topic,
                    "type": type_,
                    "at": datetime.now(UTC).isoformat(),
                    "data": data,
                },
                ensure_ascii=False,
                default=str,
            )
            msg = Message(msg_id, topic, type_, data, wire)
            t = self._topics.get(topic)
            if t is None:
                t = self._topics[topic] = _Topic(deque())
            t.messages.append(msg)
            if len(t.messages) > self.buffer:
                t.dropped_upto = t.messages.popleft().id
            targets = [self._subs[k] for k in t.subscribers if k in self._subs]
        for sub in targets:
            self._deliver(sub, msg)
        return msg

    def publish_threadsafe(self, topic: str, type_: str, data: dict[str, Any]) -> None:
        loop = self.loop
        if loop is None or _on_loop(loop):
            self.publish(topic, type_, data)
        else:
            loop.call_soon_threadsafe(self.publish, topic, type_, data)

    def _deliver(self, sub: Subscriber, msg: Message) -> None:
        if sub.overflowed:
            return
        try:
            sub.queue.put_nowait(msg)
        except asyncio.QueueFull:
            # a client this far behind is told to resync rather than blocking the hub
            sub.overflowed = True
            sub.queue.get_nowait()
            sub.queue.put_nowait(None)

    # --- subscribing ---
    def subscribe(
        self, topics: frozenset[str], *, epoch: str | None = None, last_id: int | None = None
    ) -> tuple[Subscriber, Resume]:
        """Register a subscriber and compute what it missed since ``last_id``."""
        sub = Subscriber(topics, asyncio.Queue(self.queue_max))
        with self._lock:
            key = id(sub)
            self._subs[key] = sub
            for name in topics:
                t = self._topics.get(name)
                if t is None:
                    t = self._topics[name] = _Topic(deque())
                t.subscribers.add(key)
            current = self.seq
            if last_id is None:
                return sub, Resume([], False, current)
            if epoch != self.epoch or last_id > current:
                return sub, Resume([], True, current)
            backlog: list[Message] = []
            for name in topics:
                t = self._topics[name]
                if t.dropped_upto > last_id:
                    return sub, Resume([], True, current)
                backlog.extend(m for m in t.messages if m.id > last_id)
        backlog.sort(key=lambda m: m.id)
        return sub, Resume(backlog, False, current)

    def unsubscribe(self, sub: Subscriber) -> None:
        with self._lock:
            key = id(sub)
            self._subs.pop(key, None)
            for name in sub.topics:
                t = self._topics.get(name)
                if t is not None:
                    t.subscribers.discard(key)

    @property
    def connections(self) -> int:
        return len(self._subs)

    def recent(self, topic: str, limit: int = 50) -> list[Message]:
        with self._lock:
            t = self._topics.get(topic)
            return list(t.messages)[-limit:] if t else []


def _on_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False
