"""Commands of the routing feature."""

from __future__ import annotations

import typer


def register(app: typer.Typer, bench: typer.Typer) -> None:
    """Add the routing commands to ``app`` and its benchmarks to ``bench``."""
