"""Outbound campaign commands."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from lendline.outbound.campaign import parse_campaign

console = Console()


def register(app: typer.Typer, bench: typer.Typer) -> None:
    campaign = typer.Typer(
        help="Outbound campaigns (外呼任务): AI reminder first, then a human.", no_args_is_help=True
    )
    app.add_typer(campaign, name="campaign")

    @campaign.command("check")
    def check(file: Path = typer.Argument(..., exists=True, dir_okay=False)) -> None:
        """Validate a campaign YAML; an error names the line and the reason (exit status 2)."""
        c = parse_campaign(file.read_text(encoding="utf-8"))
        stages = " → ".join(f"{s.kind}({s.flow or s.queue}, ×{s.max_attempts})" for s in c.stages)
        console.print(
            f"[green]ok[/] {c.name} ({c.purpose}): {stages}, {c.dials_per_minute} dials/min"
        )
