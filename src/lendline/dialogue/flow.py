"""Flow definitions: YAML files of states, prompts (zh-CN and en), slots, intents, actions.

A flow file looks like::

    flow: repayment_info               # unique name
    title: {zh: 还款查询, en: Repayment info}
    intents: [repayment_info]          # intents that start this flow from anywhere
    queue: collections                 # skill queue for hand-offs from this flow
    start: verify
    corrections: {loan_type: match}    # a filled slot changed -> resume at this state
    states:
      verify: {subflow: verify_identity, next: lookup}
      lookup: {action: repayment_info, on: {ok: tell, none: no_loan}}
      tell:
        say: {zh: "下一期还款日是{due_date}，应还{due_yuan}元。", en: "..."}
        end: true

State keys (all optional, at least one way out):

* ``say`` — the prompt; ``{var}`` placeholders from slots and action results;
* ``help`` — said instead of ``say`` after a miss or a silence;
* ``slot`` — fill it from NLU, ``choices`` keywords or ``dtmf`` keys, then go to ``next``;
* ``free_text`` — store the caller's words under this name, then go to ``next``;
* ``on_intent`` — intent → state;
* ``action`` + ``args`` + ``on`` — run an action, outcome → state (``"*"`` = any);
* ``subflow`` — run another flow, then ``next``;
* ``handoff`` — ``{queue, reason}``;
* ``end`` — ``true`` ends this flow, ``abort`` ends it and the flows that called it
  (back to main), ``conversation`` hangs up;
* ``skip_if`` — conditions ``verified``, ``customer_known``, ``slot:<name>``;
* ``max_misses`` (default 2), ``dtmf_digits`` (max length of a digit string).

An invalid file raises ``RuleError`` with the line and the reason; nothing half-loaded.
"""

from __future__ import annotations

import string
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from lendline.dialogue.flowmodel import Flow, State, Text
from lendline.dialogue.nlu.api import INTENTS, SLOT_KEYS
from lendline.dialogue.yamlnodes import Node, need_map, need_str, plain, to_nodes
from lendline.errors import RuleError

FLOWS_DIR = Path(__file__).parent / "flows"
_STATE_KEYS = {
    "say",
    "help",
    "slot",
    "choices",
    "dtmf",
    "next",
    "on_intent",
    "action",
    "args",
    "on",
    "end",
    "handoff",
    "subflow",
    "free_text",
    "skip_if",
    "max_misses",
    "dtmf_digits",
}
_FLOW_KEYS = {"flow", "title", "intents", "queue", "start", "states", "corrections"}
_CONDITIONS = ("verified", "customer_known", "slot:")
LOCAL_SLOTS = frozenset({"dob_or_last4"})  # filled by the engine itself, not by NLU


def _text(n: Node, what: str) -> Text:
    m = need_map(n, what)
    for lang in ("zh", "en"):
        if lang not in m:
            raise RuleError(f"{what} needs both zh and en (missing {lang})", line=n.line)
    unknown = set(m) - {"zh", "en"}
    if unknown:
        raise RuleError(f"{what}: unknown language {sorted(unknown)[0]!r}", line=n.line)
    zh, en = need_str(m["zh"], f"{what}.zh"), need_str(m["en"], f"{what}.en")
    for s, node in ((zh, m["zh"]), (en, m["en"])):
        try:
            list(string.Formatter().parse(s))
        except ValueError as exc:
            raise RuleError(f"{what}: bad placeholder ({exc})", line=node.line) from None
    return Text(zh, en)


