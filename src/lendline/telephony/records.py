"""Call records (CDRs) written off the signalling hot path, in batches.

``CallRecordWriter.submit(row)`` only appends to a list; a worker thread inserts what has
accumulated every ``flush_interval_s`` (or at ``batch_size`` rows) in one executemany.
``close()`` writes the rest. Rows are dicts of ``CallRow`` columns.
"""

from __future__ import annotations

import threading
from typing import Any

import structlog
from sqlalchemy import insert

from lendline.store.base import Database
from lendline.store.models import CallRow

log = structlog.get_logger(__name__)


class CallRecordWriter:
    def __init__(
        self, db: Database, *, flush_interval_s: float = 0.25, batch_size: int = 2000
    ) -> None:
        self.db = db
        self.flush_interval_s = flush_interval_s
        self.batch_size = batch_size
        self.written = 0
        self.failed = 0
        self._rows: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="cdr-writer", daemon=True)
            self._thread.start()

    def submit(self, row: dict[str, Any]) -> None:
        self._rows.append(row)  # list.append is atomic under the GIL
        if len(self._rows) >= self.batch_size:
            self._wake.set()

    def pending(self) -> int:
        return len(self._rows)

    def flush(self) -> int:
        """Write what is queued now (also called by the worker); returns rows written."""
        with self._lock:
            rows, self._rows = self._rows, []
            if not rows:
                return 0
            try:
                with self.db.session() as s:
                    s.execute(insert(CallRow), rows)
            except Exception:
                self.failed += len(rows)
                log.exception("cdr_write_failed", rows=len(rows))
                return 0
            self.written += len(rows)
            return len(rows)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.flush_interval_s)
            self._wake.clear()
            self.flush()

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self.flush()
