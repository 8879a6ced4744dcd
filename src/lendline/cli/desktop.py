"""Commands of the desktop feature."""

from __future__ import annotations

import typer


def register(app: typer.Typer, bench: typer.Typer) -> None:
    """Add the desktop commands to ``app`` and its benchmarks to ``bench``."""