def _state(name: str, n: Node, actions: Iterable[str] | None, line: int) -> State:
    m = need_map(n, f"state {name!r}")
    for k in m:
        if k not in _STATE_KEYS:
            raise RuleError(f"state {name!r}: unknown key {k!r}", line=n.keylines[k])
    kw: dict[str, Any] = {"name": name, "line": line, "lines": dict(n.keylines)}
    if "say" in m:
        kw["say"] = _text(m["say"], f"state {name!r} say")
    if "help" in m:
        kw["help"] = _text(m["help"], f"state {name!r} help")
    for key in ("slot", "next", "action", "subflow", "free_text"):
        if key in m:
            kw[key] = need_str(m[key], f"state {name!r} {key}")
    if "choices" in m:
        ch: dict[str, tuple[str, ...]] = {}
        for value, words in need_map(m["choices"], "choices").items():
            if not isinstance(words.value, list) or not words.value:
                raise RuleError(f"choices.{value} must be a list of keywords", line=words.line)
            ch[value] = tuple(need_str(w, f"choices.{value}") for w in words.value)
        kw["choices"] = ch
    if "dtmf" in m:
        dt = {k: need_str(v, f"dtmf.{k}") for k, v in need_map(m["dtmf"], "dtmf").items()}
        for key, v in need_map(m["dtmf"], "dtmf").items():
            if len(key) != 1 or key not in "0123456789*#":
                raise RuleError(f"dtmf key {key!r} must be one of 0-9 * #", line=v.line)
        kw["dtmf"] = dt
    if "on_intent" in m:
        oi = {}
        for intent, target in need_map(m["on_intent"], "on_intent").items():
            if intent not in INTENTS:
                raise RuleError(f"unknown intent {intent!r}", line=target.line)
            oi[intent] = need_str(target, f"on_intent.{intent}")
        kw["on_intent"] = oi
    if "on" in m:
        kw["on"] = {k: need_str(v, f"on.{k}") for k, v in need_map(m["on"], "on").items()}
    if "args" in m:
        kw["args"] = plain(m["args"]) if isinstance(m["args"].value, dict) else None
        if kw["args"] is None:
            raise RuleError("args must be a mapping", line=m["args"].line)
    if "end" in m:
        e = m["end"].value
        if e is True:
            kw["end"] = "flow"
        elif e in ("conversation", "abort"):
            kw["end"] = e
        else:
            raise RuleError("end must be true, 'abort' or 'conversation'", line=m["end"].line)
    if "handoff" in m:
        h = need_map(m["handoff"], "handoff")
        if "queue" not in h or "reason" not in h:
            raise RuleError("handoff needs queue and reason", line=m["handoff"].line)
        kw["handoff"] = (
            need_str(h["queue"], "handoff.queue"),
            need_str(h["reason"], "handoff.reason"),
        )
    if "skip_if" in m:
        conds = m["skip_if"].value if isinstance(m["skip_if"].value, list) else [m["skip_if"]]
        names = tuple(need_str(c, "skip_if") for c in conds)
        for c in names:
            if not (c in _CONDITIONS or c.startswith("slot:")):
                raise RuleError(f"unknown skip_if condition {c!r}", line=m["skip_if"].line)
        kw["skip_if"] = names
    for key in ("max_misses", "dtmf_digits"):
        if key in m:
            v = m[key].value
            if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= 32:
                raise RuleError(f"{key} must be an integer 0..32", line=m[key].line)
            kw[key] = v
    st = State(**kw)
    _check_state(st, actions)
    return st


def _check_state(st: State, actions: Iterable[str] | None) -> None:
    where = f"state {st.name!r}"
    if st.slot and st.slot not in SLOT_KEYS and st.slot not in LOCAL_SLOTS and not st.choices:
        raise RuleError(
            f"{where}: slot {st.slot!r} is not an NLU slot and has no choices",
            line=st.lines.get("slot", st.line),
        )
    if st.action and actions is not None and st.action not in set(actions):
        raise RuleError(
            f"{where}: unknown action {st.action!r}", line=st.lines.get("action", st.line)
        )
    if (st.slot or st.free_text) and not st.next:
        raise RuleError(f"{where}: a state that fills a slot needs next", line=st.line)
    if st.waits and st.say is None:
        raise RuleError(f"{where}: a state that waits for the caller needs say", line=st.line)
    if st.subflow and not st.next:
        raise RuleError(f"{where}: subflow needs next", line=st.line)
    exits = st.next or st.on_intent or st.on or st.end or st.handoff
    if not exits:
        raise RuleError(f"{where}: no way out (next, on_intent, on, end or handoff)", line=st.line)
    if st.on and not st.action:
        raise RuleError(f"{where}: 'on' only follows an action", line=st.line)


