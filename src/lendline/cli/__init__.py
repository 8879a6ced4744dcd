"""The ``lendline`` command line (Typer + Rich).

Core commands live here; each feature adds its own in ``lendline.cli.<feature>.register``.
"""

from __future__ import annotations

import importlib

import typer

from lendline.app import FEATURES
from lendline.cli import core

app = typer.Typer(
    name="lendline",
    help="lendline — 贷款呼叫中心系统: routing, voicebot, agent desktop, compliance.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
bench_app = typer.Typer(
    help="Benchmarks that print measured figures (make bench).", no_args_is_help=True
)
db_app = typer.Typer(help="Database schema management.", no_args_is_help=True)
app.add_typer(bench_app, name="bench")
app.add_typer(db_app, name="db")

CLI_MODULES = (*FEATURES, "nlu", "media", "analytics")

core.register(app, bench_app, db_app)
for _feature in CLI_MODULES:
    importlib.import_module(f"lendline.cli.{_feature}").register(app, bench_app)


def main() -> None:
    """Entry point: a LendlineError becomes one clear line on stderr and exit status 2."""
    from rich.console import Console

    from lendline.errors import LendlineError

    try:
        app()
    except LendlineError as exc:
        Console(stderr=True).print(f"[red]error[/] {exc.code}: {exc.detail}")
        raise SystemExit(2) from None
