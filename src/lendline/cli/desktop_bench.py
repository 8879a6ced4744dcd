"""``lendline bench desktop``: reservation → screen pop at the agent's WebSocket.

The real server (uvicorn, the routing engine's CallCenter, the desktop feed, the push
hub, the built-in connectors on SQLite) runs in this process; ``agents`` WebSocket
clients run in a child process (``python -m lendline.cli.desktop_bench client``) so they
do not share the server's interpreter. Calls are injected through the CallCenter at
``rate`` per second; each is reserved to a different available agent. The latency of a
call is the agent socket's receive time of ``screen_pop`` minus the ``AgentReserved``
event's timestamp (both ``time.monotonic()``, one clock for every process on Linux).
With ``connector_delay_s`` every connector answers that much later (a slow lender).
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from itsdangerous import URLSafeTimedSerializer


def _pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))
    return s[k]


class _Delayed:
    """Wraps a connector so every coroutine method answers ``delay_s`` later."""

    local = False  # a remote system: never take the one-hop local path

    def __init__(self, inner: Any, delay_s: float) -> None:
        self._inner = inner
        self._delay_s = delay_s

    def __getattr__(self, name: str) -> Any:
        fn = getattr(self._inner, name)

        async def delayed(*a: Any, **kw: Any) -> Any:
            await asyncio.sleep(self._delay_s)
            return await fn(*a, **kw)

        return delayed


class _GcPauses:
    """A ``gc.callbacks`` hook: how long each collection paused the server's threads."""

    def __init__(self) -> None:
        self.full_ms: list[float] = []
        self.young_max_ms = 0.0
        self._t0 = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._t0 = time.perf_counter()
            return
        ms = (time.perf_counter() - self._t0) * 1000
        if info["generation"] == 2:
            self.full_ms.append(ms)
        else:
            self.young_max_ms = max(self.young_max_ms, ms)


