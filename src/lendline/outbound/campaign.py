"""Campaign definitions (YAML), validated with the line of the first error.

Example::

    name: 逾期提醒-M1
    purpose: collection            # collection | marketing | service
    select:
      overdue_days: [1, 30]        # inclusive range
      products: [consumer, micro]  # optional
    stages:
      - kind: bot                  # the AI reminder first
        flow: collection_reminder
        max_attempts: 3
        retry_after_min: [120, 240]   # wait after an unanswered attempt (last value repeats)
      - kind: human                # then a human collector
        queue: collections
        max_attempts: 2
        retry_after_min: [1440]
    pacing:
      dials_per_minute: 30
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import yaml

from lendline.errors import RuleError

Purpose = Literal["collection", "marketing", "service"]
StageKind = Literal["bot", "human"]


@dataclass(frozen=True, slots=True)
class Stage:
    kind: StageKind
    max_attempts: int
    retry_after_s: tuple[float, ...]  # after the n-th unanswered attempt; the last repeats
    flow: str | None = None  # bot stage: the dialogue flow to run
    queue: str | None = None  # human stage: the skill queue that takes the call

    def retry_delay_s(self, attempts_done: int) -> float:
        i = min(max(attempts_done - 1, 0), len(self.retry_after_s) - 1)
        return self.retry_after_s[i]


@dataclass(frozen=True, slots=True)
class Campaign:
    name: str
    purpose: Purpose
    stages: tuple[Stage, ...]
    min_overdue_days: int = 0
    max_overdue_days: int = 10_000
    products: frozenset[str] | None = None
    dials_per_minute: int = 30

    def selects(self, overdue_days: int, product: str) -> bool:
        if not self.min_overdue_days <= overdue_days <= self.max_overdue_days:
            return False
        return self.products is None or product in self.products


class _LineLoader(yaml.SafeLoader):
    """A safe loader that remembers the line of every mapping (for error messages)."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping  # type: ignore[return-value]


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _fail(msg: str, node: dict[str, Any] | None) -> RuleError:
    return RuleError(msg, line=(node or {}).get("__line__"), code="invalid_campaign")


def _int(node: dict[str, Any], key: str, default: int, lo: int, hi: int) -> int:
    v = node.get(key, default)
    if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
        raise _fail(f"{key} must be an integer in [{lo}, {hi}], got {v!r}", node)
    return v


def _stage(node: Any, index: int) -> Stage:
    if not isinstance(node, dict):
        raise RuleError(f"stage {index + 1} must be a mapping", code="invalid_campaign")
    kind = node.get("kind")
    if kind not in ("bot", "human"):
        raise _fail(f"stage {index + 1}: kind must be 'bot' or 'human', got {kind!r}", node)
    retry = node.get("retry_after_min", [60])
    if (
        not isinstance(retry, list)
        or not retry
        or not all(isinstance(x, int | float) and not isinstance(x, bool) and x > 0 for x in retry)
    ):
        raise _fail(f"stage {index + 1}: retry_after_min must be a list of minutes > 0", node)
    flow, queue = node.get("flow"), node.get("queue")
    if kind == "bot" and not isinstance(flow, str):
        raise _fail(f"stage {index + 1}: a bot stage needs 'flow'", node)
    if kind == "human" and not isinstance(queue, str):
        raise _fail(f"stage {index + 1}: a human stage needs 'queue'", node)
    return Stage(
        kind=kind,
        max_attempts=_int(node, "max_attempts", 3, 1, 20),
        retry_after_s=tuple(float(x) * 60 for x in retry),
        flow=flow if kind == "bot" else None,
        queue=queue if kind == "human" else None,
    )


def parse_campaign(text: str) -> Campaign:
    """Parse and validate a campaign; ``RuleError`` names the line and the reason."""
    try:
        doc = yaml.load(text, Loader=_LineLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        problem = getattr(exc, "problem", exc)
        raise RuleError(f"not valid YAML: {problem}", line=line, code="invalid_campaign") from None
    if not isinstance(doc, dict):
        raise RuleError(
            "a campaign is a mapping with name, purpose, stages", code="invalid_campaign"
        )
    known = {"name", "purpose", "select", "stages", "pacing", "__line__"}
    for key in doc:
        if key not in known:
            raise _fail(f"unknown key {key!r}", doc)
    name = doc.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _fail("name is required", doc)
    purpose = doc.get("purpose")
    if purpose not in ("collection", "marketing", "service"):
        raise _fail(f"purpose must be collection, marketing or service, got {purpose!r}", doc)
    stages_node = doc.get("stages")
    if not isinstance(stages_node, list) or not stages_node:
        raise _fail("stages must be a non-empty list", doc)
    stages = tuple(_stage(s, i) for i, s in enumerate(stages_node))
    select = doc.get("select", {}) or {}
    if not isinstance(select, dict):
        raise _fail("select must be a mapping", doc)
    lo, hi = 0, 10_000
    if "overdue_days" in select:
        od = select["overdue_days"]
        if (
            not isinstance(od, list)
            or len(od) != 2
            or not all(isinstance(x, int) and x >= 0 for x in od)
            or od[0] > od[1]
        ):
            raise _fail("select.overdue_days must be [min, max] with 0 ≤ min ≤ max", select)
        lo, hi = od
    products = select.get("products")
    if products is not None and not (
        isinstance(products, list) and all(isinstance(p, str) for p in products)
    ):
        raise _fail("select.products must be a list of product names", select)
    pacing = doc.get("pacing", {}) or {}
    if not isinstance(pacing, dict):
        raise _fail("pacing must be a mapping", doc)
    return Campaign(
        name=name.strip(),
        purpose=purpose,
        stages=stages,
        min_overdue_days=lo,
        max_overdue_days=hi,
        products=frozenset(products) if products is not None else None,
        dials_per_minute=_int(pacing, "dials_per_minute", 30, 1, 10_000),
    )
