"""Saving and loading trained intent models: a directory with ``meta.json`` + weights.

``meta.json`` records the model type, label set, lendline version and the training data
fingerprint, so ``nlu eval --model M`` can refuse what it cannot read with a clear error
instead of a stack trace. Weights are ``model.joblib`` (linear models) or ``model.pt``
(the fine-tuned encoder). Only load model directories you trust: joblib is pickle.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import joblib

from lendline.dialogue.nlu.api import IntentClassifier
from lendline.errors import ConfigError

FORMAT_VERSION = 1
META_FILE = "meta.json"


def save_model(model: Any, out_dir: Path, **extra: Any) -> Path:
    """Write ``model`` (a ``LinearIntentModel`` or ``FinetunedIntentModel``) to ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    meta = {
        "format": FORMAT_VERSION,
        "model_type": model.model_type,
        "labels": list(model.labels),
        **extra,
    }
    if model.model_type == "finetune":
        model.save(out_dir)
    else:
        joblib.dump(model, out_dir / "model.joblib", compress=3)
    (out_dir / META_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n")
    return out_dir


def read_meta(model_dir: Path) -> dict[str, Any]:
    path = model_dir / META_FILE
    if not path.is_file():
        raise ConfigError(f"{model_dir}: not a lendline NLU model (no {META_FILE})")
    meta: dict[str, Any] = json.loads(path.read_text())
    if meta.get("format") != FORMAT_VERSION:
        raise ConfigError(f"{model_dir}: model format {meta.get('format')} is not supported")
    return meta


def load_model(model_dir: Path | str) -> IntentClassifier:
    """The classifier saved in ``model_dir`` by ``save_model``."""
    path = Path(model_dir)
    meta = read_meta(path)
    if meta["model_type"] == "finetune":
        from lendline.dialogue.nlu.finetune import FinetunedIntentModel

        return FinetunedIntentModel.load(path)
    model: IntentClassifier = joblib.load(path / "model.joblib")
    return model
