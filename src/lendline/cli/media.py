"""Commands of the media feature."""

from __future__ import annotations

import typer


def register(app: typer.Typer, bench: typer.Typer) -> None:
    """Add the media commands to ``app`` and its benchmarks to ``bench``."""
