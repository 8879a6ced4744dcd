"""Outbound campaign commands."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from lendline.outbound.campaign import parse_campaign
from lendline.outbound.simulate import CallerModel, human_only, simulate

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

    @campaign.command("simulate")
    def simulate_cmd(
        file: Path = typer.Argument(..., exists=True, dir_okay=False),
        debtors: int = typer.Option(2000, min=1, help="synthetic customers to draw from"),
        days: int = typer.Option(3, min=1, max=60),
        collectors: int = typer.Option(5, min=1, help="human collectors on the campaign"),
        seed: int = typer.Option(1),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Run the campaign on a virtual clock with the real contact policy, and the same
        debtors worked by humans only; print promises won and collector hours spent."""
        import json
        import random
        from dataclasses import asdict
        from datetime import UTC, datetime

        from rich.table import Table

        from lendline.demo.seed import make_customers

        c = parse_campaign(file.read_text(encoding="utf-8"))
        people = make_customers(random.Random(seed), debtors)
        ids = [p.customer_id for p, _ in people if c.selects(p.overdue_days, p.product)]
        start = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)  # Monday 08:00 in Shanghai
        kw = {"start": start, "days": days, "collectors": collectors, "seed": seed}
        mixed = simulate(c, ids, **kw).as_dict()  # type: ignore[arg-type]
        humans = simulate(human_only(c), ids, **kw).as_dict()  # type: ignore[arg-type]
        model = CallerModel()
        if as_json:
            print(
                json.dumps(
                    {"campaign": mixed, "human_only": humans, "assumptions": asdict(model)},
                    ensure_ascii=False,
                    default=str,
                )
            )
            return
        t = Table(title=f"{c.name}: {len(ids)} debtors, {days} days, {collectors} collectors")
        t.add_column("")
        t.add_column("AI first, then human")
        t.add_column("human only")
        for key in (
            "promises",
            "promise_rate",
            "promises_by_bot",
            "promises_by_human",
            "dials_bot",
            "dials_human",
            "collector_hours",
            "collector_minutes_per_promise",
            "refusals",
        ):
            t.add_row(key, str(mixed[key]), str(humans[key]))
        console.print(t)
        console.print(
            "assumptions (edit CallerModel): answer rate by hour, outcome mixes, "
            f"talk {model.bot_talk_s:.0f} s bot / {model.human_talk_s:.0f} s human"
        )
