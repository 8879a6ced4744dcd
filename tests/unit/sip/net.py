"""A fake network for sans-I/O SIP tests: delivers queued datagrams between user agents."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lendline.clock import ManualClock


class Net:
    """Nodes by address; ``pump()`` moves datagrams until quiet; ``drop`` filters losses."""

    def __init__(self) -> None:
        self.clock = ManualClock()
        self.nodes: dict[tuple[str, int], Any] = {}
        self.log: list[tuple[tuple[str, int], tuple[str, int], bytes]] = []
        self.drop: Callable[[bytes], bool] = lambda data: False

    def add(self, node: Any) -> Any:
        self.nodes[(node.host, node.port)] = node
        return node

    def pump(self) -> int:
        moved = 0
        busy = True
        while busy:
            busy = False
            for addr, node in list(self.nodes.items()):
                for data, dest, transport in node.datagrams_to_send():
                    self.log.append((addr, dest, data))
                    busy = True
                    moved += 1
                    if self.drop(data):
                        continue
                    peer = self.nodes.get(dest)
                    if peer is not None:
                        peer.receive(data, addr, transport, self.clock.monotonic())
        return moved

    def advance(self, seconds: float, step: float = 0.05) -> None:
        """Move time forward, firing every node's timers and delivering what they send."""
        end = self.clock.monotonic() + seconds
        while self.clock.monotonic() < end:
            self.clock.advance(min(step, end - self.clock.monotonic()))
            now = self.clock.monotonic()
            for node in list(self.nodes.values()):
                t = node.get_timer()
                if t is not None and t <= now:
                    node.handle_timer(now)
            self.pump()

    def events(self, node: Any) -> list[Any]:
        out = []
        while (ev := node.next_event()) is not None:
            out.append(ev)
        return out

    def sent(self, start_line: str) -> list[bytes]:
        return [d for _, _, d in self.log if d.startswith(start_line.encode())]
