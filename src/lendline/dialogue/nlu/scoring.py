"""SVM margins of one utterance without scikit-learn's per-call overhead.

During a call the dialogue asks for one utterance at a time. Through scikit-learn that
costs several milliseconds of input validation, a ``FeatureUnion`` that goes through
joblib, and sparse-matrix assembly, around well under a millisecond of real work (the
TF-IDF of a dozen words, a dot product with the SVM weights). ``UtteranceScorer`` reads
the fitted vectorizers and weights once and computes the same margins directly: the
n-grams' TF-IDF values (sublinear TF × IDF, L2-normalised, as ``TfidfVectorizer``
does), the dense embedding, and ``W[active] · values + b``. The unit tests check that
it agrees with ``decision_function``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion


@dataclass(frozen=True, slots=True)
class _Tfidf:
    analyse: Callable[[str], list[str]]
    vocabulary: dict[str, int]
    idf: NDArray[np.float64]
    sublinear: bool
    offset: int


@dataclass(frozen=True, slots=True)
class _Dense:
    transformer: Any
    offset: int
    width: int


def _blocks(features: Any, offset: int) -> tuple[list[_Tfidf | _Dense], int] | None:
    """The feature blocks in column order, or None when a part is not one we know."""
    if isinstance(features, TfidfVectorizer):
        if features.norm != "l2" or not features.use_idf or features.binary:
            return None
        block = _Tfidf(
            features.build_analyzer(),
            dict(features.vocabulary_),
            np.asarray(features.idf_, dtype=np.float64),
            bool(features.sublinear_tf),
            offset,
        )
        return [block], offset + len(features.vocabulary_)
    if isinstance(features, FeatureUnion):
        if features.transformer_weights:
            return None
        out: list[_Tfidf | _Dense] = []
        for _, part in features.transformer_list:
            found = _blocks(part, offset)
            if found is None:
                return None
            out.extend(found[0])
            offset = found[1]
        return out, offset
    width = getattr(features, "EMBEDDING_WIDTH", None)
    if width is None:
        return None
    return [_Dense(features, offset, int(width))], offset + int(width)


class UtteranceScorer:
    """Margins ``(1, n_classes)`` of a fitted features + linear model for one text."""

    def __init__(self, blocks: list[_Tfidf | _Dense], coef: Any, intercept: Any) -> None:
        self._blocks = blocks
        self._weights = np.ascontiguousarray(np.asarray(coef, dtype=np.float64).T)
        self._bias = np.asarray(intercept, dtype=np.float64)

    @classmethod
    def build(cls, features: Any, clf: Any) -> UtteranceScorer | None:
        """A scorer for ``features`` + ``clf``, or None if the features are not supported."""
        found = _blocks(features, 0)
        if found is None or found[1] != clf.coef_.shape[1]:
            return None
        return cls(found[0], clf.coef_, clf.intercept_)

    def score(self, text: str) -> tuple[NDArray[np.float64], NDArray[np.float64] | None]:
        """Margins ``(1, n_classes)`` and the last dense block's vector (None if none)."""
        scores = self._bias.copy()
        dense = None
        for block in self._blocks:
            if isinstance(block, _Dense):
                dense = np.asarray(block.transformer.transform([text])[0], dtype=np.float64)
                rows = self._weights[block.offset : block.offset + block.width]
                scores += dense @ rows
                continue
            counts = Counter(
                block.vocabulary[g] for g in block.analyse(text) if g in block.vocabulary
            )
            if not counts:
                continue
            index = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
            if block.sublinear:
                tf = np.log(tf) + 1.0
            values = tf * block.idf[index]
            values /= math.sqrt(float(values @ values))
            scores += values @ self._weights[index + block.offset]
        return scores.reshape(1, -1), dense
