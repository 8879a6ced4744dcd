"""``lendline bot test`` runs the shipped stories with the real NLU; ``bot check`` lints."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from lendline.cli import app

ROOT = Path(__file__).resolve().parents[3]


def test_shipped_stories_pass_with_the_default_nlu() -> None:
    r = CliRunner().invoke(app, ["bot", "test", str(ROOT / "stories"), "--json"])
    out = json.loads(r.stdout[r.stdout.index("{") :])
    failed = [s for s in out["stories"] if not s["passed"]]
    assert not failed, failed
    assert out["passed"] >= 30 and r.exit_code == 0


def test_failing_story_is_reported(tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    f.write_text(
        "stories:\n  - name: wrong expectation\n    turns:\n"
        "      - user: 我想贷款\n        state: complaint.ask_category\n",
        encoding="utf-8",
    )
    r = CliRunner().invoke(app, ["bot", "test", str(f)])
    assert r.exit_code == 1
    assert "FAIL" in r.stdout and "product_enquiry.ask_type" in r.stdout


def test_bot_check_reports_line_and_reason(tmp_path: Path) -> None:
    good = ROOT / "flows" / "complaint.yaml"
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        good.read_text(encoding="utf-8").replace("next: open", "next: opne"), encoding="utf-8"
    )
    r = CliRunner().invoke(app, ["bot", "check", str(good), str(bad)])
    assert r.exit_code == 1
    assert "ok" in r.stdout and "bad.yaml:" in r.stdout and "unknown state 'opne'" in r.stdout


def test_bot_check_a_flow_set() -> None:
    r = CliRunner().invoke(app, ["bot", "check", str(ROOT / "flows")])
    assert r.exit_code == 0 and "flow set: 12 flows" in r.stdout
