"""Browser tests: the real app under uvicorn on an ephemeral port, Debian's chromium.

Never ``playwright install``: chromium comes from the distribution (/usr/bin/chromium).
Screenshots go to ``test-artifacts/`` (gitignored; CI keeps them as artifacts).
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from lendline.app import Container, build_container
from lendline.demo.seed import seed_demo_data
from lendline.settings import Settings
from lendline.web.app import create_app
from tests.conftest import ROOT, make_settings

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class LiveApp:
    container: Container
    url: str


@pytest.fixture
def live_app(tmp_path: Path, sqlite_url: str) -> Iterator[LiveApp]:
    with serve(make_settings(tmp_path, sqlite_url, connector_timeout_s=2.0)) as app:
        yield app


@contextmanager
def serve(settings: Settings) -> Iterator[LiveApp]:
    """The seeded demo app under uvicorn on an ephemeral port (lifespan starts the container)."""
    import uvicorn

    container = build_container(settings)
    seed_demo_data(container)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(container), log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield LiveApp(container, f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.skip("Debian chromium is not installed (scripts/apt-deps.sh)")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,  # Playwright gives each launch a fresh temporary profile
        )
        yield b
        b.close()
