"""What the engine needs from NLU: one call giving the intent, its confidence and the slots.

``NluUnderstanding`` adapts the nlu feature's classifier and slot extractor
(``lendline.dialogue.nlu``); the engine only sees the ``Understanding`` protocol.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from lendline.dialogue.nlu.api import IntentClassifier, SlotResult


@dataclass(frozen=True, slots=True)
class Understood:
    intent: str
    confidence: float  # calibrated, in [0, 1]
    slots: dict[str, Any] = field(default_factory=dict)
    slot_errors: dict[str, str] = field(default_factory=dict)
    ranking: tuple[tuple[str, float], ...] = ()


class Understanding(Protocol):
    def understand(self, text: str, *, today: date, lang: str) -> Understood: ...


class SlotExtractor(Protocol):
    def __call__(self, text: str, *, today: date, lang: str = "zh") -> SlotResult: ...


class NluUnderstanding:
    """Intent from an ``IntentClassifier``, slots from ``extract_slots``."""

    def __init__(self, classifier: IntentClassifier, extract: SlotExtractor) -> None:
        self.classifier = classifier
        self.extract = extract

    def understand(self, text: str, *, today: date, lang: str) -> Understood:
        p = self.classifier.predict(text)
        s = self.extract(text, today=today, lang="en" if lang.startswith("en") else "zh")
        return Understood(
            p.intent, float(p.confidence), dict(s.values), dict(s.errors), tuple(p.ranking)
        )


def default_understanding(spec: str = "encoder") -> Understanding:
    """The nlu feature's default model (``settings.nlu_model``) and slot extractor."""
    from lendline.dialogue import nlu

    load = getattr(nlu, "load_classifier", None)
    extract = getattr(nlu, "extract_slots", None)
    if load is None or extract is None:
        from lendline.errors import ConfigError

        raise ConfigError("the NLU package provides no load_classifier/extract_slots yet")
    return NluUnderstanding(load(spec), extract)
