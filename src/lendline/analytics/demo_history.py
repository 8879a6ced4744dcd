"""Seven days of past call records for the demo, so the reports page has figures at once.

Deterministic (``random.Random(seed)``); written only into an empty ``calls`` table and
marked ``node_id = "demo-history"`` so they are easy to tell from live calls.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import func, select

from lendline.store.base import Database
from lendline.store.models import CallRow

QUEUES = (
    ("general", 0.35),
    ("products", 0.2),
    ("collections", 0.3),
    ("complaints", 0.1),
    ("senior_loans", 0.05),
)
DISPOSITIONS = (
    "resolved",
    "promise_to_pay",
    "callback_requested",
    "complaint_logged",
    "application_submitted",
    "unresolved",
)
HOURLY = (0, 0, 0, 0, 0, 0, 0, 1, 4, 9, 10, 9, 6, 7, 9, 10, 9, 7, 5, 3, 2, 1, 0, 0)  # 北京时间


def seed_call_history(
    db: Database, *, now: datetime, seed: int, customer_ids: list[str], agent_ids: list[str]
) -> int:
    with db.session() as s:
        if (s.scalar(select(func.count()).select_from(CallRow)) or 0) > 0:
            return 0
    rng = random.Random(seed)
    rows: list[CallRow] = []
    start = (now - timedelta(days=7)).replace(minute=0, second=0, microsecond=0)
    for h in range(7 * 24):
        at = start + timedelta(hours=h)
        local_hour = (at.hour + 8) % 24
        for _ in range(rng.randint(0, HOURLY[local_hour] * 3)):
            rows.append(
                _call(
                    rng,
                    at + timedelta(seconds=rng.randint(0, 3599)),
                    len(rows),
                    customer_ids,
                    agent_ids,
                )
            )
    with db.session() as s:
        s.add_all(rows)
    return len(rows)


def _call(
    rng: random.Random, started: datetime, n: int, customers: list[str], agents: list[str]
) -> CallRow:
    queue = rng.choices([q for q, _ in QUEUES], weights=[w for _, w in QUEUES])[0]
    via_bot = rng.random() < 0.3
    row = CallRow(
        call_id=f"hist-{n:06d}",
        customer_id=rng.choice(customers),
        state="ended",
        started_at=started,
        node_id="demo-history",
        reason="",
        routing_reason="",
        context={"intent": "repayment_info"} if via_bot else {},
    )
    if via_bot and rng.random() < 0.55:
        row.queue, row.end_reason, row.ended_at = (
            None,
            "bot_completed",
            started + timedelta(seconds=rng.randint(40, 200)),
        )
        return row
    row.queue = queue
    wait = rng.expovariate(1 / 18)
    if rng.random() < 0.07 + min(0.2, wait / 600):
        row.end_reason, row.wait_s = "abandoned", round(wait, 1)
        row.ended_at = started + timedelta(seconds=wait)
        return row
    talk = rng.gauss(260, 90)
    row.agent_id = rng.choice(agents)
    row.wait_s, row.talk_s = round(wait, 1), round(max(30.0, talk), 1)
    row.answered_at = started + timedelta(seconds=wait)
    row.ended_at = row.answered_at + timedelta(seconds=row.talk_s)
    row.end_reason = "answered"
    row.disposition_code = rng.choice(DISPOSITIONS)
    row.resolved = row.disposition_code not in ("unresolved", "callback_requested")
    row.context = {**row.context, "wrap_s": round(rng.uniform(10, 60), 1)}
    return row
