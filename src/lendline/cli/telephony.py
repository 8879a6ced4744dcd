"""Commands of the telephony feature: ``lendline bench sip``."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

console = Console()


def register(app: typer.Typer, bench: typer.Typer) -> None:
    """Add the telephony commands to ``app`` and its benchmarks to ``bench``."""

    @bench.command("sip")
    def bench_sip(
        rates: str = typer.Option("500,1000,1250", help="calls/s steps, comma-separated"),
        seconds: int = typer.Option(10, help="seconds per step"),
        database_url: str = typer.Option(
            "", help="where call records go (default: a fresh SQLite file)"
        ),
        as_json: bool = typer.Option(False, "--json", help="print JSON only"),
    ) -> None:
        """SIPp UAC calls (INVITE/200/ACK/BYE) against lendline and SIPp's own UAS."""
        from lendline.telephony.bench import run

        steps = [int(r) for r in rates.split(",") if r.strip()]
        result = run(steps, seconds, database_url or None)
        if as_json:
            print(json.dumps(result, indent=2))
            return
        table = Table(title="lendline bench sip (SIPp uac, no media)")
        for col in ("rate", "target", "ok", "failed", "retrans", "records", "achieved cps", "pass"):
            table.add_column(col)
        for step in result["steps"]:  # type: ignore[attr-defined]
            for name in ("lendline", "sipp_uas"):
                r = step[name]
                table.add_row(
                    str(step["rate"]),
                    name,
                    str(r["successful"]),
                    str(r["failed"]),
                    str(r["retransmissions"]),
                    "-" if r["records"] is None else str(r["records"]),
                    str(r["achieved_cps"]),
                    "yes" if r["passed"] else "no",
                )
        console.print(table)
        console.print(
            f"lendline sustained [bold]{result['sustained_cps']}[/] calls/s with zero failed "
            f"calls and a call record per call; SIPp UAS {result['sipp_uas_sustained_cps']}; "
            f"ratio {result['ratio']}; server {result['server']}"
        )
