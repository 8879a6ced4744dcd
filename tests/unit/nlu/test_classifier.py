"""The 20-intent baseline trained on the team's data (a few seconds, once per module)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lendline.dialogue.nlu import INTENTS, IntentClassifier, load_classifier, registry
from lendline.dialogue.nlu.dataset import Example, builtin_files, load_many
from lendline.dialogue.nlu.linear import LinearIntentModel
from lendline.dialogue.nlu.persist import load_model, save_model
from lendline.dialogue.nlu.text import normalise
from lendline.errors import ConfigError


@pytest.fixture(scope="module")
def baseline() -> LinearIntentModel:
    examples = load_many(builtin_files("zh") + builtin_files("en"))
    return LinearIntentModel("test", "baseline").fit(
        [e.text for e in examples], [e.label for e in examples]
    )


def test_data_covers_the_fixed_taxonomy() -> None:
    for lang, minimum in (("zh", 60), ("en", 20)):
        train = load_many(builtin_files(lang, "train"))
        counts = {i: sum(e.label == i for e in train) for i in INTENTS}
        assert min(counts.values()) >= minimum, (lang, counts)
        assert {e.label for e in train} == set(INTENTS)
        heldout = load_many(builtin_files(lang, "heldout"))
        assert not {e.text for e in heldout} & {e.text for e in train}
        # the independent set, written without seeing the training files, shares no
        # utterance with them even after the model's own normalisation
        fresh = load_many(builtin_files(lang, "eval_fresh"))
        assert {e.label for e in fresh} == set(INTENTS)
        seen = {normalise(e.text) for e in train}
        assert not [e.text for e in fresh if normalise(e.text) in seen]


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("利息太高了吧", "complaint"),
        ("这个月手头有点紧", "unable_to_pay"),
        ("别再打了", "stop_calling"),
        ("转人工", "human_agent"),
        ("我下周五还", "promise_to_pay"),
        ("I want to pay off my loan early", "early_repayment"),
        ("我想代款二十万", "apply_loan"),  # ASR homophone of 贷款
        ("提前换款要手续费吗", "early_repayment"),  # 换款 for 还款
    ],
)
def test_implicit_and_explicit_intents(baseline: LinearIntentModel, text: str, intent: str) -> None:
    assert baseline.predict(text).intent == intent


def test_heldout_accuracy_floor(baseline: LinearIntentModel) -> None:
    heldout = load_many(builtin_files("zh", "heldout"))
    preds = baseline.predict_batch([e.text for e in heldout])
    accuracy = sum(p.intent == e.label for p, e in zip(preds, heldout, strict=True)) / len(heldout)
    assert accuracy >= 0.75


def test_prediction_shape(baseline: LinearIntentModel) -> None:
    pred = baseline.predict("我想贷款二十万")
    assert pred.ranking[0] == (pred.intent, pred.confidence)
    assert len(pred.ranking) == 5
    scores = [s for _, s in pred.ranking]
    assert scores == sorted(scores, reverse=True)
    assert 0.0 < pred.confidence <= 1.0
    assert 0.01 <= baseline.temperature <= 20.0
    assert baseline.predict_batch([]) == []


def test_save_and_load_round_trip(baseline: LinearIntentModel, tmp_path: Path) -> None:
    save_model(baseline, tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    text = "能不能晚几天还"
    assert loaded.predict(text) == baseline.predict(text)


def test_any_label_set_trains() -> None:
    examples = [Example(f"open account {i}", "open") for i in range(5)]
    examples += [Example(f"close account {i}", "close") for i in range(5)]
    model = LinearIntentModel("own", "baseline").fit(
        [e.text for e in examples], [e.label for e in examples]
    )
    assert model.labels == ("close", "open")
    assert model.predict("please close my account").intent == "close"


def test_load_classifier_caches_the_trained_default(tmp_path: Path) -> None:
    registry._LOADED.clear()
    first: IntentClassifier = load_classifier("baseline", cache_dir=tmp_path)
    assert load_classifier("baseline", cache_dir=tmp_path / "elsewhere") is first
    cached = [p for p in tmp_path.iterdir() if p.name.startswith("baseline-")]
    assert len(cached) == 1 and (cached[0] / "meta.json").is_file()
    assert first.predict("别再打了").intent == "stop_calling"
    registry._LOADED.clear()  # a new process: loads the cached copy, trains nothing
    again = load_classifier("baseline", cache_dir=tmp_path)
    assert again is not first
    assert again.predict("别再打了") == first.predict("别再打了")
    # a cache another version of the code cannot read is retrained, not a crash
    for f in cached[0].iterdir():
        if f.name != "meta.json":
            f.write_bytes(b"not a model")
    registry._LOADED.clear()
    rebuilt = load_classifier("baseline", cache_dir=tmp_path)
    assert rebuilt.predict("别再打了").intent == "stop_calling"
    registry._LOADED.clear()
    assert (
        load_classifier("baseline", cache_dir=tmp_path).predict("别再打了").intent == "stop_calling"
    )


def test_the_cache_key_follows_the_model_code_not_only_the_data(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = registry.model_fingerprint()
    assert registry.model_fingerprint() == before  # stable within one version of the code
    # another version of the model code (or of scikit-learn, numpy…) is another cache entry
    monkeypatch.setattr(registry, "_code_fingerprint", lambda: "a-newer-lendline")
    assert registry.model_fingerprint() != before


def test_load_classifier_rejects_unknown_specs(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        load_classifier("gpt-9", cache_dir=tmp_path)
    with pytest.raises(ConfigError):
        load_classifier(str(tmp_path), cache_dir=tmp_path)  # a directory, but no model


def test_normalise_folds_width_case_punctuation_and_homophones() -> None:
    from lendline.dialogue.nlu.text import normalise

    assert normalise("我想ＡＰＰＬＹ代款，  利系多少？") == "我想apply贷款 利息多少"
