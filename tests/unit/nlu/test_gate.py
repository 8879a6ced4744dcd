import pytest

from lendline.dialogue.nlu import ConfidenceGate, GateAction, IntentPrediction


def _p(intent: str, confidence: float) -> IntentPrediction:
    return IntentPrediction(intent, confidence, ((intent, confidence),))


def test_confident_prediction_is_accepted() -> None:
    gate = ConfidenceGate(threshold=0.5)
    assert gate.decide(_p("apply_loan", 0.9)).action is GateAction.ACCEPT


def test_ask_again_then_hand_off_after_two_misses() -> None:
    gate = ConfidenceGate(threshold=0.5)
    first = gate.decide(_p("apply_loan", 0.3))
    second = gate.decide(_p("complaint", 0.2))
    assert (first.action, first.misses) == (GateAction.REPROMPT, 1)
    assert (second.action, second.misses) == (GateAction.HANDOFF, 2)
    assert gate.misses == 0  # a new round after the hand-off


def test_a_good_turn_resets_the_count() -> None:
    gate = ConfidenceGate(threshold=0.5)
    gate.decide(_p("apply_loan", 0.3))
    gate.decide(_p("apply_loan", 0.8))
    assert gate.decide(_p("apply_loan", 0.3)).action is GateAction.REPROMPT


def test_out_of_scope_is_a_miss_even_when_confident() -> None:
    gate = ConfidenceGate(threshold=0.5)
    assert gate.decide(_p("out_of_scope", 0.99)).action is GateAction.REPROMPT


@pytest.mark.parametrize(("threshold", "misses"), [(-0.1, 2), (1.1, 2), (0.5, 0)])
def test_bad_settings(threshold: float, misses: int) -> None:
    with pytest.raises(ValueError):
        ConfidenceGate(threshold=threshold, max_misses=misses)
