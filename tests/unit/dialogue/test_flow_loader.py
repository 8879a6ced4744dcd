from __future__ import annotations

from pathlib import Path

import pytest

from lendline.dialogue.actions import BUILTIN_ACTIONS
from lendline.dialogue.flow import FLOWS_DIR, default_flows, load_flows, parse_flow
from lendline.errors import RuleError

GOOD = """\
flow: demo
title: {zh: 演示, en: Demo}
intents: [apply_loan]
start: ask
states:
  ask:
    say: {zh: "个人还是企业？", en: "Personal or business?"}
    slot: loan_type
    next: done
  done:
    say: {zh: "好的", en: "OK"}
    end: true
"""


def _err(text: str) -> RuleError:
    with pytest.raises(RuleError) as ei:
        parse_flow(text, source="x.yaml", actions=BUILTIN_ACTIONS)
    assert ei.value.code == "invalid_flow"
    return ei.value


def test_good_flow_parses() -> None:
    fl = parse_flow(GOOD, source="x.yaml", actions=BUILTIN_ACTIONS)
    assert fl.start == "ask" and fl.states["ask"].slot == "loan_type"
    assert fl.states["done"].end == "flow" and fl.queue == "general"


@pytest.mark.parametrize(
    ("change", "line", "reason"),
    [
        (("    next: done\n  done:", "    next: nowhere\n  done:"), 9, "unknown state 'nowhere'"),
        (("intents: [apply_loan]", "intents: [buy_house]"), 3, "unknown intent 'buy_house'"),
        (('    say: {zh: "好的", en: "OK"}', '    say: {zh: "好的"}'), 11, "missing en"),
        (("    slot: loan_type", "    slot: shoe_size"), 8, "not an NLU slot"),
        (("    end: true", "    end: maybe"), 12, "end must be"),
        (
            ("    slot: loan_type", "    slot: loan_type\n    colour: red"),
            9,
            "unknown key 'colour'",
        ),
        (("start: ask", "start: nope"), 4, "start state 'nope'"),
        (("    end: true", "    action: launch_rocket\n    next: ask"), 12, "unknown action"),
    ],
)
def test_invalid_flow_names_line_and_reason(
    change: tuple[str, str], line: int, reason: str
) -> None:
    old, new = change
    assert old in GOOD
    e = _err(GOOD.replace(old, new))
    assert e.line == line, (e.line, e.detail)
    assert reason in e.detail and "x.yaml" in e.detail


def test_yaml_syntax_error_has_line() -> None:
    e = _err(GOOD.replace("states:", "states: [oops"))
    assert e.line is not None and "not valid YAML" in e.detail


def test_duplicate_state_is_refused() -> None:
    e = _err(GOOD + "  ask:\n    say: {zh: a, en: b}\n    end: true\n")
    assert "duplicate key 'ask'" in e.detail and e.line == 13


def test_state_without_exit_and_waiting_without_prompt() -> None:
    assert "no way out" in _err(GOOD.replace("    end: true\n", "")).detail
    e = _err(GOOD.replace('    say: {zh: "个人还是企业？", en: "Personal or business?"}\n', ""))
    assert "needs say" in e.detail


def test_shipped_flows_load_and_unknown_subflow_is_refused(tmp_path: Path) -> None:
    flows = default_flows(BUILTIN_ACTIONS)
    assert {"main", "product_enquiry", "collection_reminder", "complaint"} <= set(flows)
    for f in FLOWS_DIR.glob("*.yaml"):
        (tmp_path / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    bad = tmp_path / "repayment_info.yaml"
    bad.write_text(
        bad.read_text(encoding="utf-8").replace("subflow: verify_identity", "subflow: verify_face")
    )
    with pytest.raises(RuleError) as ei:
        load_flows([tmp_path], actions=BUILTIN_ACTIONS)
    assert "unknown subflow 'verify_face'" in ei.value.detail and ei.value.line is not None


def test_engine_refuses_an_action_outcome_without_a_branch(tmp_path: Path) -> None:
    from lendline.dialogue.engine import DialogueEngine
    from tests.unit.dialogue.fakes import KeywordUnderstanding, MemoryBackend

    for f in FLOWS_DIR.glob("*.yaml"):
        (tmp_path / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    bad = tmp_path / "repayment_info.yaml"
    text = bad.read_text(encoding="utf-8")
    bad.write_text(text.replace("on: {ok: tell, none: nothing}", "on: {ok: tell}"))
    flows = load_flows([tmp_path], actions=BUILTIN_ACTIONS)
    with pytest.raises(RuleError) as ei:
        DialogueEngine(flows, KeywordUnderstanding(), MemoryBackend())
    assert "no branch for outcome 'none' of repayment_info" in ei.value.detail
    assert ei.value.line == text.splitlines().index("    on: {ok: tell, none: nothing}") + 1
    bad.write_text(text.replace("on: {ok: tell, none: nothing}", "on: {ok: tell, nope: nothing}"))
    with pytest.raises(RuleError, match="has no outcome 'nope'"):
        DialogueEngine(
            load_flows([tmp_path], actions=BUILTIN_ACTIONS), KeywordUnderstanding(), MemoryBackend()
        )
