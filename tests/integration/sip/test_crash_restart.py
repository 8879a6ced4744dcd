"""kill -9 during a real SIP call, then restart: the call record, the recording so far
and the audit trail are all kept (``lendline serve`` in a child process, SIPp calling it,
on SQLite and PostgreSQL)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from lendline.app import build_container
from lendline.store.models import CallRow
from lendline.store.models_compliance import RecordingRow
from tests.conftest import make_settings

from .conftest import SCENARIOS, free_udp_port, needs_sipp

pytestmark = [needs_sipp, pytest.mark.sipp]

SEALED_CHUNK = 64 * 1024 + 16


def _free_port() -> int:
    """A port free for TCP and UDP alike (SIP listens on both)."""
    for _ in range(50):
        port = free_udp_port()
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


class Serve:
    """``lendline serve`` as its own process."""

    def __init__(self, env: dict[str, str], http_port: int, log: Path) -> None:
        self.env, self.http_port, self.log = env, http_port, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        out = open(self.log, "ab")  # noqa: SIM115 - the child owns it until it exits
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from lendline.cli import main; main()", "serve"],
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text(errors="replace")[-3000:]
            try:
                if httpx.get(f"http://127.0.0.1:{self.http_port}/healthz", timeout=1).is_success:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError("lendline serve did not come up: " + self.log.read_text()[-3000:])

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)
        self.proc.wait(timeout=60)


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> Iterator[dict[str, str]]:
    settings = make_settings(tmp_path, database_url)
    yield {
        **os.environ,
        "LENDLINE_DATA_DIR": str(settings.data_dir),
        "LENDLINE_DATABASE_URL": database_url,
        "LENDLINE_MASTER_KEY": str(settings.master_key),
        "LENDLINE_SESSION_SECRET": "test-secret",
        "LENDLINE_HTTP_PORT": str(_free_port()),
        "LENDLINE_SIP_PORT": str(_free_port()),
        "LENDLINE_RTP_PORT_MIN": "0",
        "LENDLINE_RTP_PORT_MAX": "0",
        "LENDLINE_NLU_MODEL": "baseline",
        "LENDLINE_LOG_LEVEL": "INFO",
    }


@contextlib.contextmanager
def _recorded_call(
    env: dict[str, str], tmp_path: Path, *, on_disk: int
) -> Iterator[tuple[Serve, Path]]:
    """``lendline serve`` with a SIPp caller talking to its IVR; yields once the call's
    recording has ``on_disk`` bytes in the store. The caller is killed on the way out."""
    recordings = Path(env["LENDLINE_DATA_DIR"]) / "recordings"
    server = Serve(env, int(env["LENDLINE_HTTP_PORT"]), tmp_path / "serve.log")
    server.start()
    sipp = subprocess.Popen(
        [
            "sipp", f"127.0.0.1:{env['LENDLINE_SIP_PORT']}",
            "-sf", str(SCENARIOS / "call_talk_long.xml"), "-s", "ivr",
            "-i", "127.0.0.1", "-p", str(free_udp_port()),
            "-mi", "127.0.0.1", "-mp", str(free_udp_port()),
            "-m", "1", "-nostdin", "-timeout", "60s",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        part: Path | None = None
        while part is None and time.monotonic() < deadline:
            parts = list(recordings.glob("*.audio.part")) if recordings.is_dir() else []
            if parts and parts[0].stat().st_size >= on_disk:
                part = parts[0]
            time.sleep(0.1)
        assert part is not None, "the call was not being recorded"
        yield server, part
    finally:
        sipp.kill()
        sipp.wait()


def test_kill_9_mid_call_then_restart_keeps_record_recording_and_audit(
    env: dict[str, str], tmp_path: Path, database_url: str
) -> None:
    recordings = Path(env["LENDLINE_DATA_DIR"]) / "recordings"
    # two whole sealed chunks of the call's recording on disk, and its call record
    # flushed (at least once a second), then no clean-up of any kind
    with _recorded_call(env, tmp_path, on_disk=2 * SEALED_CHUNK) as (server, part):
        time.sleep(1.5)
        server.signal(signal.SIGKILL)
    recording_id = part.name.split(".")[0]
    assert part.exists() and not (recordings / f"{recording_id}.audio").exists()

    server.start()  # the restart finds what the dead process left
    server.signal(signal.SIGTERM)
    c = build_container(make_settings(tmp_path, database_url))
    try:
        with c.db.session() as s:
            rec = s.get(RecordingRow, recording_id)
            assert rec is not None and rec.state == "sealed"
            call = s.scalar(select(CallRow).where(CallRow.call_id == rec.call_id))
            assert call is not None
            assert (call.state, call.end_reason) == ("ended", "interrupted")
            assert call.ended_at is not None
            audio_bytes = rec.audio_bytes
        assert audio_bytes >= 2 * 64 * 1024
        assert c.services["vault"].verify(recording_id) == audio_bytes
        audit = c.services["audit"]
        assert [e.target for e in audit.search(action="recording.recover", limit=5)] == [
            recording_id
        ]
        [closed] = audit.search(action="call.interrupted", limit=5)
        assert rec.call_id in closed.detail
    finally:
        c.db.dispose()


def test_a_clean_stop_mid_call_ends_the_call_and_seals_its_recording_itself(
    env: dict[str, str], tmp_path: Path, database_url: str
) -> None:
    with _recorded_call(env, tmp_path, on_disk=1) as (server, _part):
        time.sleep(3.0)
        server.signal(signal.SIGTERM)  # an operator's restart: not a crash
    c = build_container(make_settings(tmp_path, database_url))
    try:
        with c.db.session() as s:
            [rec] = s.scalars(select(RecordingRow)).all()
            call = s.get(CallRow, rec.call_id)
            assert rec.state == "sealed" and rec.audio_bytes > 0
            assert call is not None and call.state == "ended"
            assert call.end_reason == "interrupted"  # we cut it: not the caller abandoning
        assert c.services["vault"].verify(rec.recording_id) == rec.audio_bytes
        assert c.services["vault"].recover_interrupted("node-1") == []  # nothing left open
    finally:
        c.db.dispose()
