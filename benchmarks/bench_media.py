"""Media load benchmark, same as ``lendline bench media``: python benchmarks/bench_media.py."""

from __future__ import annotations

import sys

from lendline.cli.media import bench_media

if __name__ == "__main__":
    import typer

    app = typer.Typer()
    app.command()(bench_media)
    sys.exit(app())
