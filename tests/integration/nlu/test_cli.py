"""The nlu commands end to end: classify on stdin, train and eval on files."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lendline.cli import app
from lendline.dialogue.nlu import registry

ROOT = Path(__file__).resolve().parents[3]
# ../shared beside the checkout (CI and worktrees), else the workplace's copy
BANKING77 = next(
    (
        p
        for p in (
            ROOT.parent / "shared/data/banking77/train.csv",
            Path("/work/shared/data/banking77/train.csv"),
        )
        if p.is_file()
    ),
    Path("/work/shared/data/banking77/train.csv"),
)
runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LENDLINE_DATA_DIR", str(tmp_path / "var"))
    registry._LOADED.clear()  # as in a fresh process: nothing loaded yet
    return tmp_path / "var"


def test_classify_writes_one_json_line_per_utterance(data_dir: Path) -> None:
    stdin = "利息太高了吧\n\n别再打了\n我想借二十万，下周五前放款\n身份证110105194912310021\n"
    result = runner.invoke(app, ["nlu", "classify", "--today", "2026-11-27"], input=stdin)
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    assert [x["text"] for x in lines] == [
        "利息太高了吧",
        "别再打了",
        "我想借二十万，下周五前放款",
        "身份证110105194912310021",
    ]
    assert lines[0]["intent"] == "complaint"
    assert lines[1]["intent"] == "stop_calling"
    assert lines[2]["slots"] == {"amount": 200000, "date": "2026-12-04"}
    assert lines[3]["slots"] == {}
    assert lines[3]["slot_errors"] == {"id_number": "checksum"}
    assert all(0.0 <= x["confidence"] <= 1.0 for x in lines)
    assert any((data_dir / "nlu").iterdir())  # the trained default was cached


def test_classify_rejects_an_unknown_model(data_dir: Path) -> None:
    result = runner.invoke(app, ["nlu", "classify", "--model", "no-such-model"], input="hi\n")
    assert result.exit_code == 2
    assert "config_error" in result.output


def _banking_subset(path: Path, labels: int = 6, per_label: int = 30) -> tuple[Path, Path]:
    """A small bounded subset of BANKING77 train.csv, split into train/test CSVs."""
    by_label: dict[str, list[str]] = defaultdict(list)
    with BANKING77.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            by_label[row["category"]].append(row["text"])
    chosen = sorted(by_label)[:labels]
    train, test = path / "train.csv", path / "test.csv"
    for target, rows in ((train, slice(0, per_label)), (test, slice(per_label, per_label + 10))):
        with target.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["text", "category"])
            for label in chosen:
                writer.writerows([t, label] for t in by_label[label][rows])
    return train, test


@pytest.mark.skipif(not BANKING77.is_file(), reason="BANKING77 not in ../shared")
def test_train_then_eval_on_a_banking77_subset(tmp_path: Path) -> None:
    train, test = _banking_subset(tmp_path)
    model = tmp_path / "model"
    result = runner.invoke(
        app,
        ["nlu", "train", "--data", str(train), "--out", str(model), "--model-type", "baseline"],
    )
    assert result.exit_code == 0, result.output
    meta = json.loads((model / "meta.json").read_text())
    assert len(meta["labels"]) == 6 and "activate_my_card" in meta["labels"]
    result = runner.invoke(
        app, ["nlu", "eval", "--model", str(model), "--data", str(test), "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["n"] == 60
    assert report["accuracy"] > 0.6
    assert {s["intent"] for s in report["per_intent"]} <= set(meta["labels"])
    assert report["p99_ms"] >= report["p50_ms"] > 0
    table = runner.invoke(app, ["nlu", "eval", "--model", str(model), "--data", str(test)])
    assert "macro-F1" in table.stdout and "p99" in table.stdout


def test_train_and_eval_on_tsv_with_own_labels(tmp_path: Path) -> None:
    data = tmp_path / "own.tsv"
    rows = [("ask_branch", f"where is your branch number {i}") for i in range(8)]
    rows += [("ask_hours", f"what time do you open on day {i}") for i in range(8)]
    data.write_text("".join(f"{a}\t{b}\n" for a, b in rows), encoding="utf-8")
    model = tmp_path / "m"
    result = runner.invoke(
        app, ["nlu", "train", "--data", str(data), "--out", str(model), "--model-type", "baseline"]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        app, ["nlu", "eval", "--model", str(model), "--data", str(data), "--json"]
    )
    assert json.loads(result.stdout)["accuracy"] == 1.0


@pytest.mark.parametrize(
    ("content", "suffix"),
    [("text,label\nhello,x\n", ".csv"), ("no tab here\n", ".tsv"), ("", ".tsv")],
)
def test_bad_training_data_is_a_clear_error(tmp_path: Path, content: str, suffix: str) -> None:
    data = tmp_path / f"bad{suffix}"
    data.write_text(content, encoding="utf-8")
    result = runner.invoke(app, ["nlu", "train", "--data", str(data), "--out", str(tmp_path / "m")])
    assert result.exit_code == 2
    assert "invalid_training_data" in result.output
    assert not (tmp_path / "m").exists()


def test_eval_of_a_directory_that_is_no_model(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["nlu", "eval", "--model", str(tmp_path), "--data", str(ROOT / "data/nlu/en/heldout.tsv")],
    )
    assert result.exit_code == 2
    assert "config_error" in result.output
