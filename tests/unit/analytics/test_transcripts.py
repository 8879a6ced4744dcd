from __future__ import annotations

import random

import pytest

from lendline.analytics.transcripts import (
    Transcript,
    Utterance,
    frequent_questions,
    is_question,
    phrase_effectiveness,
    wilson_interval,
)

GOOD = "您是否考虑过我们的安心贷产品"
NEUTRAL = "请问还有什么可以帮您"


def _corpus(n: int, seed: int = 7) -> list[Transcript]:
    """Synthetic calls where saying GOOD lifts conversion from 20 % to 60 %."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        said_good = rng.random() < 0.5
        lines = [
            Utterance("agent", "您好，这里是客服中心"),
            Utterance("caller", "我想问问利息多少"),
        ]
        if said_good:
            lines.append(Utterance("agent", GOOD + "？"))
        lines.append(Utterance("agent", NEUTRAL))
        converted = rng.random() < (0.6 if said_good else 0.2)
        out.append(Transcript(f"c{i}", tuple(lines), converted))
    return out


def test_scripted_phrase_that_converts_ranks_above_neutral_phrase() -> None:
    stats = phrase_effectiveness(_corpus(400), scripts=[GOOD, NEUTRAL], discover=False)
    by_phrase = {s.phrase: s for s in stats}
    good, neutral = by_phrase[GOOD], by_phrase[NEUTRAL]
    assert stats[0].phrase == GOOD
    assert 0.5 < good.rate < 0.7 and 0.12 < good.rate_without < 0.28
    assert good.lift > 2.0
    assert good.ci_low > neutral.rate  # the interval clears the baseline
    assert neutral.conversations == 400 and neutral.rate_without == 0.0


def test_discovered_phrases_need_support_and_are_maximal() -> None:
    stats = phrase_effectiveness(_corpus(200), min_support=10)
    phrases = [s.phrase for s in stats]
    assert any("安心贷" in p for p in phrases)
    # a discovered phrase is not reported twice as its own sub-phrases with the same support
    top = next(s for s in stats if "安心贷" in s.phrase)
    assert not any(p != top.phrase and p in top.phrase for p in phrases if "安心贷" in p)
    assert all(s.conversations >= 10 for s in stats if not s.scripted)


def test_wilson_interval_bounds() -> None:
    lo, hi = wilson_interval(0, 0)
    assert (lo, hi) == (0.0, 1.0)
    lo, hi = wilson_interval(50, 100)
    assert lo < 0.5 < hi and hi - lo < 0.2
    assert wilson_interval(2, 2)[0] < 0.5  # two lucky calls do not make a sure thing


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("提前还款有违约金吗", True),
        ("利息多少？", True),
        ("好的", False),
        ("How do I repay?", True),
    ],
)
def test_is_question(text: str, expected: bool) -> None:
    assert is_question(text) is expected


def test_frequent_questions_grouped_by_similarity() -> None:
    calls = [
        Transcript("a", (Utterance("caller", "提前还款有违约金吗"),), False),
        Transcript("b", (Utterance("caller", "提前还款有没有违约金"),), False),
        Transcript("c", (Utterance("caller", "提前还款收违约金吗？"),), False),
        Transcript("d", (Utterance("caller", "需要准备哪些材料"),), False),
        Transcript("e", (Utterance("caller", "需要哪些材料呢"),), False),
        Transcript(
            "f", (Utterance("caller", "好的谢谢"), Utterance("agent", "有什么问题吗")), False
        ),
    ]
    clusters = frequent_questions(calls, threshold=0.3)
    assert [c.count for c in clusters] == [3, 2]
    assert "违约金" in clusters[0].representative
    assert all("材料" in e for e in clusters[1].examples)
    assert frequent_questions([]) == []


def test_cli_reads_jsonl_and_reports_bad_lines(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json

    from typer.testing import CliRunner

    from lendline.cli import app

    path = tmp_path / "t.jsonl"
    lines = [
        json.dumps(
            {
                "id": t.conversation_id,
                "converted": t.converted,
                "turns": [{"speaker": u.speaker, "text": u.text} for u in t.utterances],
            },
            ensure_ascii=False,
        )
        for t in _corpus(60)
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    r = CliRunner().invoke(
        app, ["analytics", "phrases", "--data", str(path), "--script", GOOD, "--json"]
    )
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)
    assert rows[0]["phrase"] == GOOD and rows[0]["scripted"] is True
    r = CliRunner().invoke(app, ["analytics", "questions", "--data", str(path), "--json"])
    assert r.exit_code == 0 and json.loads(r.output)[0]["count"] == 60
    path.write_text(lines[0] + "\n{broken\n", encoding="utf-8")
    r = CliRunner().invoke(app, ["analytics", "phrases", "--data", str(path)])
    assert r.exit_code != 0 and "t.jsonl:2" in str(r.exception)
