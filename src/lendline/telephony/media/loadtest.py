"""The media load test behind ``lendline bench media``.

N sessions in this process play audio (music on hold) through the one shared scheduler to
a receiver in a separate process, which timestamps every datagram in the kernel
(``SO_TIMESTAMPNS``, so the receiver's own scheduling does not blur the figures) and
reports per packet ``|interarrival − 20 ms|`` and per stream the RFC 3550 jitter and loss.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import resource
import socket
import struct
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from lendline.telephony.media.hold import MusicOnHold
from lendline.telephony.media.scheduler import MediaScheduler
from lendline.telephony.media.session import MediaSession

_SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)


@dataclass
class MediaBenchResult:
    calls: int
    seconds: float
    packets_sent: int
    packets_received: int
    packets_lost: int
    interarrival_dev_p50_ms: float
    interarrival_dev_p99_ms: float
    interarrival_dev_max_ms: float
    rfc3550_jitter_p99_ms: float  # over streams, of each stream's final estimate
    rfc3550_jitter_max_ms: float
    scheduler_max_late_ms: float
    scheduler_skipped_frames: int  # per call: frames not sent after stalls > 60 ms
    cpu_percent: float
    rss_per_call_kib: float
    target_met: bool
    niceness: int = 0
    sched_policy: str = "other"
    load_avg_1m: float = 0.0
    per_packet_p99_within_target: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _rss_kib() -> int:
    with open(f"/proc/{os.getpid()}/statm") as f:
        return int(f.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)


def _receiver(port_q: Any, result_q: Any, seconds: float) -> None:
    """Child process: receive, kernel-timestamp, and summarise per SSRC."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.5)
    port_q.put(sock.getsockname()[1])
    streams: dict[int, list[tuple[float, int, int]]] = {}
    end = None
    while True:
        try:
            data, anc, _flags, _addr = sock.recvmsg(2048, 64)
        except TimeoutError:
            if end is not None and time.monotonic() > end:
                break
            continue
        if end is None:
            end = time.monotonic() + seconds + 1.0
        if len(data) < 12 or 192 <= data[1] <= 223:
            continue
        t = time.time()
        for level, kind, payload in anc:
            if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS:
                sec, nsec = struct.unpack("qq", payload[:16])
                t = sec + nsec / 1e9
        seq, ts, ssrc = struct.unpack_from("!HII", data, 2)
        streams.setdefault(ssrc, []).append((t, seq, ts))
        if time.monotonic() > end:
            break
    devs: list[npt.NDArray[np.float64]] = []
    jitters, received, lost = [], 0, 0
    for pkts in streams.values():
        arr = np.array([p[0] for p in pkts])
        seqs = np.unwrap(np.array([p[1] for p in pkts], dtype=np.float64), period=65536)
        tss = np.array([p[2] for p in pkts], dtype=np.float64)
        received += len(pkts)
        lost += int(seqs.max() - seqs.min() + 1 - len(np.unique(seqs)))
        if len(arr) > 2:
            devs.append(np.abs(np.diff(arr) - 0.020) * 1000)
            d = np.abs(np.diff(arr * 8000 - tss))
            j = 0.0
            for x in d:
                j += (x - j) / 16
            jitters.append(j / 8.0)
    dev = np.concatenate(devs) if devs else np.zeros(1)
    result_q.put(
        {
            "received": received,
            "lost": lost,
            "dev_p50": float(np.percentile(dev, 50)),
            "dev_p99": float(np.percentile(dev, 99)),
            "dev_max": float(dev.max()),
            "jit_p99": float(np.percentile(jitters, 99)) if jitters else 0.0,
            "jit_max": float(max(jitters)) if jitters else 0.0,
        }
    )


async def run_media_bench(calls: int, seconds: float) -> MediaBenchResult:
    ctx = mp.get_context("spawn")
    port_q, result_q = ctx.Queue(), ctx.Queue()
    proc = ctx.Process(target=_receiver, args=(port_q, result_q, seconds), daemon=True)
    proc.start()
    port = port_q.get(timeout=30)
    scheduler = MediaScheduler()
    rss0 = _rss_kib()
    sessions = [await MediaSession.open(scheduler, call_id=f"bench-{i}") for i in range(calls)]
    for s in sessions:
        s.connect("127.0.0.1", port, payload_type=0)
        s.start_hold(MusicOnHold())
    rss1 = _rss_kib()
    cpu0, wall0 = time.process_time(), time.monotonic()
    await asyncio.sleep(seconds)
    cpu = (time.process_time() - cpu0) / (time.monotonic() - wall0) * 100
    sent = sum(s.stream.packets_sent for s in sessions if s.stream is not None)
    for s in sessions:
        await s.close()
    pacer = scheduler.pacer
    await scheduler.close()
    r = result_q.get(timeout=60)
    proc.join(timeout=10)
    rss_per_call = (max(rss1, _rss_kib()) - rss0) / max(1, calls)
    return MediaBenchResult(
        calls=calls,
        seconds=seconds,
        packets_sent=sent,
        packets_received=r["received"],
        packets_lost=r["lost"] + max(0, sent - r["received"] - r["lost"]),
        interarrival_dev_p50_ms=round(r["dev_p50"], 3),
        interarrival_dev_p99_ms=round(r["dev_p99"], 3),
        interarrival_dev_max_ms=round(r["dev_max"], 3),
        rfc3550_jitter_p99_ms=round(r["jit_p99"], 3),
        rfc3550_jitter_max_ms=round(r["jit_max"], 3),
        scheduler_max_late_ms=round(scheduler.max_lateness_s * 1000, 3),
        scheduler_skipped_frames=pacer.skipped if pacer else 0,
        cpu_percent=round(cpu, 1),
        rss_per_call_kib=round(rss_per_call, 1),
        target_met=False,
        niceness=os.nice(0),
        sched_policy={os.SCHED_RR: "rr", os.SCHED_FIFO: "fifo"}.get(
            os.sched_getscheduler(0), "other"
        ),
        load_avg_1m=round(os.getloadavg()[0], 2),
    )


def peak_rss_kib() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
