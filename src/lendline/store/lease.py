"""This process's claim on its ``node_id``, held for as long as it runs.

Crash recovery at start-up closes the call records and seals the recordings a node left
open. That is only safe if no other process is running as the same node — a second
``lendline serve`` started by mistake, an admin instance, the next pod of a rolling
update — or it would close that process's live calls and cut its live recordings. The
lease is two locks, both released by the operating system or the database when the
process dies, so a crash never leaves a stale claim:

* an exclusive ``flock`` on ``<data_dir>/locks/node-<id>.lock`` (processes sharing the
  data folder: the embedded SQLite set-up, local recordings);
* with PostgreSQL, a session advisory lock keyed by the node id, on a connection kept
  open (nodes on other machines sharing the database; advisory locks are per database).

Who cannot take the lease runs normally but recovers nothing, and says so.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import re
from pathlib import Path
from typing import IO, Any

from sqlalchemy import text

from lendline.store.base import Database


def _advisory_key(node_id: str) -> int:
    digest = hashlib.sha256(f"lendline-node:{node_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _try_lock(conn: Any, node_id: str) -> bool:
    got = bool(
        conn.execute(
            text("SELECT pg_try_advisory_lock(:k)"), {"k": _advisory_key(node_id)}
        ).scalar()
    )
    conn.commit()  # the lock is the session's, not the transaction's
    return got


class NodeLease:
    def __init__(
        self, node_id: str, lock_file: IO[str], pg_connection: Any | None, db: Database
    ) -> None:
        self.node_id = node_id
        self._file: IO[str] | None = lock_file
        self._conn = pg_connection
        self._db = db
        self.lost = False  # another process took the node while this one ran

    def check(self) -> bool:
        """Still ours? The PostgreSQL lock dies with its session (a database restart, a
        network cut): then it is taken again on a new connection if nobody else has it.
        ``False`` means another process holds the node now (the caller says so loudly)."""
        if self.lost:
            return False
        if self._conn is None:
            return self._file is not None  # the file lock lasts as long as the process
        try:
            key = {"k": _advisory_key(self.node_id)}
            held = _try_lock(self._conn, self.node_id)  # re-entrant: ours → true
            if held:
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), key)  # count back
                self._conn.commit()
            return held
        except Exception:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = self._db.engine.connect()
            if _try_lock(self._conn, self.node_id):
                return True
            self._conn.close()
            self._conn = None
            self.lost = True
            return False

    def release(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):  # the connection may already be gone
                self._conn.execute(
                    text("SELECT pg_advisory_unlock(:k)"), {"k": _advisory_key(self.node_id)}
                )
                self._conn.commit()
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None
        if self._file is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def acquire_node_lease(db: Database, data_dir: Path, node_id: str) -> NodeLease | None:
    """The lease on ``node_id``, or ``None`` when another live process holds it."""
    folder = data_dir / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", node_id)
    f = open(folder / f"node-{safe}.lock", "a+")  # noqa: SIM115 - held until release()
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.close()
        return None
    conn = None
    if db.engine.dialect.name == "postgresql":
        try:
            conn = db.engine.connect()
            got = _try_lock(conn, node_id)
        except BaseException:
            fcntl.flock(f, fcntl.LOCK_UN)
            f.close()
            raise
        if not got:
            conn.close()
            fcntl.flock(f, fcntl.LOCK_UN)
            f.close()
            return None
    return NodeLease(node_id, f, conn, db)
