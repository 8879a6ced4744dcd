"""CLI commands and the simulator: rules check, CSV replay, the strategy comparison."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from lendline.cli import app
from lendline.simulation.arrivals import generate
from lendline.simulation.runner import run_strategy
from lendline.simulation.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[3]
runner = CliRunner()


def test_rules_check_valid_and_invalid(tmp_path: Path) -> None:
    ok = runner.invoke(app, ["rules", "check", str(ROOT / "rules" / "default.yaml"), "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["rules"][0] == "senior_first_call"
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "queues: {general: {}}\nrules:\n  - name: a\n    when: loan_amount_yuan >\n"
        "    target: queue:general\n",
        "utf-8",
    )
    r = runner.invoke(app, ["rules", "check", str(bad), "--json"])
    assert r.exit_code == 1
    out = json.loads(r.output)
    assert out["valid"] is False and out["line"] == 4 and "syntax" in out["error"]


def test_simulate_json_has_the_figures() -> None:
    r = runner.invoke(
        app,
        ["simulate", str(ROOT / "scenarios" / "loan-center.yaml"), "--hours", "1", "--json"],
    )
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    for key in (
        "calls",
        "answered",
        "abandoned",
        "asa_s",
        "p90_wait_s",
        "service_level_20s",
        "abandon_rate",
        "fcr",
        "occupancy",
        "ewt_mae_s",
    ):
        assert key in out
    assert out["strategy"] == "skills+profile"
    assert (
        out["calls"]
        == out["answered"]
        + out["abandoned"]
        + out["bot_contained"]
        + out["voicemail"]
        + out["still_queued"]
    )
    assert out["still_queued"] == 0


def test_replay_csv_and_bad_row_is_named(tmp_path: Path) -> None:
    header = (
        "arrival_s,customer_id,reason,service_s,patience_s,loan_amount_yuan,overdue_days,"
        "credit_score,first_call,extra\n"
    )
    rows = [f"{i * 20},c{i},product,200,300,5000,0,650,1,x\n" for i in range(60)]
    good = tmp_path / "arrivals.csv"
    good.write_text(header + "".join(rows), "utf-8")
    staffing = tmp_path / "staff.yaml"
    staffing.write_text(
        "reasons: {product: {skill: products}}\n"
        "staffing:\n  - {count: 3, skills: {products: [5, 9], general: [3, 5]}}\n",
        "utf-8",
    )
    r = runner.invoke(
        app,
        ["simulate", "--arrivals", str(good), "--staffing", str(staffing), "--compare", "--json"],
    )
    assert r.exit_code == 0, r.output
    results = json.loads(r.output)
    assert [x["strategy"] for x in results] == ["random", "fifo", "skills", "skills+profile"]
    assert all(x["calls"] >= 60 for x in results)
    bad = tmp_path / "bad.csv"
    bad.write_text(header + rows[0] + "oops,c2,product,200,300,5000,0,650,1,x\n", "utf-8")
    r = runner.invoke(app, ["simulate", "--arrivals", str(bad), "--staffing", str(staffing)])
    assert r.exit_code == 2
    assert "line 3" in r.output


def test_profile_routing_beats_random_and_fifo_on_loan_center() -> None:
    """Seeded, 4 simulated hours: the comparison the README reports, at smaller size."""
    sc = load_scenario(ROOT / "scenarios" / "loan-center.yaml").model_copy(update={"hours": 4})
    calls = generate(sc)
    res = {s: run_strategy(sc, s, calls) for s in ("random", "fifo", "skills", "skills+profile")}
    best = res["skills+profile"]
    for base in ("random", "fifo"):
        assert best.asa_s < 0.5 * res[base].asa_s
        assert best.fcr > res[base].fcr + 0.1
        assert best.abandon_rate < res[base].abandon_rate
    assert best.asa_s <= res["skills"].asa_s * 1.1
    assert best.bot_contained > 0  # the AI collection flow took part
