"""The event bus: domain events from the core to the edges (store, desktop push, webhooks).

``InProcessBus`` is the embedded default. Handlers are plain callables; an exception in one
handler is logged and never stops the others or the publisher (a broken webhook must not
drop a call).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog

from lendline.domain.events import DomainEvent

Handler = Callable[[DomainEvent], Any]
log = structlog.get_logger(__name__)


class InProcessBus:
    def __init__(self) -> None:
        self._handlers: list[tuple[type[DomainEvent], Handler]] = []
        self.published = 0

    def subscribe(self, handler: Handler, event_type: type[DomainEvent] = DomainEvent) -> None:
        self._handlers.append((event_type, handler))

    def unsubscribe(self, handler: Handler) -> None:
        self._handlers = [(t, h) for t, h in self._handlers if h is not handler]

    def publish(self, event: DomainEvent) -> None:
        self.published += 1
        for event_type, handler in list(self._handlers):
            if isinstance(event, event_type):
                try:
                    handler(event)
                except Exception:  # a subscriber's bug must not break the publisher
                    log.exception("event_handler_failed", event=event.name)
