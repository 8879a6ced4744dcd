"""Commands of the nlu feature."""

from __future__ import annotations

import typer


def register(app: typer.Typer, bench: typer.Typer) -> None:
    """Add the nlu commands to ``app`` and its benchmarks to ``bench``."""
