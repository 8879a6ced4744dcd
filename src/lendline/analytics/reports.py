"""Reports from the call records (``calls`` table): KPIs by group, and CSV for download."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from sqlalchemy import select

from lendline.analytics.kpis import CallRecord, KpiOptions, kpis_by
from lendline.store.base import Database
from lendline.store.models import CallRow

BOT_KEYS = ("intent", "transcript", "conversation_id", "bot")
CSV_COLUMNS = (
    ("key", "分组", "group"),
    ("offered", "呼入量", "offered"),
    ("answered", "接通量", "answered"),
    ("abandoned", "放弃量", "abandoned"),
    ("asa_s", "平均应答时长(秒)", "ASA (s)"),
    ("aht_s", "平均处理时长(秒)", "AHT (s)"),
    ("service_level", "服务水平", "service level"),
    ("abandon_rate", "放弃率", "abandon rate"),
    ("fcr", "首次解决率", "FCR"),
    ("bot_calls", "机器人接待量", "bot calls"),
    ("containment", "机器人自助解决率", "bot containment"),
)


def _record(r: CallRow) -> CallRecord:
    ctx = r.context or {}
    return CallRecord(
        call_id=r.call_id,
        started_at=r.started_at,
        queue=r.queue,
        agent_id=r.agent_id if r.answered_at is not None else None,
        customer_id=r.customer_id,
        answered=r.answered_at is not None,
        end_reason=r.end_reason,
        wait_s=r.wait_s,
        talk_s=r.talk_s,
        wrap_s=_float(ctx.get("wrap_s")),
        resolved=r.resolved,
        disposition=r.disposition_code,
        via_bot=r.end_reason == "bot_completed" or any(k in ctx for k in BOT_KEYS),
    )


def _float(v: Any) -> float | None:
    try:
        return float(v) if v is not None else None
    except (TypeError, ValueError):
        return None


class CallReports:
    def __init__(self, db: Database, *, timezone: str = "Asia/Shanghai") -> None:
        self.db = db
        self.opts = KpiOptions(timezone=timezone)

    def records(self, start: datetime, end: datetime) -> list[CallRecord]:
        with self.db.session() as s:
            rows = s.scalars(
                select(CallRow)
                .where(CallRow.started_at >= start)
                .where(CallRow.started_at < end)
                .order_by(CallRow.started_at)
            ).all()
            return [_record(r) for r in rows]

    def kpis(self, group: str, start: datetime, end: datetime) -> dict[str, Any]:
        report = kpis_by(self.records(start, end), group, self.opts)
        report["from"] = start.isoformat()
        report["to"] = end.isoformat()
        return report

    def csv(self, group: str, start: datetime, end: datetime, *, language: str = "zh-CN") -> str:
        report = self.kpis(group, start, end)
        out = io.StringIO()
        w = csv.writer(out)
        zh = language.startswith("zh")
        w.writerow([(c[1] if zh else c[2]) for c in CSV_COLUMNS])
        for row in [*report["rows"], {**report["total"], "key": "合计" if zh else "total"}]:
            w.writerow(["" if row.get(c[0]) is None else row.get(c[0]) for c in CSV_COLUMNS])
        return out.getvalue()
