"""Conversation stories: scripted callers with the expected intent, state, action, reply.

A story file::

    stories:
      - name: 产品咨询：个人贷款五万
        customer: good_credit      # a demo customer picked by trait (or none)
        via: id                    # id (customer_id given) | phone (caller number)
        language: zh-CN
        flow: collection_reminder  # optional: open this flow at once (outbound)
        task: product_enquiry      # the flow whose completion counts as the task
        greeting: {state: main.greet, reply: 有什么可以帮您}
        turns:
          - user: 我想贷款          # or `dtmf: "1"`, or `silence: true`
            intent: apply_loan
            state: product_enquiry.ask_type
            reply: 个人贷款还是企业贷款   # a fragment, or a list of fragments
            action: match_products
            handoff: products        # the queue, true (any queue), or false
            ended: true

User text may use ``{id_number}``, ``{birth_date}``, ``{phone_last4}``,
``{wrong_id_number}`` (checksum broken) and ``{other_id_number}`` (someone else's) of the
picked customer. The runner is I/O-free: it drives a ``StoryDriver`` (the conversation
service) and returns results; ``lendline bot test`` prints them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import yaml

from lendline.dialogue.model import Reply
from lendline.errors import RuleError

_STORY_KEYS = {
    "name",
    "customer",
    "via",
    "language",
    "channel",
    "flow",
    "task",
    "greeting",
    "turns",
}
_TURN_KEYS = {"user", "dtmf", "silence", "intent", "state", "reply", "action", "handoff", "ended"}
TRAITS = ("none", "any", "good_credit", "overdue", "applicant", "repaying", "no_loans_due")


@dataclass(frozen=True, slots=True)
class StoryCustomer:
    customer_id: str
    phone_e164: str
    values: dict[str, str]  # placeholders: id_number, birth_date, phone_last4, …


class StoryDriver(Protocol):
    def open(
        self,
        customer: StoryCustomer | None,
        via: str,
        channel: str,
        language: str,
        flow: str | None,
    ) -> tuple[str, Reply]: ...

    def send(self, conversation_id: str, text: str, dtmf: str) -> Reply: ...

    def completed(self, conversation_id: str) -> list[str]:
        """Flows the conversation finished (reached an ``end`` state of)."""
        ...


class CustomerPicker(Protocol):
    def pick(self, trait: str) -> StoryCustomer | None: ...


@dataclass(slots=True)
class StoryResult:
    name: str
    source: str
    failures: list[str] = field(default_factory=list)
    bot: list[str] = field(default_factory=list)  # greeting + every reply (zh or en)
    user: list[str] = field(default_factory=list)  # what the caller said ('' = silence)
    task: str | None = None
    language: str = "zh-CN"
    completed: bool = False  # the task flow finished without a hand-off
    handoff: str | None = None

    @property
    def passed(self) -> bool:
        return not self.failures


def load_stories(text: str, source: str) -> list[dict[str, Any]]:
    """Parse and check a story file; ``RuleError`` names the story and the problem."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise RuleError(
            f"{source}: not valid YAML", line=mark.line + 1 if mark else None, code="invalid_story"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("stories"), list):
        raise RuleError(f"{source}: expected a mapping with a 'stories' list", code="invalid_story")
    out = []
    for i, st in enumerate(data["stories"], 1):
        where = f"{source}: story {i}"
        if not isinstance(st, dict) or not isinstance(st.get("turns"), list):
            raise RuleError(f"{where}: needs name and a list of turns", code="invalid_story")
        bad = set(st) - _STORY_KEYS
        if bad:
            raise RuleError(f"{where}: unknown key {sorted(bad)[0]!r}", code="invalid_story")
        if st.get("customer", "none") not in TRAITS:
            raise RuleError(f"{where}: customer must be one of {TRAITS}", code="invalid_story")
        for j, t in enumerate(st["turns"], 1):
            if not isinstance(t, dict) or set(t) - _TURN_KEYS:
                raise RuleError(
                    f"{where} turn {j}: keys are {sorted(_TURN_KEYS)}", code="invalid_story"
                )
            if sum(k in t for k in ("user", "dtmf", "silence")) != 1:
                raise RuleError(
                    f"{where} turn {j}: one of user, dtmf, silence", code="invalid_story"
                )
        out.append(st)
    return out


def _check(exp: dict[str, Any], r: Reply, where: str) -> list[str]:
    bad: list[str] = []
    if "intent" in exp and r.intent != exp["intent"]:
        bad.append(
            f"{where}: intent {r.intent!r} (confidence {r.confidence}), expected {exp['intent']!r}"
        )
    if "state" in exp and r.state != exp["state"]:
        bad.append(f"{where}: state {r.state!r}, expected {exp['state']!r}")
    if "action" in exp and exp["action"] not in r.actions and r.action != exp["action"]:
        bad.append(f"{where}: actions {list(r.actions)}, expected {exp['action']!r}")
    frags = exp.get("reply", [])
    for frag in [frags] if isinstance(frags, str) else frags:
        if str(frag) not in r.text:
            bad.append(f"{where}: reply lacks {frag!r}: {r.text!r}")
    if "handoff" in exp:
        got: str | bool = r.handoff.queue if r.handoff else False
        if exp["handoff"] is True and r.handoff is not None:
            got = True  # any queue: routing may pick it for the customer
        if got != exp["handoff"]:
            bad.append(f"{where}: handoff {got!r}, expected {exp['handoff']!r}")
    if "ended" in exp and r.ended != bool(exp["ended"]):
        bad.append(f"{where}: ended {r.ended}, expected {exp['ended']}")
    return bad


def run_story(
    story: dict[str, Any], source: str, driver: StoryDriver, picker: CustomerPicker
) -> StoryResult:
    res = StoryResult(
        str(story.get("name", "?")),
        source,
        task=story.get("task"),
        language=str(story.get("language", "zh-CN")),
    )
    trait = story.get("customer", "none")
    cust = None if trait == "none" else picker.pick(trait)
    if trait != "none" and cust is None:
        res.failures.append(f"no demo customer with trait {trait!r}")
        return res
    values = cust.values if cust else {}
    try:
        cid, r = driver.open(
            cust,
            story.get("via", "id"),
            story.get("channel", "text"),
            story.get("language", "zh-CN"),
            story.get("flow"),
        )
        res.bot.append(r.text)
        res.failures += _check(story.get("greeting") or {}, r, "greeting")
        for n, t in enumerate(story["turns"], 1):
            text = str(t.get("user", "")).format_map(values) if "user" in t else ""
            # an ID number keyed on a phone pad: X is the * key
            dtmf = str(t.get("dtmf", "")).format_map(values).replace("X", "*")
            r = driver.send(cid, text, dtmf)
            res.user.append(text or (f"[{dtmf}]" if dtmf else ""))
            res.bot.append(r.text)
            res.failures += _check(t, r, f"turn {n} ({text or dtmf or 'silence'})")
            if r.handoff is not None:
                res.handoff = r.handoff.queue
            if r.ended:
                break
        res.completed = bool(res.task) and res.handoff is None and res.task in driver.completed(cid)
    except Exception as exc:  # a story that crashes is a failure, reported, not a stop
        res.failures.append(f"error: {type(exc).__name__}: {exc}")
    return res
