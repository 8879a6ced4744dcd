"""Commands of the dialogue feature."""

from __future__ import annotations

import typer


def register(app: typer.Typer, bench: typer.Typer) -> None:
    """Add the dialogue commands to ``app`` and its benchmarks to ``bench``."""
