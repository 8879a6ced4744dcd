"""KPIs over call records (pure: no database, no clock).

Definitions (times in seconds)::

    offered        calls in the group
    answered       calls an agent answered
    abandoned      calls that ended ``abandoned`` (caller hung up waiting)
    asa_s          average speed of answer: mean wait of answered calls
    aht_s          average handle time: mean talk time + wrap-up time of answered calls
    service_level  answered within ``sl_target_s`` / (answered + abandoned)
    abandon_rate   abandoned / (answered + abandoned)
    fcr            first-contact resolution: answered calls marked resolved whose customer
                   did not call again within ``fcr_window_s`` / answered calls with a
                   disposition
    bot_calls      calls the voicebot handled (ended by it, or handed over with context)
    containment    bot calls the voicebot finished itself / bot calls
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

GROUPS = ("queue", "agent", "day", "hour")


@dataclass(frozen=True, slots=True)
class CallRecord:
    call_id: str
    started_at: datetime  # aware UTC
    queue: str | None = None
    agent_id: str | None = None
    customer_id: str | None = None
    answered: bool = False
    end_reason: str | None = None
    wait_s: float | None = None
    talk_s: float | None = None
    wrap_s: float | None = None
    resolved: bool | None = None
    disposition: str | None = None
    via_bot: bool = False


@dataclass(frozen=True, slots=True)
class KpiOptions:
    sl_target_s: float = 20.0
    fcr_window_s: float = 7 * 86400.0
    timezone: str = "Asia/Shanghai"


def _key_fn(group: str, tz: ZoneInfo) -> Callable[[CallRecord], str]:
    if group == "queue":
        return lambda r: r.queue or "(bot)"
    if group == "agent":
        return lambda r: r.agent_id or "-"
    if group == "day":
        return lambda r: r.started_at.astimezone(tz).date().isoformat()
    if group == "hour":
        return lambda r: f"{r.started_at.astimezone(tz).hour:02d}:00"
    raise ValueError(f"unknown group {group!r}; one of {', '.join(GROUPS)}")


def _repeat_calls(records: list[CallRecord], window_s: float) -> set[str]:
    """Ids of calls followed by another call of the same customer within ``window_s``."""
    by_customer: dict[str, list[CallRecord]] = defaultdict(list)
    for r in records:
        if r.customer_id:
            by_customer[r.customer_id].append(r)
    repeated: set[str] = set()
    window = timedelta(seconds=window_s)
    for calls in by_customer.values():
        calls.sort(key=lambda r: r.started_at)
        for a, b in itertools.pairwise(calls):
            if b.started_at - a.started_at <= window:
                repeated.add(a.call_id)
    return repeated


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


def summarise(records: list[CallRecord], repeated: set[str], opts: KpiOptions) -> dict[str, Any]:
    answered = [r for r in records if r.answered]
    abandoned = [r for r in records if r.end_reason == "abandoned"]
    handled = len(answered) + len(abandoned)
    in_sl = sum(1 for r in answered if (r.wait_s or 0.0) <= opts.sl_target_s)
    disposed = [r for r in answered if r.disposition]
    fcr_hits = [r for r in disposed if r.resolved and r.call_id not in repeated]
    bot = [r for r in records if r.via_bot]
    contained = [r for r in bot if r.end_reason == "bot_completed"]
    return {
        "offered": len(records),
        "answered": len(answered),
        "abandoned": len(abandoned),
        "asa_s": _mean([r.wait_s for r in answered if r.wait_s is not None]),
        "aht_s": _mean([(r.talk_s or 0.0) + (r.wrap_s or 0.0) for r in answered]),
        "service_level": round(in_sl / handled, 4) if handled else None,
        "abandon_rate": round(len(abandoned) / handled, 4) if handled else None,
        "fcr": round(len(fcr_hits) / len(disposed), 4) if disposed else None,
        "bot_calls": len(bot),
        "containment": round(len(contained) / len(bot), 4) if bot else None,
    }


def kpis_by(
    records: Iterable[CallRecord], group: str, opts: KpiOptions | None = None
) -> dict[str, Any]:
    """``{"group": g, "rows": [{"key": k, **kpis}], "total": {**kpis}}`` sorted by key."""
    opts = opts or KpiOptions()
    items = list(records)
    key = _key_fn(group, ZoneInfo(opts.timezone))
    repeated = _repeat_calls(items, opts.fcr_window_s)
    groups: dict[str, list[CallRecord]] = defaultdict(list)
    for r in items:
        groups[key(r)].append(r)
    rows = [{"key": k, **summarise(v, repeated, opts)} for k, v in sorted(groups.items())]
    return {"group": group, "rows": rows, "total": summarise(items, repeated, opts)}
