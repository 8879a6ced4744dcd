"""Commands of the routing feature: ``rules check``, ``simulate``, ``bench routing``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

console = Console()
err_console = Console(stderr=True)

SIM_COLUMNS = [
    ("calls", "来电 calls", "{:d}"),
    ("answered", "接通 answered", "{:d}"),
    ("abandoned", "放弃 abandoned", "{:d}"),
    ("bot_contained", "AI 完结 bot", "{:d}"),
    ("voicemail", "留言 voicemail", "{:d}"),
    ("asa_s", "平均等待 ASA s", "{:.1f}"),
    ("p90_wait_s", "P90 等待 s", "{:.1f}"),
    ("service_level_20s", "20秒服务水平 SL", "{:.1%}"),
    ("abandon_rate", "放弃率 abandon", "{:.1%}"),
    ("fcr", "首次解决率 FCR", "{:.1%}"),
    ("occupancy", "坐席占用率 occupancy", "{:.1%}"),
    ("aht_s", "平均处理 AHT s", "{:.0f}"),
    ("repeat_calls", "重复来电 repeats", "{:d}"),
    ("ewt_mae_s", "EWT 误差 MAE s", "{:.1f}"),
    ("ewt_p90_abs_err_s", "EWT 误差 P90 s", "{:.1f}"),
]


def _sim_table(results: list[dict[str, Any]], title: str) -> Table:
    table = Table(title=title)
    table.add_column("指标 metric")
    for r in results:
        table.add_column(str(r["strategy"]), justify="right")
    for key, label, fmt in SIM_COLUMNS:
        table.add_row(label, *(fmt.format(r[key]) for r in results))
    return table


def register(app: typer.Typer, bench: typer.Typer) -> None:
    """Add the routing commands to ``app`` and its benchmarks to ``bench``."""
    rules_app = typer.Typer(help="Routing rules (路由规则): check a file.", no_args_is_help=True)
    app.add_typer(rules_app, name="rules")

    @rules_app.command("check")
    def rules_check(
        file: Path = typer.Argument(..., help="rules YAML, e.g. rules/default.yaml"),
        as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
    ) -> None:
        """Validate a rules file: prints the rules, or the line and reason of the first error.

        Exit status 0 when valid, 1 when not (so it can guard a deploy or a SIGHUP reload).
        """
        from lendline.calls.rules_source import load_file
        from lendline.errors import RuleError

        try:
            cfg = load_file(file)
        except RuleError as exc:
            if as_json:
                print(json.dumps({"valid": False, "line": exc.line, "error": exc.detail}))
            else:
                err_console.print(f"[red]invalid[/] {file}: {exc.detail}")
            raise typer.Exit(1) from None
        if as_json:
            print(
                json.dumps(
                    {
                        "valid": True,
                        "rules": [r.name for r in cfg.rules],
                        "queues": sorted(cfg.queues),
                        "default": str(cfg.default),
                    },
                    ensure_ascii=False,
                )
            )
            return
        table = Table(title=f"{file}: {len(cfg.rules)} rules, first match wins (规则有效)")
        for col in ("#", "name", "when", "target", "priority"):
            table.add_column(col)
        for i, r in enumerate(cfg.rules, 1):
            table.add_row(str(i), r.name, r.when.source, str(r.target), str(r.priority))
        table.add_row("", "(default)", "", str(cfg.default), str(cfg.default_priority))
        console.print(table)
        console.print(f"queues: {', '.join(sorted(cfg.queues))}")

    @app.command()
    def simulate(
        scenario: Path = typer.Argument(
            Path("scenarios/loan-center.yaml"), help="scenario YAML (staffing, reasons, rates)"
        ),
        strategy: str = typer.Option(
            "skills+profile", help="random | fifo | skills | skills+profile (or registered)"
        ),
        compare: bool = typer.Option(False, "--compare", help="run every strategy, same calls"),
        arrivals: Path | None = typer.Option(
            None, help="replay arrivals CSV (arrival_s,customer_id,reason,service_s,…)"
        ),
        staffing: Path | None = typer.Option(
            None, help="with --arrivals: staffing/model YAML (a scenario without arrivals)"
        ),
        hours: float | None = typer.Option(None, help="override the scenario's hours"),
        seed: int | None = typer.Option(None, help="override the scenario's seed"),
        as_json: bool = typer.Option(False, "--json", help="print JSON, no table"),
    ) -> None:
        """Run the real routing engine on a virtual clock and report what it achieves.

        Prints calls, answered, abandoned, ASA (average wait of answered calls), P90 wait,
        20-second service level, abandon rate, first-contact resolution, occupancy and the
        EWT error (predicted vs actual wait). --compare runs all strategies on the same
        arrivals side by side.
        """
        from lendline.errors import LendlineError
        from lendline.simulation.arrivals import generate
        from lendline.simulation.runner import run_strategy
        from lendline.simulation.scenario import load_scenario, read_arrivals_csv
        from lendline.simulation.strategies import STRATEGIES

        try:
            sc = load_scenario(staffing if (arrivals and staffing) else scenario)
            updates: dict[str, Any] = {}
            if hours is not None:
                updates["hours"] = hours
            if seed is not None:
                updates["seed"] = seed
            if updates:
                sc = sc.model_copy(update=updates)
            calls = read_arrivals_csv(arrivals, sc) if arrivals else generate(sc)
            names = list(STRATEGIES) if compare else [strategy]
            if strategy not in STRATEGIES:
                raise typer.BadParameter(f"unknown strategy (known: {', '.join(STRATEGIES)})")
            results = []
            with Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TimeElapsedColumn(),
                console=err_console,
                disable=as_json or len(calls) < 5000,
            ) as progress:
                for name in names:
                    task = progress.add_task(f"simulate {name}", total=1.0)

                    def tick(frac: float, task: Any = task) -> None:
                        progress.update(task, completed=frac)

                    results.append(run_strategy(sc, name, calls, progress=tick).as_dict())
                    progress.update(task, completed=1.0)
        except LendlineError as exc:
            err_console.print(f"[red]error[/] {exc.code}: {exc.detail}")
            raise typer.Exit(2) from None
        if as_json:
            out: Any = results if compare else results[0]
            print(json.dumps(out, ensure_ascii=False, indent=2))
            return
        src = arrivals.name if arrivals else scenario.name
        console.print(
            _sim_table(results, f"{sc.name}: {len(calls)} arrivals from {src}, seed {sc.seed}")
        )

    @bench.command("routing-erlang")
    def bench_erlang(
        agents: int = typer.Option(10, help="agents (c)"),
        arrivals_per_hour: float = typer.Option(160.0, help="Poisson arrival rate"),
        aht_s: float = typer.Option(180.0, help="mean of the exponential handle time"),
        hours: float = typer.Option(3000.0, help="simulated hours"),
        seed: int = typer.Option(1, help="random seed"),
    ) -> None:
        """Queueing-theory check: simulated ASA of an M/M/c queue against Erlang C."""
        from lendline.simulation.runner import erlang_check

        print(
            json.dumps(
                erlang_check(
                    agents=agents,
                    arrivals_per_hour=arrivals_per_hour,
                    aht_s=aht_s,
                    hours=hours,
                    seed=seed,
                ),
                indent=2,
            )
        )

    @bench.command("routing")
    def bench_routing(
        agents: int = typer.Option(5000, help="agents"),
        skills: int = typer.Option(50, help="skills (one queue each)"),
        waiting: int = typer.Option(20000, help="calls waiting when measuring starts"),
        decisions: int = typer.Option(60000, help="decisions to measure"),
        scaling: str = typer.Option(
            "500,5000,50000", help="agent counts for the growth table ('' to skip)"
        ),
        as_json: bool = typer.Option(False, "--json", help="print JSON"),
    ) -> None:
        """Decisions per second and p50/p99 latency of one routing decision.

        One decision = rule evaluation + queue insert + agent selection (call side) or an
        agent offered the best waiting call (agent side). Then the same at other agent
        counts, to show how the cost grows (it should be flat: agents are indexed by skill,
        level and state).
        """
        from lendline.simulation.bench import run

        main = run(agents=agents, skills=skills, waiting=waiting, decisions=decisions)
        growth = []
        for n in [int(x) for x in scaling.split(",") if x.strip()]:
            growth.append(run(agents=n, skills=skills, waiting=waiting, decisions=decisions // 3))
        if as_json:
            print(
                json.dumps(
                    {"main": main.as_dict(), "scaling": [g.as_dict() for g in growth]}, indent=2
                )
            )
            return
        t = Table(title=f"routing decision: {agents} agents, {skills} skills, {waiting} waiting")
        t.add_column("figure")
        t.add_column("value", justify="right")
        t.add_column("target", justify="right")
        t.add_row("decisions/s (CPU)", f"{main.decisions_per_s:,.0f}", "≥ 50,000")
        t.add_row("p50 µs (CPU)", f"{main.p50_us:.1f}", "")
        t.add_row("p99 µs (CPU)", f"{main.p99_us:.1f}", "≤ 1000")
        t.add_row("p99.9 µs (CPU)", f"{main.p999_us:.1f}", "")
        t.add_row("p50 / p99 µs (wall)", f"{main.wall_p50_us:.1f} / {main.wall_p99_us:.1f}", "")
        t.add_row(
            "call side p50/p99 µs", f"{main.call_side_p50_us:.1f} / {main.call_side_p99_us:.1f}", ""
        )
        t.add_row(
            "agent side p50/p99 µs",
            f"{main.agent_side_p50_us:.1f} / {main.agent_side_p99_us:.1f}",
            "",
        )
        t.add_row("decisions over 1 ms (pre-empted)", f"{main.preempted_share:.3%}", "")
        t.add_row("calibration: ns per empty call", f"{main.calibration_ns:.0f}", "")
        console.print(t)
        if growth:
            g = Table(title="growth with the number of agents")
            for col in ("agents", "decisions/s", "p50 µs", "p99 µs", "setup s"):
                g.add_column(col, justify="right")
            for r in growth:
                g.add_row(
                    f"{r.agents:,}",
                    f"{r.decisions_per_s:,.0f}",
                    f"{r.p50_us:.1f}",
                    f"{r.p99_us:.1f}",
                    f"{r.setup_s:.1f}",
                )
            console.print(g)
