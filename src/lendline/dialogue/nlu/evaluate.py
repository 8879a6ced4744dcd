"""Scoring an intent model on labelled data: accuracy, macro-F1, per-intent table,
confusion pairs, calibration error and single-utterance latency.

Latency is wall time of ``predict(text)`` for one utterance at a time, the way the
dialogue engine calls it during a call (p50/p99 in milliseconds). The caller hands in the
timer (``time.perf_counter`` at the edge): this core module reads no clock itself.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

from lendline.dialogue.nlu.api import IntentClassifier, IntentPrediction
from lendline.dialogue.nlu.dataset import Example

CALIBRATION_BINS = 10


@dataclass(frozen=True, slots=True)
class IntentScore:
    intent: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(slots=True)
class EvalReport:
    n: int
    accuracy: float
    macro_f1: float
    ece: float  # expected calibration error over CALIBRATION_BINS confidence bins
    p50_ms: float
    p99_ms: float
    # CPU time of the calling thread per call: what the call costs on an idle core, even
    # when the machine is shared (0 when no CPU timer was given)
    cpu_p50_ms: float = 0.0
    cpu_p99_ms: float = 0.0
    per_intent: list[IntentScore] = field(default_factory=list)
    confusions: list[tuple[str, str, int]] = field(default_factory=list)  # gold, predicted, n
    unknown_labels: list[str] = field(default_factory=list)  # in the data, not in the model

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def expected_calibration_error(
    confidences: Sequence[float], correct: Sequence[bool], bins: int = CALIBRATION_BINS
) -> float:
    """Mean |accuracy − confidence| over equal-width confidence bins, weighted by count."""
    conf = np.asarray(confidences, dtype=np.float64)
    ok = np.asarray(correct, dtype=np.float64)
    if conf.size == 0:
        return 0.0
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.digitize(conf, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        mask = idx == b
        if mask.any():
            total += mask.sum() * abs(ok[mask].mean() - conf[mask].mean())
    return float(total / conf.size)


Timer = Callable[[], float]  # seconds, monotonic


def measure_latency(
    model: IntentClassifier,
    texts: Sequence[str],
    timer: Timer,
    limit: int | None = None,
    cpu_timer: Timer | None = None,
    cpu_ms: list[float] | None = None,
) -> tuple[list[IntentPrediction], list[float]]:
    """Predictions one utterance at a time, with each call's wall time in ms.

    With ``cpu_timer`` (e.g. ``time.thread_time``) each call's CPU time in ms is
    appended to ``cpu_ms`` as well.
    """
    preds: list[IntentPrediction] = []
    times_ms: list[float] = []
    for text in texts if limit is None else texts[:limit]:
        cpu_start = cpu_timer() if cpu_timer is not None else 0.0
        start = timer()
        preds.append(model.predict(text))
        times_ms.append((timer() - start) * 1000.0)
        if cpu_timer is not None and cpu_ms is not None:
            cpu_ms.append((cpu_timer() - cpu_start) * 1000.0)
    return preds, times_ms


def evaluate(
    model: IntentClassifier,
    examples: Sequence[Example],
    *,
    timer: Timer,
    cpu_timer: Timer | None = None,
    latency_samples: int | None = None,
    top_confusions: int = 15,
) -> EvalReport:
    """Score ``model`` on ``examples``; latency from up to ``latency_samples`` single calls."""
    texts = [e.text for e in examples]
    gold = [e.label for e in examples]
    cpu_ms: list[float] = []
    if latency_samples is None or latency_samples >= len(texts):
        preds, times_ms = measure_latency(model, texts, timer, None, cpu_timer, cpu_ms)
    else:
        _, times_ms = measure_latency(model, texts, timer, latency_samples, cpu_timer, cpu_ms)
        preds = model.predict_batch(texts)
    predicted = [p.intent for p in preds]
    labels = sorted(set(gold) | set(predicted))
    prec, rec, f1, support = precision_recall_fscore_support(
        gold, predicted, labels=labels, zero_division=0
    )
    per_intent = [
        IntentScore(lab, float(p), float(r), float(f), int(s))
        for lab, p, r, f, s in zip(labels, prec, rec, f1, support, strict=True)
        if s > 0
    ]
    pairs = Counter((g, p) for g, p in zip(gold, predicted, strict=True) if g != p)
    known = set(getattr(model, "labels", ()) or ())
    return EvalReport(
        n=len(examples),
        accuracy=float(accuracy_score(gold, predicted)),
        macro_f1=float(f1_score(gold, predicted, labels=sorted(set(gold)), average="macro")),
        ece=expected_calibration_error(
            [p.confidence for p in preds], [g == p for g, p in zip(gold, predicted, strict=True)]
        ),
        p50_ms=float(np.percentile(times_ms, 50)) if times_ms else 0.0,
        p99_ms=float(np.percentile(times_ms, 99)) if times_ms else 0.0,
        cpu_p50_ms=float(np.percentile(cpu_ms, 50)) if cpu_ms else 0.0,
        cpu_p99_ms=float(np.percentile(cpu_ms, 99)) if cpu_ms else 0.0,
        per_intent=per_intent,
        confusions=[(g, p, n) for (g, p), n in pairs.most_common(top_confusions)],
        unknown_labels=sorted(set(gold) - known) if known else [],
    )
