"""The packaged encoders load offline and behave; kept to a handful of utterances."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from lendline.dialogue.nlu.features import EMBEDDING_DIM, MiniLMEmbedder, SentenceEmbedder
from lendline.dialogue.nlu.finetune import FinetunedIntentModel
from lendline.dialogue.nlu.persist import load_model, save_model


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


@pytest.mark.parametrize("cls", [SentenceEmbedder, MiniLMEmbedder])
def test_embeddings_are_unit_vectors_scaled_by_weight(cls: type) -> None:
    emb = cls(weight=2.0)
    x = emb.fit_transform(["I want to repay early", "pay off my loan ahead of time", "hi"])
    assert x.shape == (3, EMBEDDING_DIM)
    assert np.allclose(np.linalg.norm(x, axis=1), 2.0, atol=1e-2)
    # paraphrases are closer to each other than to a greeting
    assert x[0] @ x[1] > x[0] @ x[2]
    texts = ["I want to repay early", "pay off my loan ahead of time", "hi"]
    clone = pickle.loads(pickle.dumps(emb))  # the engine is not pickled, only reloaded
    assert np.allclose(clone.transform(texts), x, atol=1e-4)
    # alone or among others, an utterance gets the same vector (training = serving)
    assert np.allclose(clone.transform(["hi"])[0], x[2], atol=1e-4)


def test_e5_understands_chinese_paraphrase() -> None:
    x = SentenceEmbedder().transform(["我想提前还款", "能不能一次性还清", "今天天气怎么样"])
    assert x[0] @ x[1] > x[0] @ x[2]


def test_finetune_trains_saves_and_loads(tmp_path: Path) -> None:
    texts = [f"close my account please {i}" for i in range(8)]
    texts += [f"what is the interest rate {i}" for i in range(8)]
    labels = ["close"] * 8 + ["rate"] * 8
    steps: list[int] = []
    model = FinetunedIntentModel("tiny", epochs=2, batch_size=8, lr=2e-4)
    model.fit(texts, labels, progress=lambda stage, done, total: steps.append(done))
    assert steps == [1, 2, 3, 4]
    assert model.labels == ("close", "rate")
    save_model(model, tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    a, b = model.predict("interest rate?"), loaded.predict("interest rate?")
    assert a.intent == b.intent and abs(a.confidence - b.confidence) < 1e-5


def test_finetune_stops_at_its_time_budget() -> None:
    ticks = iter(range(1000))
    model = FinetunedIntentModel(
        "tiny", epochs=5, batch_size=4, time_budget_s=2.5, clock=lambda: float(next(ticks))
    )
    model.fit(["a b", "c d", "e f", "g h"] * 2, ["x", "y"] * 4)
    assert model.stopped_early
