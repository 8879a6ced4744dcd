"""Transcript analytics commands: which script phrases convert, which questions recur."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from lendline.analytics.transcripts import (
    Transcript,
    Utterance,
    frequent_questions,
    phrase_effectiveness,
)
from lendline.compliance.masking import mask_text
from lendline.errors import ValidationError

console = Console()


def load_jsonl(path: Path) -> list[Transcript]:
    """One conversation per line: {"id", "converted", "outcome", "turns": [{"speaker","text"}]}."""
    out: list[Transcript] = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            turns = tuple(Utterance(str(t["speaker"]), str(t["text"])) for t in d["turns"])
            out.append(
                Transcript(str(d["id"]), turns, bool(d["converted"]), str(d.get("outcome", "")))
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ValidationError(f"{path}:{lineno}: {exc!r}", field="transcripts") from None
    return out


def register(app: typer.Typer, bench: typer.Typer) -> None:
    analytics = typer.Typer(
        help="Analytics on transcripts (话术转化率, 高频问题).", no_args_is_help=True
    )
    app.add_typer(analytics, name="analytics")

    @analytics.command("phrases")
    def phrases(
        data: Path = typer.Option(..., exists=True, help="transcripts, JSON lines"),
        script: list[str] = typer.Option([], help="a script line to measure (repeatable)"),
        min_support: int = typer.Option(5, help="least conversations for a discovered phrase"),
        top: int = typer.Option(20),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Which script phrases convert: rate with vs without, lift, Wilson 95 % interval."""
        stats = phrase_effectiveness(load_jsonl(data), scripts=script, min_support=min_support)[
            :top
        ]
        if as_json:
            rows = [asdict(s) | {"lift": None if s.lift == float("inf") else s.lift} for s in stats]
            print(json.dumps(rows, ensure_ascii=False))
            return
        t = Table(title="话术转化 / script phrase conversion")
        for col in ("phrase", "calls", "conv. rate", "without", "lift", "95% CI"):
            t.add_column(col)
        for s in stats:
            t.add_row(
                mask_text(s.phrase) + (" *" if s.scripted else ""),
                str(s.conversations),
                f"{s.rate:.1%}",
                f"{s.rate_without:.1%}",
                "∞" if s.lift == float("inf") else f"{s.lift:.2f}",
                f"{s.ci_low:.1%}–{s.ci_high:.1%}",
            )
        console.print(t)

    @analytics.command("questions")
    def questions(
        data: Path = typer.Option(..., exists=True, help="transcripts, JSON lines"),
        threshold: float = typer.Option(0.5, min=0.0, max=1.0, help="cosine similarity to group"),
        top: int = typer.Option(20),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Which questions recur: callers' questions grouped by similarity."""
        clusters = frequent_questions(load_jsonl(data), threshold=threshold, top=top)
        if as_json:
            print(json.dumps([asdict(c) for c in clusters], ensure_ascii=False))
            return
        t = Table(title="高频问题 / frequent questions")
        t.add_column("count")
        t.add_column("question")
        t.add_column("examples")
        for c in clusters:
            t.add_row(
                str(c.count), mask_text(c.representative), mask_text(" | ".join(c.examples[1:3]))
            )
        console.print(t)
