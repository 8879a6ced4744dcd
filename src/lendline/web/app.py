"""The FastAPI application factory."""

from __future__ import annotations

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


def create_app(container: Container, *, manage_lifecycle: bool = True) -> FastAPI:
    """Build the HTTP app. With ``manage_lifecycle`` the container starts and stops with it."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if manage_lifecycle:
            await container.start()
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
