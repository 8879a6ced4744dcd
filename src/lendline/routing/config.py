"""The routing configuration: skill queues and profile rules, loaded from YAML.

File shape (see ``rules/default.yaml``)::

    version: 1
    queues:
      senior_loans:
        skill: senior_loans          # agents need this skill …
        min_proficiency: 8           # … at this level (1..10) at first,
        relax: [[30, 6], [90, 3]]    # relaxed to 6 after 30 s waiting, to 3 after 90 s
        overflow_after_s: 180        # then moved to overflow_to (a queue or "voicemail")
        overflow_to: general
    rules:                           # first match wins
      - name: senior_first_call
        when: loan_amount_yuan > 100000 and first_call
        target: queue:senior_loans   # queue:<name> | bot:<flow> | team:<team id>
        priority: 5
        reason: 大额首次来电，转资深坐席
    default: queue:general           # when no rule matches

Every error is a ``RuleError`` carrying the line of the offending entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from lendline.errors import RuleError
from lendline.routing.expr import Expression, ExpressionError, compile_expression
from lendline.routing.yamlsrc import LineDict, LineList, YamlSyntaxError, line_of, load_yaml

#: Fields a condition may read: the customer profile plus the call and its local time.
CONDITION_FIELDS = frozenset(
    {
        # customer profile (lendline.domain.customer.Customer.profile)
        "customer_id",
        "loan_amount_fen",
        "loan_amount_yuan",
        "product",
        "credit_score",
        "overdue_days",
        "is_overdue",
        "first_call",
        "days_since_last_contact",
        "risk_flags",
        "vip",
        "segment",
        "language",
        "team",
        "last_agent_id",
        "known_customer",
        # the call
        "reason",
        "caller",
        "dialed",
        "channel",
        "context",
        # the centre's local time
        "hour",
        "minute_of_day",
        "weekday",
    }
)
TARGET_KINDS = ("queue", "bot", "team", "agent")
VOICEMAIL = "voicemail"


class QueueSpec(BaseModel):
    """One skill queue. Times in seconds; proficiency 1..10."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = ""
    skill: str = Field("", description="required skill; empty = the queue's name")
    min_proficiency: int = Field(1, ge=1, le=10)
    relax: tuple[tuple[float, int], ...] = Field(
        (), description="(after_s waiting, min proficiency) steps, increasing in time"
    )
    team: str | None = Field(None, description="only agents of this team (team queues)")
    aging_s: float = Field(30.0, gt=0, description="waiting this long is worth +1 priority")
    overflow_after_s: float | None = Field(None, gt=0)
    overflow_ewt_s: float | None = Field(None, gt=0, description="overflow at once if EWT above")
    overflow_to: str | None = None
    callback_offer_ewt_s: float | None = Field(None, gt=0, description="offer a callback above")
    service_level_s: float = Field(20.0, gt=0)
    default_aht_s: float = Field(180.0, gt=0, description="handle time before any is measured")
    wrap_up_s: float = Field(10.0, ge=0, description="after-call work before ready again")
    reservation_timeout_s: float | None = Field(None, gt=0)

    @property
    def required_skill(self) -> str:
        return self.skill or self.name

    def min_proficiency_at(self, waited_s: float) -> int:
        """The minimum proficiency an agent needs for a call that has waited ``waited_s``."""
        level = self.min_proficiency
        for after_s, relaxed in self.relax:
            if waited_s >= after_s:
                level = relaxed
        return level

    @property
    def floor_proficiency(self) -> int:
        """The lowest level the queue ever accepts (after all relaxation steps)."""
        return min([self.min_proficiency, *(lvl for _t, lvl in self.relax)])


@dataclass(frozen=True, slots=True)
class Target:
    kind: str  # queue | bot | team | agent
    name: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    when: Expression
    target: Target
    priority: int = 0
    reason: str = ""
    line: int | None = None


@dataclass(frozen=True, slots=True)
class RoutingConfig:
    queues: dict[str, QueueSpec]
    rules: tuple[Rule, ...]
    default: Target
    default_priority: int = 0
    sticky_wait_s: float = 0.0
    source: str = "<built-in>"
    extra: dict[str, Any] = field(default_factory=dict)

    def queue_of(self, target: Target) -> str:
        """The queue a queue/team target lands in (team targets get ``team:<id>``)."""
        return target.name if target.kind == "queue" else f"team:{target.name}"


def parse_target(value: Any, line: int | None) -> Target:
    if not isinstance(value, str) or ":" not in value:
        raise RuleError(
            f"target must be 'queue:<name>', 'bot:<flow>' or 'team:<id>', got {value!r}",
            line=line,
        )
    kind, _, name = value.partition(":")
    kind, name = kind.strip(), name.strip()
    if kind not in TARGET_KINDS or not name:
        raise RuleError(f"unknown target kind {kind!r} (queue, bot, team, agent)", line=line)
    return Target(kind, name)


