"""What to do with a prediction: accept it, ask again, or hand the caller to a person.

A sans-I/O state machine per call. ``threshold`` is a calibrated confidence (see
``linear.py``), so "0.5" means the bot acts only when it is right at least half the
time. ``out_of_scope`` counts as a miss whatever its confidence.

State table (``misses`` = consecutive misses so far)::

    event                      misses before   action      misses after
    confident, in scope        any             accept      0
    low confidence / oos       0 .. max-1      reprompt    misses + 1
    low confidence / oos       max - 1         handoff     0   (the max-th miss)

With the default ``max_misses=2``: first miss → ask again, second miss → hand off.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from lendline.dialogue.nlu.api import IntentPrediction

DEFAULT_THRESHOLD = 0.5
DEFAULT_MAX_MISSES = 2
OUT_OF_SCOPE = "out_of_scope"


class GateAction(StrEnum):
    ACCEPT = "accept"
    REPROMPT = "reprompt"
    HANDOFF = "handoff"


@dataclass(frozen=True, slots=True)
class GateDecision:
    action: GateAction
    prediction: IntentPrediction
    misses: int  # consecutive misses after this turn


class ConfidenceGate:
    """Counts consecutive misses in one conversation; one instance per call."""

    def __init__(
        self, threshold: float = DEFAULT_THRESHOLD, max_misses: int = DEFAULT_MAX_MISSES
    ) -> None:
        if not 0.0 <= threshold <= 1.0:
            raise ValueError("threshold must be in [0, 1]")
        if max_misses < 1:
            raise ValueError("max_misses must be at least 1")
        self.threshold = threshold
        self.max_misses = max_misses
        self.misses = 0

    def decide(self, prediction: IntentPrediction) -> GateDecision:
        """Accept, re-prompt or hand off, and update the miss counter."""
        miss = prediction.confidence < self.threshold or prediction.intent == OUT_OF_SCOPE
        if not miss:
            self.misses = 0
            return GateDecision(GateAction.ACCEPT, prediction, 0)
        self.misses += 1
        if self.misses >= self.max_misses:
            self.misses = 0
            return GateDecision(GateAction.HANDOFF, prediction, self.max_misses)
        return GateDecision(GateAction.REPROMPT, prediction, self.misses)
