"""Core commands: serve, demo, db upgrade."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer
from rich.console import Console

from lendline.logging import configure_logging
from lendline.settings import load_settings

console = Console()


def _run_server(settings_overrides: dict[str, object], *, seed_demo: bool) -> None:
    import uvicorn

    from lendline.app import build_container
    from lendline.store.migrate import upgrade
    from lendline.web.app import create_app

    settings = load_settings(**settings_overrides)
    configure_logging(settings.log_level, json=settings.log_json)
    upgrade(settings.effective_database_url)
    container = build_container(settings)
    if seed_demo:
        from lendline.demo.seed import seed_demo_data

        summary = seed_demo_data(container)
        console.print(f"[green]demo data[/]: {summary}")
    app = create_app(container, freeze_gc=True)
    base = f"http://{settings.http_host}:{settings.http_port}"
    console.print(f"[bold]lendline[/] on {base}")
    console.print(f"  API docs     {base}/docs")
    console.print(f"  agent desk   {base}/agent")
    console.print(f"  supervisor   {base}/supervisor")
    console.print(f"  metrics      {base}/metrics")
    if settings.sip_enabled:
        console.print(
            f"  SIP          sip:ivr@{settings.advertised_host}:{settings.sip_port} (UDP/TCP)"
        )
    config = uvicorn.Config(
        app, host=settings.http_host, port=settings.http_port, log_level="warning", lifespan="on"
    )
    asyncio.run(uvicorn.Server(config).serve())


def register(app: typer.Typer, bench: typer.Typer, db: typer.Typer) -> None:
    @app.command()
    def serve(
        host: str = typer.Option(None, help="HTTP address (default from settings: 127.0.0.1)"),
        port: int = typer.Option(None, help="HTTP port (default 8080)"),
        sip_port: int = typer.Option(None, help="SIP port, UDP and TCP (default 5080)"),
        no_sip: bool = typer.Option(False, "--no-sip", help="HTTP only, no SIP/RTP"),
    ) -> None:
        """Run lendline: HTTP API, pages and the SIP server, in one process."""
        overrides: dict[str, object] = {}
        if host:
            overrides["http_host"] = host
        if port:
            overrides["http_port"] = port
        if sip_port:
            overrides["sip_port"] = sip_port
        if no_sip:
            overrides["sip_enabled"] = False
        _run_server(overrides, seed_demo=False)

    @app.command()
    def demo(
        port: int = typer.Option(None, help="HTTP port (default 8080)"),
        data_dir: Path = typer.Option(None, help="where to keep the demo's files (default ./var)"),
    ) -> None:
        """Create the SQLite database, seed the demo data (reproducible) and serve it."""
        overrides: dict[str, object] = {}
        if port:
            overrides["http_port"] = port
        if data_dir:
            overrides["data_dir"] = data_dir
        _run_server(overrides, seed_demo=True)

    @db.command("upgrade")
    def db_upgrade(revision: str = typer.Argument("heads", help="target revision")) -> None:
        """Apply the Alembic migrations to the configured database."""
        from lendline.store.migrate import upgrade

        settings = load_settings()
        upgrade(settings.effective_database_url, revision)
        console.print(f"[green]database at {revision}[/]: {settings.effective_database_url}")
