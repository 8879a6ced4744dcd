from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lendline.errors import Conflict, NotFound, RuleError, ValidationError
from lendline.outbound.campaign import parse_campaign
from lendline.outbound.run import CampaignRun, Outcome, PolicyDecision, TargetState

SPEC = """\
name: 逾期提醒-M1
purpose: collection
select:
  overdue_days: [1, 30]
stages:
  - kind: bot
    flow: collection_reminder
    max_attempts: 2
    retry_after_min: [60]
  - kind: human
    queue: collections
    max_attempts: 1
pacing:
  dials_per_minute: 2
"""
T0 = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def allow_all(_cid: str, _at: datetime, _purpose: str) -> PolicyDecision:
    return PolicyDecision(True)


def test_parse_campaign_and_selection() -> None:
    c = parse_campaign(SPEC)
    assert c.name == "逾期提醒-M1" and c.purpose == "collection"
    assert [s.kind for s in c.stages] == ["bot", "human"]
    assert c.stages[0].retry_after_s == (3600.0,)
    assert c.selects(5, "consumer") and not c.selects(0, "consumer") and not c.selects(31, "car")


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        (SPEC.replace("kind: human", "kind: robot"), 10, "kind must be"),
        (SPEC.replace("purpose: collection", "purpose: sales"), 1, "purpose"),
        (SPEC.replace("    flow: collection_reminder\n", ""), 6, "needs 'flow'"),
        (SPEC.replace("[1, 30]", "[30, 1]"), 4, "overdue_days"),
        (SPEC + "colour: red\n", 1, "unknown key"),
        ("name: x\n  bad: [", None, "YAML"),
    ],
)
def test_invalid_campaign_names_line_and_reason(text: str, line: int | None, fragment: str) -> None:
    with pytest.raises(RuleError) as exc:
        parse_campaign(text)
    assert fragment in str(exc.value)
    if line is not None:
        assert exc.value.line == line


def test_bot_first_then_human_with_retries_and_pacing() -> None:
    run = CampaignRun.start(parse_campaign(SPEC), ["C1", "C2", "C3"], T0)
    dials, refusals = run.due(T0, allow_all)
    assert [d.customer_id for d in dials] == ["C1", "C2"]  # 2 dials a minute
    assert all(d.kind == "bot" and d.flow == "collection_reminder" for d in dials)
    assert not refusals
    assert run.due(T0, allow_all)[0] == []  # bucket empty
    run.record("C1", Outcome.PROMISE, T0)
    run.record("C2", Outcome.NO_ANSWER, T0)
    assert run.targets["C2"].next_at == T0 + timedelta(hours=1)
    t1 = T0 + timedelta(minutes=1)
    assert [d.customer_id for d in run.due(t1, allow_all)[0]] == ["C3"]
    run.record("C3", Outcome.UNABLE, t1)  # bot could not get a promise → human at once
    d = run.due(t1 + timedelta(minutes=1), allow_all)[0]
    assert [(x.customer_id, x.kind, x.queue) for x in d] == [("C3", "human", "collections")]
    run.record("C3", Outcome.PROMISE, t1)
    t2 = T0 + timedelta(hours=1)
    assert [x.customer_id for x in run.due(t2, allow_all)[0]] == ["C2"]
    run.record("C2", Outcome.NO_ANSWER, t2)  # second bot miss → human stage
    assert run.targets["C2"].stage == 1
    assert run.due(t2 + timedelta(minutes=1), allow_all)[0][0].kind == "human"
    run.record("C2", Outcome.NO_ANSWER, t2)  # human stage exhausted
    s = run.summary()
    assert s["resolved_by.bot"] == 1 and s["resolved_by.human"] == 1
    assert s["state.exhausted"] == 1 and s["state.done"] == 2


def test_policy_refusal_is_not_an_attempt_and_dnc_blocks() -> None:
    later = T0 + timedelta(hours=3)

    def policy(cid: str, at: datetime, purpose: str) -> PolicyDecision:
        assert purpose == "collection"
        if cid == "C1":
            return PolicyDecision(False, ("quiet_hours",), later)
        return PolicyDecision(False, ("do_not_call",))

    run = CampaignRun.start(parse_campaign(SPEC), ["C1", "C2"], T0)
    dials, refusals = run.due(T0, policy)
    assert dials == []
    assert {r.customer_id: r.reasons for r in refusals} == {
        "C1": ("quiet_hours",),
        "C2": ("do_not_call",),
    }
    assert run.targets["C1"].attempts == 0 and run.targets["C1"].next_at == later
    assert run.targets["C2"].state is TargetState.BLOCKED
    assert run.due(later, allow_all)[0][0].customer_id == "C1"


def test_bad_records_are_refused_clearly() -> None:
    run = CampaignRun.start(parse_campaign(SPEC), ["C1"], T0)
    with pytest.raises(NotFound):
        run.record("C9", Outcome.PROMISE, T0)
    with pytest.raises(Conflict):
        run.record("C1", Outcome.PROMISE, T0)  # not dialing
    run.due(T0, allow_all)
    with pytest.raises(ValidationError):
        run.record("C1", "maybe", T0)
    with pytest.raises(ValidationError):
        CampaignRun.start(parse_campaign(SPEC), ["C1", "C1"], T0)