def run(
    *,
    agents: int,
    calls: int,
    rate: float,
    connector_delay_s: float,
    deadline_s: float,
    deflate: bool = True,
    freeze_gc: bool = True,
) -> dict[str, Any]:
    import uvicorn
    from sqlalchemy import select

    from lendline.app import build_container
    from lendline.demo.seed import seed_demo_data
    from lendline.domain.agent import Agent, AgentState
    from lendline.domain.events import AgentReserved, DomainEvent
    from lendline.settings import load_settings
    from lendline.store.migrate import upgrade
    from lendline.store.models import CustomerRow
    from lendline.web.app import create_app

    tmp = Path(tempfile.mkdtemp(prefix="lendline-bench-desktop-"))
    settings = load_settings(
        data_dir=tmp,
        database_url="",
        sip_enabled=False,
        session_secret="bench-secret",
        demo_password="bench-Passw0rd!",
        reservation_timeout_s=600.0,
        connector_timeout_s=deadline_s,
        log_level="WARNING",
    )
    upgrade(settings.effective_database_url)
    container = build_container(settings)
    seed_demo_data(container)
    if connector_delay_s > 0:
        conn = container.services["connectors"]
        conn.customers = _Delayed(conn.customers, connector_delay_s)
        conn.loans = _Delayed(conn.loans, connector_delay_s)
        conn.risk = _Delayed(conn.risk, connector_delay_s)
    with container.db.session() as s:
        customer_ids = [
            r.customer_id
            for r in s.scalars(select(CustomerRow).where(CustomerRow.overdue_days == 0))
            if not (r.loan_amount_fen > 100_000_00 and r.first_call)
        ]
    reserved_at: dict[str, tuple[float, str]] = {}

    def on_reserved(ev: DomainEvent) -> None:
        if isinstance(ev, AgentReserved):
            reserved_at[ev.call_id] = (ev.at_s, ev.agent_id)

    container.bus.subscribe(on_reserved, AgentReserved)

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(container, freeze_gc=freeze_gc),  # on: as lendline serve does
            log_level="warning",
            lifespan="on",
            backlog=4096,
            ws_per_message_deflate=deflate,  # uvicorn's default (and lendline serve's): on
        )
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    warming = getattr(container.services["dialogue_engine"].nlu, "warm_thread", None)
    if warming is not None:  # serve loads the NLU model in the background at start-up:
        warming.join(600)  # measure the steady state, as a node that has been up a while
    center = container.services["call_center"]
    ser = URLSafeTimedSerializer("bench-secret", salt="lendline-session")
    tokens = {}
    skills = {"general": 9, "products": 9, "collections": 9, "complaints": 9, "senior_loans": 9}
    for i in range(agents):
        aid = f"bench{i:04d}"
        center.add_agent(Agent(agent_id=aid, name=f"坐席{i}", skills=dict(skills)))
        tokens[aid] = ser.dumps(
            {"u": aid, "n": aid, "r": "agent", "a": aid, "t": None, "l": "zh-CN"}
        )
    tokens_file = tmp / "tokens.json"
    tokens_file.write_text(json.dumps(tokens))
    child = subprocess.Popen(
        [sys.executable, "-m", "lendline.cli.desktop_bench", "client", str(port), str(tokens_file)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    assert child.stdout is not None and child.stdin is not None
    ready = child.stdout.readline().strip()
    if not ready.startswith("READY"):
        raise RuntimeError(f"bench client failed: {ready!r}")
    for aid in tokens:
        center.set_agent_state(aid, AgentState.AVAILABLE)
    time.sleep(1.0)  # let the state pushes and wallboard settle
    gc_pauses = _GcPauses()
    gc.callbacks.append(gc_pauses)
    t_start = time.monotonic()
    cpu0 = time.process_time()
    injected = []
    for n in range(calls):
        target = t_start + n / rate
        while (now := time.monotonic()) < target:
            time.sleep(min(0.005, target - now))
        call = center.inbound_call(customer_id=customer_ids[n % len(customer_ids)], channel="bench")
        injected.append(call.call_id)
    child.stdin.write(f"{calls}\n")
    child.stdin.flush()
    out, _ = child.communicate(timeout=120)
    server_cpu_s = time.process_time() - cpu0
    wall_s = time.monotonic() - t_start
    gc.callbacks.remove(gc_pauses)
    got = json.loads(out.strip().splitlines()[-1])
    server.should_exit = True
    thread.join(15)
    latencies, wrong, missing = [], 0, 0
    for call_id, (recv_s, agent_id, n_missing) in got["pops"].items():
        at = reserved_at.get(call_id)
        if at is None:
            continue
        if at[1] != agent_id:
            wrong += 1
        missing += 1 if n_missing else 0
        latencies.append((recv_s - at[0]) * 1000)
    return {
        "agents_connected": got["connected"],
        "calls": calls,
        "rate_per_s": rate,
        "connector_delay_ms": connector_delay_s * 1000,
        "ws_deflate": deflate,
        "gc_frozen_at_start": freeze_gc,
        "pops_received": len(latencies),
        "pops_to_wrong_agent": wrong,
        "pops_with_missing_parts": missing,
        "p50_ms": round(_pct(latencies, 50), 2),
        "p90_ms": round(_pct(latencies, 90), 2),
        "p99_ms": round(_pct(latencies, 99), 2),
        "max_ms": round(max(latencies), 2) if latencies else None,
        "server_cpu_ms_per_call": round(server_cpu_s * 1000 / max(1, calls), 2),
        "server_cpu_share": round(server_cpu_s / wall_s, 2),  # cores busy on average
        "gc_full_collections": len(gc_pauses.full_ms),
        "gc_full_max_ms": round(max(gc_pauses.full_ms, default=0.0), 1),
        "gc_young_max_ms": round(gc_pauses.young_max_ms, 1),
        "load_avg_1m": round(os.getloadavg()[0], 1),
    }


async def _client(port: int, tokens_file: str) -> None:
    import websockets

    tokens: dict[str, str] = json.loads(Path(tokens_file).read_text())
    pops: dict[str, tuple[float, str, int]] = {}
    conns = []
    sem = asyncio.Semaphore(50)

    async def connect(aid: str, token: str) -> Any:
        async with sem:
            ws = await websockets.connect(
                f"ws://127.0.0.1:{port}/ws/desktop?token={token}", max_size=2**22
            )
            json.loads(await ws.recv())  # hello
            return aid, ws

    conns = await asyncio.gather(*(connect(a, t) for a, t in tokens.items()))

    async def reader(aid: str, ws: Any) -> None:
        async for raw in ws:
            t = time.monotonic()
            msg = json.loads(raw)
            if msg.get("type") == "screen_pop":
                d = msg["data"]
                pops[d["call_id"]] = (t, aid if d["agent_id"] == aid else "?", len(d["missing"]))

    tasks = [asyncio.create_task(reader(a, w)) for a, w in conns]
    print(f"READY {len(conns)}", flush=True)
    expected = int(await asyncio.to_thread(sys.stdin.readline))
    deadline = time.monotonic() + 60
    while len(pops) < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*(w.close() for _, w in conns), return_exceptions=True)
    print(json.dumps({"connected": len(conns), "pops": pops}), flush=True)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "client":
        asyncio.run(_client(int(sys.argv[2]), sys.argv[3]))
    else:
        raise SystemExit("usage: python -m lendline.cli.desktop_bench client PORT TOKENS_FILE")
