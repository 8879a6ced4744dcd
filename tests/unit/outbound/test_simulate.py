from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from lendline.outbound.campaign import parse_campaign
from lendline.outbound.simulate import CallerModel, human_only, simulate

SPEC = (Path(__file__).parents[3] / "campaigns" / "collection-m1.yaml").read_text(encoding="utf-8")
START = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)  # Monday 08:00 in Shanghai
IDS = [f"C{i:04d}" for i in range(150)]


def test_ai_first_wins_as_many_promises_for_far_fewer_collector_hours() -> None:
    c = parse_campaign(SPEC)
    mixed = simulate(c, IDS, start=START, days=3, collectors=4, seed=5)
    humans = simulate(human_only(c), IDS, start=START, days=3, collectors=4, seed=5)
    assert mixed.promises == mixed.promises_by["bot"] + mixed.promises_by["human"]
    assert humans.dials_by["bot"] == 0 and humans.promises_by["bot"] == 0
    assert mixed.promises >= 0.85 * humans.promises
    assert mixed.collector_hours < 0.7 * humans.collector_hours
    # reproducible
    again = simulate(c, IDS, start=START, days=3, collectors=4, seed=5)
    assert again.as_dict() == mixed.as_dict()


def test_nobody_answers_then_every_debtor_is_exhausted_within_the_caps() -> None:
    silent = CallerModel(answer_by_hour=(0.0,) * 24)
    c = parse_campaign(SPEC)
    r = simulate(c, IDS[:20], start=START, days=5, collectors=2, seed=1, model=silent)
    assert r.promises == 0
    # 3 bot attempts then 2 human attempts each, nothing more (max_attempts)
    assert r.dials_by["bot"] == 20 * 3 and r.dials_by["human"] == 20 * 2
    assert r.outcomes["no_answer"] == 20 * 5
