"""Simulate a campaign on a virtual clock: the real ``CampaignRun`` and the real
``ContactPolicy`` (quiet hours, daily and weekly caps) against callers drawn at random.

What is modelled (every figure is an assumption, printed with the results):
answer probability by local hour; for an answered call, the outcome mix of the AI
reminder and of a human collector; call durations. Humans are a fixed team of collectors:
a human dial waits for the first free collector. The comparison a lender asks for is the
same debtors worked by humans only: promises won and collector hours spent.
"""

from __future__ import annotations

import heapq
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from lendline.compliance.contact import ContactPolicy, ContactRecord, ContactSubject
from lendline.outbound.campaign import Campaign, Stage
from lendline.outbound.run import CampaignRun, Outcome, PolicyDecision

NO_COLLECTOR = "no_collector_free"  # capacity, not policy: not counted as a refusal


@dataclass(frozen=True, slots=True)
class CallerModel:
    """Assumptions about the debtors and the two kinds of caller."""

    answer_by_hour: tuple[float, ...] = tuple(
        0.2 if h < 9 else 0.35 if h < 12 else 0.3 if h < 18 else 0.45 for h in range(24)
    )
    bot_mix: tuple[tuple[Outcome, float], ...] = (
        (Outcome.PROMISE, 0.38),
        (Outcome.NO_PROMISE, 0.30),
        (Outcome.UNABLE, 0.14),
        (Outcome.DISPUTE, 0.05),
        (Outcome.STOP, 0.03),
        (Outcome.THIRD_PARTY, 0.10),
    )
    human_mix: tuple[tuple[Outcome, float], ...] = (
        (Outcome.PROMISE, 0.55),
        (Outcome.NO_PROMISE, 0.20),
        (Outcome.UNABLE, 0.12),
        (Outcome.DISPUTE, 0.05),
        (Outcome.STOP, 0.02),
        (Outcome.THIRD_PARTY, 0.06),
    )
    bot_talk_s: float = 100.0
    human_talk_s: float = 300.0
    ring_s: float = 30.0  # an unanswered attempt
    wrap_up_s: float = 60.0  # a collector's after-call work


@dataclass
class SimResult:
    targets: int
    promises: int = 0
    promises_by: Counter[str] = field(default_factory=Counter)
    dials_by: Counter[str] = field(default_factory=Counter)
    refusals: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    collector_hours: float = 0.0
    bot_hours: float = 0.0

    def as_dict(self) -> dict[str, object]:
        per = self.collector_hours / self.promises if self.promises else None
        return {
            "targets": self.targets,
            "promises": self.promises,
            "promise_rate": round(self.promises / self.targets, 4) if self.targets else 0.0,
            "promises_by_bot": self.promises_by["bot"],
            "promises_by_human": self.promises_by["human"],
            "dials_bot": self.dials_by["bot"],
            "dials_human": self.dials_by["human"],
            "collector_hours": round(self.collector_hours, 2),
            "bot_hours": round(self.bot_hours, 2),
            "collector_minutes_per_promise": round(per * 60, 2) if per is not None else None,
            "refusals": dict(self.refusals),
            "outcomes": dict(self.outcomes),
        }


def human_only(campaign: Campaign) -> Campaign:
    """The same campaign with every attempt made by a human collector."""
    attempts = sum(s.max_attempts for s in campaign.stages)
    humans = [s for s in campaign.stages if s.kind == "human"]
    queue = humans[0].queue if humans else "collections"
    stage = Stage("human", attempts, campaign.stages[0].retry_after_s, queue=queue)
    return Campaign(
        campaign.name + " (human only)",
        campaign.purpose,
        (stage,),
        campaign.min_overdue_days,
        campaign.max_overdue_days,
        campaign.products,
        campaign.dials_per_minute,
    )


def simulate(
    campaign: Campaign,
    customer_ids: list[str],
    *,
    start: datetime,
    days: int = 3,
    collectors: int = 5,
    seed: int = 1,
    timezone: str = "Asia/Shanghai",
    model: CallerModel | None = None,
    policy: ContactPolicy | None = None,
) -> SimResult:
    m = model or CallerModel()
    pol = policy or ContactPolicy()
    rng = random.Random(seed)
    tz = ZoneInfo(timezone)
    history: dict[str, list[ContactRecord]] = {c: [] for c in customer_ids}
    dnc: set[str] = set()

    run = CampaignRun.start(campaign, customer_ids, start)
    free_at = [start] * collectors  # each collector's next free time
    assigned: dict[str, int] = {}  # customer -> collector of the human dial being made

    def check(customer_id: str, at: datetime, purpose: str) -> PolicyDecision:
        subject = ContactSubject(customer_id, timezone, False, customer_id in dnc)
        d = pol.decide(subject, purpose=purpose, now=at, history=history[customer_id])
        if not d.allowed:
            return PolicyDecision(False, d.reasons, d.next_allowed_at)
        if campaign.stages[run.targets[customer_id].stage].kind == "human":
            # a human dial needs a free collector now (a predictive dialer would not
            # ring a debtor with nobody to talk to)
            i = min(range(collectors), key=free_at.__getitem__)
            if free_at[i] > at:
                return PolicyDecision(False, (NO_COLLECTOR,), free_at[i])
            assigned[customer_id] = i
        return PolicyDecision(True)

    def draw(mix: tuple[tuple[Outcome, float], ...]) -> Outcome:
        x, acc = rng.random(), 0.0
        for outcome, p in mix:
            acc += p
            if x < acc:
                return outcome
        return mix[-1][0]

    result = SimResult(targets=len(customer_ids))
    pending: list[tuple[datetime, str, str, str]] = []  # (ends, customer, outcome, kind)
    now, end, step = start, start + timedelta(days=days), timedelta(minutes=5)
    while now < end:
        while pending and pending[0][0] <= now:
            at, cid, outcome, kind = heapq.heappop(pending)
            run.record(cid, outcome, at)
            result.outcomes[outcome] += 1
            if outcome == Outcome.STOP:
                dnc.add(cid)
            if outcome == Outcome.PROMISE:
                result.promises += 1
                result.promises_by[kind] += 1
        dials, refusals = run.due(now, check)
        for r in refusals:
            for reason in r.reasons:
                if reason != NO_COLLECTOR:
                    result.refusals[reason] += 1
        for d in dials:
            begin = now
            answered = rng.random() < m.answer_by_hour[begin.astimezone(tz).hour]
            outcome = (
                draw(m.bot_mix if d.kind == "bot" else m.human_mix)
                if answered
                else Outcome.NO_ANSWER
            )
            talk = (m.bot_talk_s if d.kind == "bot" else m.human_talk_s) if answered else m.ring_s
            busy = talk + (m.wrap_up_s if d.kind == "human" and answered else 0.0)
            if d.kind == "human":
                free_at[assigned.pop(d.customer_id)] = begin + timedelta(seconds=busy)
                result.collector_hours += busy / 3600
            else:
                result.bot_hours += talk / 3600
            result.dials_by[d.kind] += 1
            channel = "bot" if d.kind == "bot" else "call"
            history[d.customer_id].append(
                ContactRecord(begin, channel, "outbound", campaign.purpose, answered)
            )
            heapq.heappush(
                pending, (begin + timedelta(seconds=talk), d.customer_id, outcome.value, d.kind)
            )
        now += step
    return result
