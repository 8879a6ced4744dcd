"""Write-behind of call records: the routing path marks a call dirty, a flush writes batches.

Routing decisions never wait for the database. ``flush()`` runs on the ticker (every
``flush_interval_s``) and at shutdown; it writes every dirty call in one transaction and
updates the customers whose calls were answered (last agent, first call, last contact).
A failed flush keeps the batch for the next attempt, so nothing is lost on a DB hiccup.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import select

from lendline.compliance.fieldcrypt import FieldCipher
from lendline.compliance.masking import mask_phone
from lendline.domain.call import Call
from lendline.store.base import Database
from lendline.store.models import CallRow, CustomerRow

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class CallRecord:
    """A snapshot of a call taken under the call centre's lock (plain values only)."""

    values: dict[str, Any]
    customer_touch: tuple[str, str, datetime] | None = None  # customer, agent, answered at


def _wall(call: Call, mono_s: float | None) -> datetime | None:
    if mono_s is None or call.started_at is None:
        return None
    return call.started_at + timedelta(seconds=mono_s - call.arrived_s)


def snapshot(call: Call, cipher: FieldCipher, node_id: str) -> CallRecord:
    assert call.started_at is not None
    wait_s = None
    if call.queued_s is not None and call.answered_s is not None:
        wait_s = call.answered_s - call.queued_s
    talk_s = None
    if call.answered_s is not None and call.ended_s is not None:
        talk_s = call.ended_s - call.answered_s
    d = call.disposition
    values: dict[str, Any] = {
        "call_id": call.call_id,
        "direction": call.direction.value,
        "caller_masked": mask_phone(call.caller) if call.caller else "",
        "caller_digest": cipher.digest(call.caller) if call.caller else "",
        "dialed": call.dialed[:64],
        "customer_id": call.customer_id,
        "reason": call.reason[:40],
        "state": call.state.value,
        "queue": call.queue,
        "agent_id": call.agent_id,
        "priority": call.priority,
        "rule": call.rule,
        "routing_reason": call.routing_reason,
        "started_at": call.started_at,
        "queued_at": _wall(call, call.queued_s),
        "answered_at": _wall(call, call.answered_s),
        "ended_at": _wall(call, call.ended_s),
        "wait_s": wait_s,
        "talk_s": talk_s,
        "end_reason": call.end_reason.value if call.end_reason else None,
        "disposition_code": d.code if d else None,
        "disposition_note": d.note if d else "",
        "resolved": d.resolved if d else None,
        "context": _jsonable(call.context),
        "node_id": node_id,
    }
    touch = None
    answered = _wall(call, call.answered_s)
    if call.customer_id and call.agent_id and answered is not None:
        touch = (call.customer_id, call.agent_id, answered)
    return CallRecord(values, touch)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


class CallRecordWriter:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._pending: dict[str, CallRecord] = {}
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self.written = 0

    def put(self, record: CallRecord) -> None:
        with self._lock:
            self._pending[record.values["call_id"]] = record

    @property
    def pending(self) -> int:
        return len(self._pending)

    def flush(self) -> int:
        """Write all pending records; returns how many. Safe to call from any thread."""
        with self._flush_lock:
            with self._lock:
                batch, self._pending = self._pending, {}
            if not batch:
                return 0
            try:
                self._write(list(batch.values()))
            except Exception:
                log.exception("call_record_flush_failed", calls=len(batch))
                with self._lock:  # keep them (newer snapshots win)
                    for k, v in batch.items():
                        self._pending.setdefault(k, v)
                return 0
            self.written += len(batch)
            return len(batch)

    def _write(self, records: list[CallRecord]) -> None:
        ids = [r.values["call_id"] for r in records]
        with self.db.session() as s:
            existing = {
                row.call_id: row
                for row in s.scalars(select(CallRow).where(CallRow.call_id.in_(ids))).all()
            }
            for rec in records:
                row = existing.get(rec.values["call_id"])
                if row is None:
                    s.add(CallRow(**rec.values))
                else:
                    for k, v in rec.values.items():
                        setattr(row, k, v)
            for rec in records:
                if rec.customer_touch is None:
                    continue
                customer_id, agent_id, at = rec.customer_touch
                cust = s.get(CustomerRow, customer_id)
                if cust is not None:
                    cust.last_agent_id = agent_id
                    cust.first_call = False
                    if cust.last_contact_at is None or cust.last_contact_at < at:
                        cust.last_contact_at = at
