"""Natural-language understanding: intent classification and slot extraction.

The dialogue engine uses only what is exported here::

    from lendline.dialogue.nlu import load_classifier, extract_slots
    clf = load_classifier()               # "baseline" | "encoder" | a model directory
    pred = clf.predict("这个月手头有点紧")  # IntentPrediction(intent, confidence, ranking)
    slots = extract_slots("下周五还五千", today=date(2026, 11, 27))
"""

from lendline.dialogue.nlu.api import (
    INTENTS,
    SLOT_KEYS,
    IntentClassifier,
    IntentPrediction,
    SlotResult,
)
from lendline.dialogue.nlu.gate import ConfidenceGate, GateAction, GateDecision
from lendline.dialogue.nlu.registry import load_classifier
from lendline.dialogue.nlu.slots import extract_slots

__all__ = [
    "INTENTS",
    "SLOT_KEYS",
    "ConfidenceGate",
    "GateAction",
    "GateDecision",
    "IntentClassifier",
    "IntentPrediction",
    "SlotResult",
    "extract_slots",
    "load_classifier",
]
