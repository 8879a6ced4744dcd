"""``lendline bench vault``: recording lookups on a large index (default 1,000,000 rows).

Seeds a fresh database with bulk inserts, then times ``RecordingVault.search`` — the code
path the API uses — for lookups by call, by customer, by agent and day, by an hour of dates,
and as a team lead (scoped). Reports p50/p99 in milliseconds per kind.
"""

from __future__ import annotations

import os
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Table, insert

from lendline.clock import SystemClock
from lendline.compliance.retention import RetentionRules
from lendline.compliance.scope import RowScope
from lendline.store.base import Database
from lendline.store.migrate import upgrade
from lendline.store.models_compliance import RecordingRow
from lendline.vault.blobs import LocalBlobStore
from lendline.vault.keys import VaultKeys
from lendline.vault.service import RecordingVault

T0 = datetime(2024, 1, 1, tzinfo=UTC)
SPAN_S = 3 * 365 * 86400  # three years of recordings


def _seed(db: Database, rows: int, rng: random.Random, batch: int = 20_000) -> None:
    table = RecordingRow.__table__
    assert isinstance(table, Table)
    customers = max(1, rows // 5)
    with db.engine.begin() as conn:
        for start in range(0, rows, batch):
            chunk = []
            for i in range(start, min(rows, start + batch)):
                started = T0 + timedelta(seconds=rng.randrange(SPAN_S))
                agent = rng.randrange(300)
                chunk.append(
                    {
                        "recording_id": f"rec-{i:012d}",
                        "call_id": f"call-{i:012d}",
                        "kind": "call" if i % 4 else "bot",
                        "customer_id": f"C{rng.randrange(customers):07d}",
                        "agent_id": f"agent{agent:03d}",
                        "team_id": f"team{agent % 10}",
                        "caller_masked": "138****5678",
                        "loan_id": None,
                        "started_at": started,
                        "ended_at": started + timedelta(seconds=180),
                        "duration_s": 180.0,
                        "paused_s": 0.0,
                        "audio_bytes": 180 * 32000,
                        "sample_rate_hz": 8000,
                        "channels": 2,
                        "key_id": "mk-bench",
                        "state": "sealed",
                        "retain_until": started + timedelta(days=5 * 365),
                        "legal_hold": False,
                        "hold_reason": "",
                        "purged_at": None,
                    }
                )
            conn.execute(insert(table), chunk)


def _time(fn: Callable[[], object], n: int) -> dict[str, float]:
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return {
        "p50_ms": round(statistics.median(samples), 3),
        "p99_ms": round(samples[min(len(samples) - 1, int(len(samples) * 0.99))], 3),
        "n": n,
    }


def _fresh_pg() -> tuple[str, Callable[[], None]]:
    import psycopg

    admin = os.environ.get("LENDLINE_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"lendline_bench_{os.getpid()}"

    def run(sql: str) -> None:
        with psycopg.connect(admin, autocommit=True) as c:
            c.execute(sql.encode())

    run(f'DROP DATABASE IF EXISTS "{name}"')
    run(f'CREATE DATABASE "{name}"')
    url = admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + "/" + name
    return url, lambda: run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_vault_bench(*, rows: int, database_url: str = "", queries: int = 200) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="lendline-bench-vault-"))
    cleanup: Callable[[], None] | None = None
    if database_url == "postgresql":
        database_url, cleanup = _fresh_pg()
    url = database_url or f"sqlite:///{tmp / 'bench.db'}"
    upgrade(url)
    db = Database(url)
    try:
        rng = random.Random(20261127)
        t = time.perf_counter()
        _seed(db, rows, rng)
        seed_s = time.perf_counter() - t
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE recordings")
        vault = RecordingVault(
            db,
            LocalBlobStore(tmp / "blobs"),
            VaultKeys(db, SystemClock(), b"b" * 32, tmp / "keys"),
            SystemClock(),
            RetentionRules(),
        )
        every = RowScope()
        customers = max(1, rows // 5)

        def day() -> datetime:
            return T0 + timedelta(days=rng.randrange(3 * 365))

        lookups: dict[str, Callable[[], object]] = {
            "by_call": lambda: vault.search(
                scope=every, call_id=f"call-{rng.randrange(rows):012d}"
            ),
            "by_customer": lambda: vault.search(
                scope=every, customer_id=f"C{rng.randrange(customers):07d}"
            ),
            "by_agent_and_week": lambda: (
                d := day(),
                vault.search(
                    scope=every,
                    agent_id=f"agent{rng.randrange(300):03d}",
                    since=d,
                    until=d + timedelta(days=7),
                ),
            ),
            "by_date_range_1h": lambda: (
                d := day(),
                vault.search(scope=every, since=d, until=d + timedelta(hours=1)),
            ),
            "team_lead_scoped_day": lambda: (
                d := day(),
                vault.search(
                    scope=RowScope(team_id=f"team{rng.randrange(10)}"),
                    since=d,
                    until=d + timedelta(days=1),
                ),
            ),
        }
        for fn in lookups.values():  # warm the caches once
            fn()
        results = {name: _time(fn, queries) for name, fn in lookups.items()}
        return {
            "rows": rows,
            "database": db.engine.dialect.name,
            "seed_s": round(seed_s, 1),
            "lookups": results,
            "target_p99_ms": 100,
        }
    finally:
        db.dispose()
        if cleanup:
            cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
