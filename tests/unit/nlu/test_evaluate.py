from itertools import count

from lendline.dialogue.nlu.api import IntentPrediction
from lendline.dialogue.nlu.dataset import Example
from lendline.dialogue.nlu.evaluate import evaluate, expected_calibration_error


class KeywordModel:
    """A tiny working classifier: 'pay' → repay, anything else → other."""

    name = "keyword"
    labels = ("other", "repay")

    def predict(self, text: str) -> IntentPrediction:
        intent = "repay" if "pay" in text else "other"
        return IntentPrediction(intent, 0.9, ((intent, 0.9),))

    def predict_batch(self, texts: list[str]) -> list[IntentPrediction]:
        return [self.predict(t) for t in texts]


def test_report_counts_and_confusions() -> None:
    ticks = count()
    data = [
        Example("pay now", "repay"),
        Example("I will pay", "repay"),
        Example("hello", "other"),
        Example("settle my debt", "repay"),  # missed: no 'pay'
        Example("what?", "unknown_label"),
    ]
    report = evaluate(KeywordModel(), data, timer=lambda: next(ticks) / 1000.0)
    assert report.n == 5
    assert report.accuracy == 3 / 5
    assert ("repay", "other", 1) in report.confusions
    assert report.unknown_labels == ["unknown_label"]
    assert report.p50_ms == report.p99_ms == 1.0  # each call took one fake tick
    by_intent = {s.intent: s for s in report.per_intent}
    assert by_intent["repay"].recall == 2 / 3


def test_calibration_error() -> None:
    assert abs(expected_calibration_error([0.9, 0.9], [True, True]) - 0.1) < 1e-12
    assert expected_calibration_error([], []) == 0.0
    assert abs(expected_calibration_error([0.5, 0.5], [True, False])) < 1e-12
