"""Checks of a whole flow set, made when the engine starts (and by ``lendline bot check``)."""

from __future__ import annotations

from collections.abc import Mapping

from lendline.dialogue.actions import OUTCOMES
from lendline.dialogue.flow import Flow, State
from lendline.errors import RuleError


def check_flow_set(flows: Mapping[str, Flow]) -> None:
    """``main`` with ``anything_else``; every built-in action outcome has a branch."""
    main = flows.get("main")
    if main is None or "anything_else" not in main.states:
        raise RuleError("the main flow needs an 'anything_else' state", code="invalid_flow")
    for fl in flows.values():
        for st in fl.states.values():
            _check_branches(fl, st)


def _check_branches(fl: Flow, st: State) -> None:
    """Every outcome of a built-in action has somewhere to go, and no branch is a typo."""
    outcomes = OUTCOMES.get(st.action or "")
    if outcomes is None:
        return
    where = f"{fl.source}: state {st.name!r}"
    line = st.lines.get("on", st.line)
    unknown = set(st.on) - outcomes - {"*"}
    if unknown:
        raise RuleError(
            f"{where}: {st.action} has no outcome {sorted(unknown)[0]!r}",
            line=line,
            code="invalid_flow",
        )
    missing = outcomes - set(st.on)
    if missing and "*" not in st.on and st.next is None:
        raise RuleError(
            f"{where}: no branch for outcome {sorted(missing)[0]!r} of {st.action}",
            line=line,
            code="invalid_flow",
        )
