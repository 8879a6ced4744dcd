"""The single-utterance fast path and the neighbour vote, on a few made-up utterances."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lendline.dialogue.nlu.linear import LinearIntentModel
from lendline.dialogue.nlu.neighbours import NeighbourVote, choose_weight
from lendline.dialogue.nlu.persist import load_model, save_model
from lendline.dialogue.nlu.scoring import UtteranceScorer

TEXTS = {
    "card_lost": ["I lost my card", "my card is missing", "cannot find my card anywhere"],
    "rate": ["what is the exchange rate", "how much is the euro rate today", "rates for dollars"],
    "refund": ["I want a refund", "give me my money back", "refund that payment please"],
}
PROBES = ["where is my card", "euro rate?", "money back please", "???", "card card card rate"]


def _data() -> tuple[list[str], list[str]]:
    texts = [t for ts in TEXTS.values() for t in ts]
    labels = [label for label, ts in TEXTS.items() for _ in ts]
    return texts, labels


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


@pytest.mark.parametrize("model_type", ["baseline", "minilm"])
def test_one_utterance_scores_as_the_batch_path_does(model_type: str, tmp_path: Path) -> None:
    texts, labels = _data()
    model = LinearIntentModel("tiny", model_type).fit(texts, labels)
    assert UtteranceScorer.build(model.features, model.clf) is not None
    if model_type == "minilm":  # blend in the vote even where three folds did not want it
        bank = model._embeddings(model.features.transform(texts))
        assert bank is not None
        y = np.array([model.labels.index(label) for label in labels])
        model.neighbours, model.neighbour_weight = NeighbourVote(bank, y, 3), 0.5
    batch = model.probabilities(PROBES)
    one_by_one = np.vstack([model.probabilities([t]) for t in PROBES])
    assert np.allclose(batch, one_by_one, atol=1e-5)
    assert np.allclose(batch.sum(axis=1), 1.0)
    save_model(model, tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert [loaded.predict(t) for t in PROBES] == [model.predict(t) for t in PROBES]


def test_binary_label_sets_score_one_utterance() -> None:
    texts = ["yes", "sure", "of course", "no", "nope", "not at all"]
    model = LinearIntentModel("yn", "baseline").fit(texts, ["yes"] * 3 + ["no"] * 3)
    assert model.predict("sure").intent == "yes"
    assert model.predict("nope").intent == "no"
    assert np.allclose(model.probabilities(["sure"]), model.probabilities(["sure", "x"])[:1])


def test_neighbour_vote_follows_the_nearest_examples() -> None:
    bank = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    vote = NeighbourVote(bank, np.array([0, 0, 1, 1]), n_classes=3)
    probs = vote.probabilities(np.array([[1.0, 0.05], [0.05, 1.0]]))
    assert probs.shape == (2, 3)
    assert probs[0].argmax() == 0 and probs[1].argmax() == 1
    assert np.allclose(probs.sum(axis=1), 1.0) and probs[:, 2].max() == 0.0


def test_blend_weight_is_zero_when_the_vote_only_misleads() -> None:
    y = np.array([0, 1, 0, 1])
    svm = np.array([[0.8, 0.2], [0.3, 0.7], [0.7, 0.3], [0.4, 0.6]])
    wrong = 1.0 - np.eye(2)[y]
    assert choose_weight(svm, wrong, y) == 0.0
    assert choose_weight(svm, np.eye(2)[y], y) > 0.0


def test_slow_feature_extraction_skips_calibration_but_still_predicts() -> None:
    ticks = iter(range(0, 100_000, 600))  # every clock reading is ten minutes later
    texts, labels = _data()
    model = LinearIntentModel("late", "baseline").fit(
        texts, labels, clock=lambda: float(next(ticks)), time_budget_s=1050.0
    )
    assert not model.calibrated and model.temperature == 1.0 and model.neighbours is None
    assert model.predict("I lost my card").intent == "card_lost"
    on_time = LinearIntentModel("on time", "baseline").fit(texts, labels, clock=lambda: 0.0)
    assert on_time.calibrated and on_time.temperature != 1.0