def _queue(name: str, body: Any, line: int | None) -> QueueSpec:
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise RuleError(f"queue {name!r} must be a mapping", line=line)
    try:
        return QueueSpec.model_validate({**body, "name": name})
    except PydanticValidationError as exc:
        err = exc.errors()[0]
        loc = [str(p) for p in err["loc"]]
        key = loc[0] if loc else None
        where = line_of(body, key) if key else line
        raise RuleError(
            f"queue {name!r}: {'.'.join(loc)}: {err['msg']}", line=where or line
        ) from None


def parse_config(text: str, *, source: str = "<text>") -> RoutingConfig:
    """Parse and validate a routing file; raise ``RuleError(line=…)`` on the first problem."""
    try:
        doc = load_yaml(text)
    except YamlSyntaxError as exc:
        raise RuleError(str(exc), line=exc.line) from None
    if not isinstance(doc, LineDict):
        raise RuleError("the file must be a mapping with 'rules' (and 'queues')", line=1)
    allowed = {"version", "queues", "rules", "default", "default_priority", "sticky_wait_s"}
    for key in doc:
        if key not in allowed:
            raise RuleError(f"unknown top-level key {key!r}", line=line_of(doc, key))
    raw_queues = doc.get("queues") or {}
    if not isinstance(raw_queues, dict):
        raise RuleError("'queues' must be a mapping", line=line_of(doc, "queues"))
    queues = {str(n): _queue(str(n), b, line_of(raw_queues, str(n))) for n, b in raw_queues.items()}
    for q in queues.values():
        if q.overflow_to and q.overflow_to != VOICEMAIL and q.overflow_to not in queues:
            raise RuleError(
                f"queue {q.name!r} overflows to unknown queue {q.overflow_to!r}",
                line=line_of(raw_queues[q.name], "overflow_to"),
            )
        steps = [t for t, _ in q.relax]
        if steps != sorted(steps):
            raise RuleError(
                f"queue {q.name!r}: relax steps must be in increasing time",
                line=line_of(raw_queues[q.name], "relax"),
            )
    raw_rules = doc.get("rules")
    if not isinstance(raw_rules, LineList):
        raise RuleError("'rules' must be a list of rules", line=line_of(doc, "rules") or 1)
    rules: list[Rule] = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_rules):
        rules.append(_rule(raw, line_of(raw_rules, i), queues, seen))
    default = parse_target(doc.get("default", "queue:general"), line_of(doc, "default"))
    _check_target(default, queues, line_of(doc, "default"))
    return RoutingConfig(
        queues=queues,
        rules=tuple(rules),
        default=default,
        default_priority=_int(doc.get("default_priority", 0), line_of(doc, "default_priority")),
        sticky_wait_s=float(doc.get("sticky_wait_s", 0) or 0),
        source=source,
    )


def _int(value: Any, line: int | None, *, lo: int = 0, hi: int = 9) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise RuleError(f"priority must be an integer {lo}..{hi}, got {value!r}", line=line)
    return value


def _check_target(target: Target, queues: dict[str, QueueSpec], line: int | None) -> None:
    if target.kind == "queue" and target.name not in queues:
        raise RuleError(f"target queue {target.name!r} is not defined under 'queues'", line=line)


def _rule(raw: Any, line: int | None, queues: dict[str, QueueSpec], seen: set[str]) -> Rule:
    if not isinstance(raw, dict):
        raise RuleError("each rule must be a mapping with name, when, target", line=line)
    for key in raw:
        if key not in ("name", "when", "target", "priority", "reason"):
            raise RuleError(f"unknown rule key {key!r}", line=line_of(raw, key) or line)
    for key in ("name", "when", "target"):
        if key not in raw:
            raise RuleError(f"rule is missing {key!r}", line=line)
    name = str(raw["name"])
    if name in seen:
        raise RuleError(f"duplicate rule name {name!r}", line=line_of(raw, "name"))
    seen.add(name)
    when_line = line_of(raw, "when") or line
    try:
        when = compile_expression(raw["when"], fields=CONDITION_FIELDS)
    except ExpressionError as exc:
        col = f" (column {exc.col + 1})" if exc.col is not None else ""
        raise RuleError(f"rule {name!r}: {exc}{col}", line=when_line) from None
    target_line = line_of(raw, "target") or line
    target = parse_target(raw["target"], target_line)
    _check_target(target, queues, target_line)
    return Rule(
        name=name,
        when=when,
        target=target,
        priority=_int(raw.get("priority", 0), line_of(raw, "priority") or line),
        reason=str(raw.get("reason", "")),
        line=line,
    )
