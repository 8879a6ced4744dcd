"""A campaign in progress: which customer to dial next, and what each outcome leads to.

Pure: it is told the time and asks a ``PolicyCheck`` before every dial; it never dials.

Outcome table (``outcome -> what happens to the target``)::

    no_answer, busy      retry after the stage's delay; after max_attempts → next stage,
                         or exhausted when there is none
    third_party          (someone else answered: no debt talk, only a call-back request)
                         counts as an attempt, retried like no_answer
    promise_to_pay, paid, resolved          done
    no_promise, unable_to_pay, dispute      bot stage → next (human) stage at once;
                                            human stage → done, with that result
    stop_calling         blocked: the customer is on the do-not-call list
    wrong_number         exhausted
A refusal by the policy never counts as an attempt: the target waits until
``next_allowed_at`` (or 15 minutes when the policy gives none); ``do_not_call`` blocks it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from lendline.errors import Conflict, NotFound, ValidationError
from lendline.outbound.campaign import Campaign


class Outcome(StrEnum):
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    THIRD_PARTY = "third_party"
    PROMISE = "promise_to_pay"
    PAID = "paid"
    RESOLVED = "resolved"
    NO_PROMISE = "no_promise"
    UNABLE = "unable_to_pay"
    DISPUTE = "dispute"
    STOP = "stop_calling"
    WRONG_NUMBER = "wrong_number"


class TargetState(StrEnum):
    PENDING = "pending"
    DIALING = "dialing"
    DONE = "done"
    EXHAUSTED = "exhausted"
    BLOCKED = "blocked"


_RETRY = {Outcome.NO_ANSWER, Outcome.BUSY, Outcome.THIRD_PARTY}
_DONE = {Outcome.PROMISE, Outcome.PAID, Outcome.RESOLVED}
_ESCALATE = {Outcome.NO_PROMISE, Outcome.UNABLE, Outcome.DISPUTE}
POLICY_RETRY_S = 15 * 60


@dataclass(frozen=True, slots=True)
class PolicyDecision:
    allowed: bool
    reasons: tuple[str, ...] = ()
    next_allowed_at: datetime | None = None


class PolicyCheck(Protocol):
    def __call__(self, customer_id: str, at: datetime, purpose: str) -> PolicyDecision: ...


@dataclass(slots=True)
class Target:
    customer_id: str
    next_at: datetime
    stage: int = 0
    attempts: int = 0  # attempts in the current stage
    state: TargetState = TargetState.PENDING
    result: str | None = None
    resolved_by: str | None = None  # bot | human


@dataclass(frozen=True, slots=True)
class Dial:
    customer_id: str
    stage: int
    kind: str  # bot | human
    flow: str | None
    queue: str | None
    attempt: int


@dataclass(frozen=True, slots=True)
class Refusal:
    customer_id: str
    reasons: tuple[str, ...]
    next_allowed_at: datetime


@dataclass
class CampaignRun:
    campaign: Campaign
    targets: dict[str, Target] = field(default_factory=dict)
    tokens: float = 0.0
    tokens_at: datetime | None = None

    @classmethod
    def start(cls, campaign: Campaign, customer_ids: list[str], at: datetime) -> CampaignRun:
        run = cls(campaign)
        for cid in customer_ids:
            if cid in run.targets:
                raise ValidationError(f"customer {cid!r} listed twice", field="customer_ids")
            run.targets[cid] = Target(cid, at)
        run.tokens, run.tokens_at = float(campaign.dials_per_minute), at
        return run

    def _refill(self, now: datetime) -> None:
        rate = self.campaign.dials_per_minute
        if self.tokens_at is not None:
            elapsed_min = max(0.0, (now - self.tokens_at).total_seconds() / 60)
            self.tokens = min(float(rate), self.tokens + elapsed_min * rate)
        self.tokens_at = now

    def due(
        self, now: datetime, policy: PolicyCheck, *, limit: int | None = None
    ) -> tuple[list[Dial], list[Refusal]]:
        """The dials to make now (paced), and the targets the policy refused."""
        self._refill(now)
        dials: list[Dial] = []
        refusals: list[Refusal] = []
        ready = sorted(
            (
                t
                for t in self.targets.values()
                if t.state is TargetState.PENDING and t.next_at <= now
            ),
            key=lambda t: (t.next_at, t.customer_id),
        )
        for t in ready:
            if self.tokens < 1 or (limit is not None and len(dials) >= limit):
                break
            decision = policy(t.customer_id, now, self.campaign.purpose)
            if not decision.allowed:
                if "do_not_call" in decision.reasons:
                    t.state, t.result = TargetState.BLOCKED, "do_not_call"
                t.next_at = decision.next_allowed_at or now + timedelta(seconds=POLICY_RETRY_S)
                refusals.append(Refusal(t.customer_id, decision.reasons, t.next_at))
                continue
            stage = self.campaign.stages[t.stage]
            t.attempts += 1
            t.state = TargetState.DIALING
            self.tokens -= 1
            dials.append(
                Dial(t.customer_id, t.stage, stage.kind, stage.flow, stage.queue, t.attempts)
            )
        return dials, refusals

    def record(self, customer_id: str, outcome: Outcome | str, now: datetime) -> Target:
        """Apply the outcome of the dial in progress for ``customer_id``."""
        t = self.targets.get(customer_id)
        if t is None:
            raise NotFound(
                f"customer {customer_id!r} is not in this campaign", code="not_in_campaign"
            )
        if t.state is not TargetState.DIALING:
            raise Conflict(
                f"no dial in progress for {customer_id!r} (state {t.state})",
                code="no_dial_in_progress",
            )
        try:
            outcome = Outcome(outcome)
        except ValueError:
            raise ValidationError(f"unknown outcome {outcome!r}", field="outcome") from None
        stage = self.campaign.stages[t.stage]
        if outcome in _DONE:
            t.state, t.result, t.resolved_by = TargetState.DONE, outcome.value, stage.kind
        elif outcome is Outcome.STOP:
            t.state, t.result = TargetState.BLOCKED, outcome.value
        elif outcome is Outcome.WRONG_NUMBER:
            t.state, t.result = TargetState.EXHAUSTED, outcome.value
        elif outcome in _ESCALATE:
            if stage.kind == "bot" and t.stage + 1 < len(self.campaign.stages):
                self._next_stage(t, now)
            else:
                t.state, t.result, t.resolved_by = TargetState.DONE, outcome.value, stage.kind
        else:  # retry outcomes
            if t.attempts < stage.max_attempts:
                t.state = TargetState.PENDING
                t.next_at = now + timedelta(seconds=stage.retry_delay_s(t.attempts))
            elif t.stage + 1 < len(self.campaign.stages):
                self._next_stage(t, now)
            else:
                t.state, t.result = TargetState.EXHAUSTED, outcome.value
        return t

    def _next_stage(self, t: Target, now: datetime) -> None:
        t.stage += 1
        t.attempts = 0
        t.state = TargetState.PENDING
        t.next_at = now

    def summary(self) -> dict[str, int]:
        """Counts by state, by result and by who resolved (bot/human)."""
        counts: Counter[str] = Counter()
        for t in self.targets.values():
            counts[f"state.{t.state.value}"] += 1
            if t.result:
                counts[f"result.{t.result}"] += 1
            if t.resolved_by and t.result in {o.value for o in _DONE}:
                counts[f"resolved_by.{t.resolved_by}"] += 1
        return dict(sorted(counts.items()))
