"""Commands of the desktop feature: ``lendline bench desktop``."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

console = Console(width=170)


def register(app: typer.Typer, bench: typer.Typer) -> None:
    """Add the desktop commands to ``app`` and its benchmarks to ``bench``."""

    @bench.command("desktop")
    def bench_desktop(
        agents: int = typer.Option(1000, help="agents connected over WebSocket"),
        calls: int = typer.Option(1000, help="calls injected (each to a different agent)"),
        rate: float = typer.Option(50.0, help="calls injected per second"),
        slow_ms: float = typer.Option(200.0, help="second run: connectors answer this late"),
        deadline_s: float = typer.Option(0.8, help="screen-pop deadline for the connectors"),
        deflate: bool = typer.Option(True, help="WebSocket permessage-deflate (serve's default)"),
        freeze_gc: bool = typer.Option(
            True, help="freeze the start-up heap out of the collector's walk (serve's default)"
        ),
        as_json: bool = typer.Option(False, "--json", help="print JSON only"),
    ) -> None:
        """Time from the reservation event to the screen pop at the agent's socket."""
        from lendline.cli.desktop_bench import run

        calls = min(calls, agents)
        results = [
            run(
                agents=agents,
                calls=calls,
                rate=rate,
                connector_delay_s=0.0,
                deadline_s=deadline_s,
                deflate=deflate,
                freeze_gc=freeze_gc,
            )
        ]
        if slow_ms > 0:
            results.append(
                run(
                    agents=agents,
                    calls=calls,
                    rate=rate,
                    connector_delay_s=slow_ms / 1000,
                    deadline_s=deadline_s,
                    deflate=deflate,
                    freeze_gc=freeze_gc,
                )
            )
        if as_json:
            print(json.dumps(results))
            return
        table = Table(title="reservation → screen pop at the agent's WebSocket")
        for col in (
            "connector",
            "agents",
            "calls",
            "rate/s",
            "received",
            "wrong agent",
            "missing parts",
            "p50 ms",
            "p90 ms",
            "p99 ms",
            "max ms",
            "server CPU ms/call",
            "full GCs (max ms)",
            "load avg",
        ):
            table.add_column(col)
        for r in results:
            table.add_row(
                "built-in" if not r["connector_delay_ms"] else f"+{r['connector_delay_ms']:.0f} ms",
                str(r["agents_connected"]),
                str(r["calls"]),
                f"{r['rate_per_s']:g}",
                str(r["pops_received"]),
                str(r["pops_to_wrong_agent"]),
                str(r["pops_with_missing_parts"]),
                f"{r['p50_ms']}",
                f"{r['p90_ms']}",
                f"{r['p99_ms']}",
                f"{r['max_ms']}",
                f"{r['server_cpu_ms_per_call']}",
                f"{r['gc_full_collections']} ({r['gc_full_max_ms']})",
                f"{r['load_avg_1m']}",
            )
        console.print(table)
        console.print(
            "target: p99 ≤ 50 ms with the built-in connectors; pop within 1 s "
            "with a 200 ms connector"
        )