def parse_flow(text: str, *, source: str = "<flow>", actions: Iterable[str] | None = None) -> Flow:
    """Parse and check one flow file; ``RuleError`` (code ``invalid_flow``) names the line."""
    try:
        root_node = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise RuleError(
            f"{source}: not valid YAML ({getattr(exc, 'problem', exc)})",
            line=mark.line + 1 if mark else None,
            code="invalid_flow",
        ) from None
    if root_node is None:
        raise RuleError(f"{source}: empty file", line=1, code="invalid_flow")
    try:
        return _flow(to_nodes(root_node), source, actions)
    except RuleError as exc:
        raise RuleError(
            f"{source}: {exc.detail.split(': ', 1)[-1]}", line=exc.line, code="invalid_flow"
        ) from None


def _flow(root: Node, source: str, actions: Iterable[str] | None) -> Flow:
    m = need_map(root, "a flow file")
    for k, v in m.items():
        if k not in _FLOW_KEYS:
            raise RuleError(f"unknown key {k!r}", line=v.line)
    for k in ("flow", "start", "states"):
        if k not in m:
            raise RuleError(f"missing {k!r}", line=root.line)
    name = need_str(m["flow"], "flow")
    title = _text(m["title"], "title") if "title" in m else Text(name, name)
    intents: list[str] = []
    if "intents" in m:
        if not isinstance(m["intents"].value, list):
            raise RuleError("intents must be a list", line=m["intents"].line)
        for i in m["intents"].value:
            if need_str(i, "intent") not in INTENTS:
                raise RuleError(f"unknown intent {i.value!r}", line=i.line)
            intents.append(i.value)
    states_node = need_map(m["states"], "states")
    if not states_node:
        raise RuleError("a flow needs at least one state", line=m["states"].line)
    sl = m["states"].keylines
    states = {k: _state(k, v, actions, sl[k]) for k, v in states_node.items()}
    for st in states.values():
        for key, targets in (
            ("next", [st.next]),
            ("on_intent", list(st.on_intent.values())),
            ("on", list(st.on.values())),
        ):
            for t in targets:
                if t is not None and t not in states:
                    raise RuleError(
                        f"state {st.name!r}: goes to unknown state {t!r}",
                        line=st.lines.get(key, st.line),
                    )
    start = need_str(m["start"], "start")
    if start not in states:
        raise RuleError(f"start state {start!r} is not defined", line=m["start"].line)
    corrections = {}
    if "corrections" in m:
        for slot, target in need_map(m["corrections"], "corrections").items():
            if need_str(target, "corrections") not in states:
                raise RuleError(
                    f"correction goes to unknown state {target.value!r}", line=target.line
                )
            corrections[slot] = target.value
    queue = need_str(m["queue"], "queue") if "queue" in m else "general"
    return Flow(name, title, tuple(intents), queue, start, states, corrections, source)


def load_flows(paths: Iterable[Path], *, actions: Iterable[str] | None = None) -> dict[str, Flow]:
    """Load flow files (or every ``*.yaml`` in folders); checks subflows across files."""
    acts = list(actions) if actions is not None else None
    flows: dict[str, Flow] = {}
    files: list[Path] = []
    for p in paths:
        files.extend(sorted(p.glob("*.yaml")) if p.is_dir() else [p])
    for f in files:
        fl = parse_flow(f.read_text(encoding="utf-8"), source=f.name, actions=acts)
        if fl.name in flows:
            raise RuleError(
                f"{f.name}: flow {fl.name!r} defined twice", line=1, code="invalid_flow"
            )
        flows[fl.name] = fl
    for fl in flows.values():
        for st in fl.states.values():
            if st.subflow and st.subflow not in flows:
                raise RuleError(
                    f"{fl.source}: state {st.name!r}: unknown subflow {st.subflow!r}",
                    line=st.line,
                    code="invalid_flow",
                )
    if "main" not in flows:
        raise RuleError("no 'main' flow (the greeting and router)", code="invalid_flow")
    return flows


def default_flows(actions: Iterable[str] | None = None) -> dict[str, Flow]:
    """The flows shipped with lendline (``lendline/dialogue/flows/*.yaml``)."""
    return load_flows([FLOWS_DIR], actions=actions)


__all__ = [
    "FLOWS_DIR",
    "LOCAL_SLOTS",
    "Flow",
    "State",
    "Text",
    "default_flows",
    "load_flows",
    "parse_flow",
]
