"""``lendline bench sip``: SIPp UAC calls against lendline and against SIPp's own UAS.

Each rate step runs ``sipp -sn uac`` (INVITE/100?/180?/200/ACK/BYE/200, no media) for
``seconds`` at ``rate`` calls/s against (1) a lendline SIP server in a child process with
full transactions and a call record written per call (batched), and (2) ``sipp -sn uas``.
A step passes when every call succeeded and the achieved rate is ≥ 95 % of the target;
the sustained figure is the highest passing rate.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class SippRun:
    target: str
    rate: int
    calls: int
    successful: int
    failed: int
    retransmissions: int
    elapsed_s: float
    achieved_cps: float
    records: int | None = None  # call records the server wrote in this step (lendline only)

    @property
    def passed(self) -> bool:
        complete = self.records is None or self.records == self.calls
        return (
            self.failed == 0
            and self.successful == self.calls
            and self.achieved_cps >= 0.95 * self.rate
            and complete
        )


def free_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind(("127.0.0.1", 0))
            port = int(u.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                try:
                    t.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free port")


def run_sipp_uac(target: str, rate: int, calls: int, workdir: Path) -> SippRun:
    stf = workdir / f"stat-{target.replace(':', '_')}-{rate}.csv"
    cmd = [
        "sipp",
        "-sn",
        "uac",
        target,
        "-r",
        str(rate),
        "-m",
        str(calls),
        "-l",
        str(max(rate * 3, 100)),
        "-p",
        str(free_port()),
        "-i",
        "127.0.0.1",
        "-nostdin",
        "-trace_stat",
        "-stf",
        str(stf),
        "-fd",
        "1",
        "-timeout",
        "120s",
        "-timeout_error",
        "-recv_timeout",
        "20000",
    ]
    subprocess.run(cmd, cwd=workdir, capture_output=True, timeout=180, check=False)
    header, *rows = stf.read_text().splitlines()
    cols = header.split(";")
    last = dict(zip(cols, rows[-1].split(";"), strict=False))
    started = float(last["StartTime"].split("\t")[-1])
    ended = float(last["CurrentTime"].split("\t")[-1])
    ok = int(last["SuccessfulCall(C)"])
    elapsed = max(ended - started, 0.001)
    return SippRun(
        target,
        rate,
        calls,
        ok,
        int(last["FailedCall(C)"]),
        int(last["Retransmissions(C)"]),
        round(elapsed, 3),
        round(ok / elapsed, 1),
    )


def run(rates: list[int], seconds: int, database_url: str | None) -> dict[str, object]:
    """The whole benchmark; returns figures (printed by the CLI)."""
    workdir = Path(tempfile.mkdtemp(prefix="lendline-bench-sip-"))
    db_url = database_url or f"sqlite:///{workdir / 'bench.db'}"
    from lendline.store.migrate import upgrade

    upgrade(db_url)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "lendline.telephony.bench", str(port), db_url],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    assert server.stdout is not None
    server.stdout.readline()  # "ready"
    uas_port = free_port()
    uas = subprocess.Popen(
        ["sipp", "-sn", "uas", "-i", "127.0.0.1", "-p", str(uas_port), "-nostdin"],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    steps: list[dict[str, Any]] = []
    try:
        time.sleep(0.5)
        for rate in rates:
            calls = rate * seconds
            before = _count_records(db_url)
            ours = run_sipp_uac(f"127.0.0.1:{port}", rate, calls, workdir)
            time.sleep(1.0)  # the writer flushes every 0.25 s
            ours = replace(ours, records=_count_records(db_url) - before)
            ref = run_sipp_uac(f"127.0.0.1:{uas_port}", rate, calls, workdir)
            steps.append(
                {
                    "rate": rate,
                    "lendline": asdict(ours) | {"passed": ours.passed},
                    "sipp_uas": asdict(ref) | {"passed": ref.passed},
                }
            )
            time.sleep(1.0)
    finally:
        server.send_signal(signal.SIGINT)
        out, _ = server.communicate(timeout=60)
        uas.terminate()
        uas.wait(timeout=10)
    server_stats = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
    best = max((s["rate"] for s in steps if s["lendline"]["passed"]), default=0)
    best_ref = max((s["rate"] for s in steps if s["sipp_uas"]["passed"]), default=0)
    return {
        "sustained_cps": best,
        "sipp_uas_sustained_cps": best_ref,
        "ratio": round(best / best_ref, 2) if best_ref else None,
        "seconds_per_step": seconds,
        "database": db_url.split(":", 1)[0],
        "steps": steps,
        "server": server_stats,
    }


def _count_records(db_url: str) -> int:
    """Call records in the bench database: each step must add one per call (SIPp alone
    would accept a late 2xx to the INVITE as the answer to its BYE)."""
    from sqlalchemy import func, select

    from lendline.store.base import Database
    from lendline.store.models import CallRow

    db = Database(db_url)
    try:
        with db.session() as s:
            return int(s.scalar(select(func.count()).select_from(CallRow)) or 0)
    finally:
        db.dispose()


def _serve(port: int, db_url: str) -> None:
    """Child process: a lendline SIP server answering every call, writing call records."""
    from lendline.store.base import Database
    from lendline.telephony.answering import AnsweringHandler
    from lendline.telephony.records import CallRecordWriter
    from lendline.telephony.server import SipServer

    async def main() -> None:
        import gc

        gc.freeze()  # what exists at start-up is long-lived
        gc.set_threshold(20_000, 50, 100)  # fewer young collections under 60 k live transactions
        writer = CallRecordWriter(Database(db_url))
        writer.start()
        handler = AnsweringHandler(writer)
        server = SipServer(handler, host="127.0.0.1", port=port)
        await server.start()
        print("ready", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGINT, stop.set)
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
        await server.stop()
        writer.close()
        import resource

        usage = resource.getrusage(resource.RUSAGE_SELF)
        cpu_s = usage.ru_utime + usage.ru_stime
        stats: dict[str, object] = {
            "records_written": writer.written,
            "records_failed": writer.failed,
            "cpu_s": round(cpu_s, 2),
            "cpu_us_per_call": round(cpu_s / max(handler.counters["answered"], 1) * 1e6),
        }
        stats |= handler.counters | server.ua.endpoint.counters
        states: dict[str, int] = {}
        for session in server.ua.sessions.values():
            states[session.state.value] = states.get(session.state.value, 0) + 1
        stats["dialogs_left"] = states
        print(json.dumps(stats), flush=True)

    try:
        import uvloop

        uvloop.run(main())
    except ImportError:
        asyncio.run(main())


if __name__ == "__main__":
    _serve(int(sys.argv[1]), sys.argv[2])
