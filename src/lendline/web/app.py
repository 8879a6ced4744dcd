"""The FastAPI application factory."""

from __future__ import annotations

import gc
import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from lendline import __version__
from lendline.app import FEATURES, Container
from lendline.web.errors import install_error_handlers
from lendline.web.routes import health, session

STATIC_DIR = Path(__file__).parent / "static"


WARM_PATH = "/__lendline_warm_routes__"


async def warm_routes(app: FastAPI) -> None:
    """Walk every router once with a request that matches nothing (404, never logged).

    FastAPI builds a router's route table (dependants, parameter models) on the first
    request that walks it: 0.2-0.4 s of CPU on the event loop that also carries SIP and
    RTP. Left to the first real request, it fell on the demo's first call (the agent's
    示闲 or screen pop while lendline's INVITE was out), past T1 = 0.5 s on a busy host.
    """
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": WARM_PATH,
        "raw_path": WARM_PATH.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [],
        "client": ("127.0.0.1", 0),
        "server": ("127.0.0.1", 0),
        "state": {},
    }

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(_message: object) -> None:
        return None

    await app(scope, receive, send)


def freeze_start_up_heap() -> None:
    """Move everything alive after start-up out of the garbage collector's sight.

    Start-up leaves several hundred thousand container objects that live as long as the
    process: modules, route tables, the NLU models, pypinyin's phrase table (about 200,000
    lists on its own). A full collection walks every tracked object and holds the GIL while
    it does, so on a server these objects made each full collection pause the event loop that
    carries SIP, RTP and the screen pops for 220-240 ms even on a quiet machine
    (``lendline bench desktop``, ``full GCs (max ms)``). Frozen objects are never collected
    (they are long-lived by construction) and are not walked: the same bench measures
    120-140 ms with this. CPython's documented use of ``gc.freeze()``.
    """
    gc.collect()
    gc.freeze()


def create_app(
    container: Container, *, manage_lifecycle: bool = True, freeze_gc: bool = False
) -> FastAPI:
    """Build the HTTP app. With ``manage_lifecycle`` the container starts and stops with it.

    ``freeze_gc`` (``lendline serve`` and the benchmarks; not tests, which build many apps in
    one process) freezes the heap once start-up is over: see ``freeze_start_up_heap``.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await warm_routes(app)  # before SIP listens: nothing else runs on the loop yet
        if manage_lifecycle:
            await container.start()
        if freeze_gc:
            freeze_start_up_heap()
        try:
            yield
        finally:
            if manage_lifecycle:
                await container.stop()

    app = FastAPI(
        title="lendline",
        version=__version__,
        description="贷款呼叫中心系统 — a call system for lenders",
        lifespan=lifespan,
    )
    app.state.container = container
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(session.router)
    for feature in FEATURES:
        module = importlib.import_module(f"lendline.web.routes.{feature}")
        app.include_router(module.router)
    if STATIC_DIR.is_dir():
        app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
