"""``lendline nlu classify|train|eval`` and ``lendline bench nlu``.

``classify`` reads one utterance per line on stdin and writes one JSON line each:
``{"text", "intent", "confidence", "slots", "slot_errors"}``. Amounts are JSON numbers
when whole yuan, strings (exact decimals) otherwise.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from lendline.errors import LendlineError

err = Console(stderr=True)
out = Console()

nlu_app = typer.Typer(help="Intent classification and slot extraction (NLU).", no_args_is_help=True)


def _fail(exc: LendlineError) -> None:
    err.print(f"[red]error[/] {exc.code}: {exc.detail or exc}")
    raise typer.Exit(2)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _today(value: str | None) -> date:
    if value:
        return date.fromisoformat(value)
    from lendline.settings import load_settings

    return datetime.now(ZoneInfo(load_settings().timezone)).date()


@nlu_app.command()
def classify(
    model: str = typer.Option(
        "", help="baseline | encoder | a model directory (default: settings)"
    ),
    today: str = typer.Option(
        None, help="ISO date that relative dates count from (default: today)"
    ),
) -> None:
    """Classify stdin, one utterance per line, into JSON lines with intent and slots."""
    from lendline.dialogue.nlu import extract_slots, load_classifier
    from lendline.settings import load_settings

    try:
        clf = load_classifier(model or load_settings().nlu_model)
        anchor = _today(today)
    except LendlineError as exc:
        _fail(exc)
        return
    except ValueError as exc:
        err.print(f"[red]error[/] invalid_input: today: {exc}")
        raise typer.Exit(2) from None
    for line in sys.stdin:
        text = line.strip()
        if not text:
            continue
        pred = clf.predict(text)
        slots = extract_slots(text, today=anchor)
        record = {
            "text": text,
            "intent": pred.intent,
            "confidence": round(pred.confidence, 4),
            "slots": slots.values,
            "slot_errors": slots.errors,
        }
        sys.stdout.write(json.dumps(record, ensure_ascii=False, default=_json_default) + "\n")
        sys.stdout.flush()


@nlu_app.command()
def train(
    data: list[Path] = typer.Option(..., help="CSV (text,category) or TSV (intent<TAB>text)"),
    out_dir: Path = typer.Option(..., "--out", help="directory to write the model to"),
    model_type: str = typer.Option(
        None, help="baseline | encoder | minilm | finetune (default: minilm)"
    ),
    seed: int = typer.Option(0, help="random seed (training is deterministic per seed)"),
) -> None:
    """Train an intent model on any label set and save it for `nlu eval` / `nlu classify`."""
    from lendline.dialogue.nlu.dataset import data_fingerprint, load_many
    from lendline.dialogue.nlu.persist import save_model
    from lendline.dialogue.nlu.training import DEFAULT_MODEL_TYPE, train_model

    chosen = model_type or DEFAULT_MODEL_TYPE
    try:
        examples = load_many(data)
    except LendlineError as exc:
        _fail(exc)
        return
    n_labels = len({e.label for e in examples})
    err.print(f"training [bold]{chosen}[/] on {len(examples)} utterances, {n_labels} intents")
    started = time.monotonic()
    columns = (
        TextColumn("{task.description:>10}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err) as bar:
        tasks: dict[str, Any] = {}

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        try:
            model = train_model(
                examples,
                chosen,
                name=out_dir.name,
                progress=report,
                seed=seed,
                clock=time.monotonic,
            )
        except LendlineError as exc:
            _fail(exc)
            return
    save_model(model, out_dir, data=[str(p) for p in data], data_sha=data_fingerprint(data))
    err.print(f"saved {out_dir} in {time.monotonic() - started:.0f} s")


@nlu_app.command()
def split(
    data: Path = typer.Option(..., help="CSV (text,category) or TSV (intent<TAB>text)"),
    out_dir: Path = typer.Option(..., "--out", help="directory for train.csv and dev.csv"),
    dev_fraction: float = typer.Option(0.1, help="share of each intent held out for dev"),
    seed: int = typer.Option(0, help="random seed of the stratified split"),
) -> None:
    """Split labelled data into train.csv and dev.csv (stratified, deterministic)."""
    import csv

    from lendline.dialogue.nlu.dataset import load_examples, stratified_split

    try:
        train_part, dev_part = stratified_split(load_examples(data), dev_fraction, seed)
    except LendlineError as exc:
        _fail(exc)
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, part in (("train.csv", train_part), ("dev.csv", dev_part)):
        with (out_dir / name).open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["text", "category"])
            writer.writerows([e.text, e.label] for e in part)
    err.print(f"{out_dir}: train.csv {len(train_part)}, dev.csv {len(dev_part)}")


@nlu_app.command("eval")
def eval_cmd(
    model: str = typer.Option(..., help="a model directory, or baseline | encoder"),
    data: list[Path] = typer.Option(..., help="CSV (text,category) or TSV (intent<TAB>text)"),
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
    latency_samples: int = typer.Option(0, help="time only N utterances (0 = all)"),
) -> None:
    """Accuracy, macro-F1, per-intent table, confusion pairs and p50/p99 latency."""
    from lendline.dialogue.nlu import load_classifier
    from lendline.dialogue.nlu.dataset import load_many
    from lendline.dialogue.nlu.evaluate import evaluate

    try:
        clf = load_classifier(model)
        examples = load_many(data)
    except LendlineError as exc:
        _fail(exc)
        return
    report = evaluate(
        clf,
        examples,
        timer=time.perf_counter,
        cpu_timer=time.thread_time,
        latency_samples=latency_samples or None,
    )
    if as_json:
        out.print_json(json.dumps(report.to_dict(), ensure_ascii=False))
        return
    table = Table("intent", "precision", "recall", "F1", "n", title=f"{model} on {len(examples)}")
    for s in report.per_intent:
        table.add_row(
            s.intent, f"{s.precision:.3f}", f"{s.recall:.3f}", f"{s.f1:.3f}", str(s.support)
        )
    out.print(table)
    if report.confusions:
        pairs = Table("gold", "predicted", "n", title="most frequent confusions")
        for gold, pred, n in report.confusions:
            pairs.add_row(gold, pred, str(n))
        out.print(pairs)
    if report.unknown_labels:
        out.print(f"[yellow]labels the model does not know[/]: {', '.join(report.unknown_labels)}")
    out.print(
        f"accuracy {report.accuracy:.4f}  macro-F1 {report.macro_f1:.4f}  ECE {report.ece:.4f}  "
        f"latency p50 {report.p50_ms:.2f} ms  p99 {report.p99_ms:.2f} ms  "
        f"(CPU p50 {report.cpu_p50_ms:.2f} ms  p99 {report.cpu_p99_ms:.2f} ms)  (n={report.n})"
    )


def register(app: typer.Typer, bench: typer.Typer) -> None:
    """Add ``lendline nlu …`` to ``app`` and ``lendline bench nlu`` to ``bench``."""
    app.add_typer(nlu_app, name="nlu")
    bench.command("nlu")(bench_nlu)


def _rss_mib() -> float:
    """Resident set size of this process in MiB (Linux /proc; 0 elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return 0.0


def bench_nlu(
    models: list[str] = typer.Option(["baseline", "encoder"], "--model", help="models to time"),
    as_json: bool = typer.Option(False, "--json", help="print figures as JSON"),
    rounds: int = typer.Option(3, help="passes over the held-out utterances"),
) -> None:
    """Utterances per second, p50/p99 latency and memory of each intent model (one core).

    Wall-clock figures suffer when the machine is shared; ``cpu_*`` (CPU time of the
    calling thread per call) is what each call costs on an idle core.
    """
    import numpy as np

    from lendline.dialogue.nlu import load_classifier
    from lendline.dialogue.nlu.dataset import builtin_files, load_many
    from lendline.dialogue.nlu.evaluate import measure_latency

    texts = [e.text for lang in ("zh", "en") for e in load_many(builtin_files(lang, "heldout"))]
    results = []
    for spec in models:
        before = _rss_mib()
        started = time.perf_counter()
        clf = load_classifier(spec)
        clf.predict_batch(texts[:8])  # warm caches (jieba dictionary, encoder)
        load_s = time.perf_counter() - started
        times: list[float] = []
        cpu: list[float] = []
        for _ in range(rounds):
            times.extend(
                measure_latency(clf, texts, time.perf_counter, None, time.thread_time, cpu)[1]
            )
        batch_start = time.perf_counter()
        clf.predict_batch(texts)
        batch_s = time.perf_counter() - batch_start
        results.append(
            {
                "model": spec,
                "utterances": len(times),
                "p50_ms": round(float(np.percentile(times, 50)), 3),
                "p99_ms": round(float(np.percentile(times, 99)), 3),
                "cpu_p50_ms": round(float(np.percentile(cpu, 50)), 3),
                "cpu_p99_ms": round(float(np.percentile(cpu, 99)), 3),
                "single_per_s": round(1000.0 * len(times) / sum(times), 1),
                "batch_per_s": round(len(texts) / batch_s, 1),
                "load_s": round(load_s, 2),
                "rss_added_mib": round(_rss_mib() - before, 1),
            }
        )
    if as_json:
        out.print_json(json.dumps({"bench": "nlu", "results": results, "rss_mib": _rss_mib()}))
        return
    table = Table(*results[0].keys(), title="lendline bench nlu (one utterance per call)")
    for row in results:
        table.add_row(*(str(v) for v in row.values()))
    out.print(table)
