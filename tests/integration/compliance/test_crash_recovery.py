"""An unclean stop (crash, kill -9, power cut) keeps every call record and recording.

The "process" that dies is a container whose recording writers are never closed; the
restart is a second container on the same database and folders, as ``lendline serve``
builds after a crash. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from lendline.app import Container, build_container
from lendline.clock import ManualClock
from lendline.compliance.envelope import CHUNK_BYTES
from lendline.domain.recording import RecordingMeta
from lendline.settings import Settings
from lendline.store.models import CallRow
from lendline.store.models_compliance import RecordingRow
from lendline.web.app import create_app
from tests.integration.compliance.conftest import START

BYTES_PER_S = 8000 * 2 * 2  # stereo 16-bit at 8 kHz


def _live_call(c: Container, call_id: str, node: str = "node-1") -> None:
    with c.db.session() as s:
        s.add(
            CallRow(
                call_id=call_id,
                state="connected",
                started_at=START,
                answered_at=START + timedelta(seconds=5),
                agent_id="agent01",
                node_id=node,
            )
        )


def _writing(c: Container, call_id: str, pcm: bytes) -> tuple[str, object]:
    """A recording being written when the process dies: never closed."""
    w = c.services["recording_sink"].open(
        RecordingMeta(call_id=call_id, started_at=START, caller_masked="13812345678")
    )
    for i in range(0, len(pcm), 320):  # 20 ms stereo frames
        w.write(pcm[i : i + 320])
    return str(w.recording_id), w


def _restarted(settings: Settings, clock: ManualClock) -> Container:
    return build_container(settings, clock=clock)


def _row(c: Container, recording_id: str) -> RecordingRow:
    with c.db.session() as s:
        row = s.get(RecordingRow, recording_id)
        assert row is not None
        s.expunge(row)
        return row


def test_a_recording_cut_by_a_crash_is_kept_up_to_its_last_whole_chunk(
    container: Container, settings: Settings, clock: ManualClock
) -> None:
    pcm = os.urandom(300_000)  # 9.4 s: four whole 64 KiB chunks reach the disk
    _live_call(container, "call-crash")
    rid, _writer = _writing(container, "call-crash", pcm)
    assert _row(container, rid).state == "recording"

    after = _restarted(settings, clock)
    outcomes = after.services["vault"].recover_interrupted("node-1")
    assert [(o.recording_id, o.outcome, o.chunks) for o in outcomes] == [(rid, "recovered", 4)]
    vault = after.services["vault"]
    kept = 4 * CHUNK_BYTES
    assert b"".join(vault.pcm_chunks(rid)) == pcm[:kept]
    assert vault.verify(rid) == kept
    row = _row(after, rid)
    assert row.state == "sealed" and row.audio_bytes == kept
    assert abs(row.duration_s - kept / BYTES_PER_S) < 1e-9
    assert row.ended_at == START + timedelta(seconds=row.duration_s)
    assert b"".join(vault.pcm_range(rid, 100_000, 200_000)) == pcm[100_000:200_001]
    folder = settings.effective_recordings_dir
    assert sorted(p.name for p in folder.glob(f"{rid}*")) == [f"{rid}.audio", f"{rid}.key"]
    assert after.services["vault"].recover_interrupted("node-1") == []  # done once


def test_a_torn_last_write_and_a_short_recording(
    container: Container, settings: Settings, clock: ManualClock
) -> None:
    _live_call(container, "call-torn")
    _live_call(container, "call-short")
    pcm = os.urandom(200_000)  # three whole chunks reach the disk
    torn, _w1 = _writing(container, "call-torn", pcm)
    short, _w2 = _writing(container, "call-short", os.urandom(30_000))  # < one chunk
    part = settings.effective_recordings_dir / f"{torn}.audio.part"
    with open(part, "ab") as f:
        f.write(os.urandom(1_000))  # the process died inside a chunk
    after = _restarted(settings, clock)
    outcomes = {o.recording_id: o for o in after.services["vault"].recover_interrupted("node-1")}
    assert outcomes[torn].outcome == "recovered" and outcomes[torn].chunks == 3
    assert b"".join(after.services["vault"].pcm_chunks(torn)) == pcm[: 3 * CHUNK_BYTES]
    # nothing whole reached the disk: kept as an empty, sealed, verifiable recording
    assert outcomes[short].outcome == "recovered" and outcomes[short].chunks == 0
    assert after.services["vault"].verify(short) == 0
    assert _row(after, short).state == "sealed"


def test_a_recording_finished_on_disk_but_not_in_the_index_is_completed(
    container: Container, settings: Settings, clock: ManualClock
) -> None:
    _live_call(container, "call-done")
    pcm = os.urandom(150_000)
    rid, w = _writing(container, "call-done", pcm)
    w._blob.write(w._sealer.finish())  # type: ignore[attr-defined]
    w._blob.close()  # type: ignore[attr-defined]  # then the process died
    after = _restarted(settings, clock)
    [outcome] = after.services["vault"].recover_interrupted("node-1")
    assert outcome.outcome == "completed"
    assert b"".join(after.services["vault"].pcm_chunks(rid)) == pcm


def test_other_nodes_and_open_writers_are_left_alone(
    container: Container, settings: Settings, clock: ManualClock
) -> None:
    _live_call(container, "call-node2", node="node-2")
    _live_call(container, "call-live")
    container.services["vault"].node_id = "node-2"  # written by node-2's process
    theirs, _w1 = _writing(container, "call-node2", os.urandom(100_000))
    container.services["vault"].node_id = "node-1"
    ours_live, w2 = _writing(container, "call-live", os.urandom(100_000))
    # the same process: its writer is still open, so nothing is recovered
    assert container.services["vault"].recover_interrupted("node-1") == []
    w2.close()  # type: ignore[attr-defined]
    after = _restarted(settings, clock)
    assert after.services["vault"].recover_interrupted("node-1") == []
    assert _row(after, theirs).state == "recording"  # node-2 may still be writing it
    assert _row(after, ours_live).state == "sealed"


def test_restart_closes_open_call_records_and_audits_both(
    container: Container, settings: Settings, clock: ManualClock
) -> None:
    _live_call(container, "call-a")
    _live_call(container, "call-b")
    _live_call(container, "call-other", node="node-2")
    rid, _w = _writing(container, "call-a", os.urandom(100_000))
    clock.advance(60.0)
    after = _restarted(settings, clock)
    with TestClient(create_app(after)):  # start-up: lendline serve after the crash
        with after.db.session() as s:
            rows = {r.call_id: r for r in s.scalars(select(CallRow))}
        for call_id in ("call-a", "call-b"):
            r = rows[call_id]
            assert (r.state, r.end_reason) == ("ended", "interrupted")
            assert r.ended_at == START + timedelta(seconds=60)
            assert r.agent_id == "agent01" and r.answered_at is not None  # nothing lost
        assert rows["call-other"].ended_at is None  # another node's live call
        assert _row(after, rid).state == "sealed"
        audit = after.services["audit"]
        [calls] = audit.search(action="call.interrupted", limit=5)
        assert "2 call record(s)" in calls.detail and "call-a" in calls.detail
        [rec] = audit.search(action="recording.recover", limit=5)
        assert rec.target == rid and rec.outcome == "recovered"


async def test_a_second_process_with_the_same_node_id_recovers_nothing(
    container: Container, settings: Settings, clock: ManualClock, tmp_path: Path
) -> None:
    """A second ``lendline serve`` as the same node (a mistake, a rolling update) must not
    close the live node's calls or cut its recordings: only the lease holder recovers."""
    await container.start()
    try:
        assert container.owns_node
        _live_call(container, "call-live")
        pcm = os.urandom(200_000)
        rid, writer = _writing(container, "call-live", pcm)
        second = _restarted(settings, clock)  # same data folder, same database
        await second.start()
        try:
            assert not second.owns_node
        finally:
            await second.stop()
        if settings.effective_database_url.startswith("postgresql"):
            # another machine: its own data folder, the same database and node id
            elsewhere = _restarted(
                settings.model_copy(update={"data_dir": tmp_path / "elsewhere"}), clock
            )
            await elsewhere.start()
            try:
                assert not elsewhere.owns_node
            finally:
                await elsewhere.stop()
        with container.db.session() as s:
            row = s.get(CallRow, "call-live")
            assert row is not None and row.ended_at is None  # still live
        assert _row(container, rid).state == "recording"
        writer.close()  # type: ignore[attr-defined]  # the live call ends normally
        assert b"".join(container.services["vault"].pcm_chunks(rid)) == pcm
    finally:
        await container.stop()
    # the live process gone, the next start owns the node again
    third = _restarted(settings, clock)
    await third.start()
    try:
        assert third.owns_node
    finally:
        await third.stop()


def test_a_recording_whose_call_record_never_reached_the_database_is_recovered(
    container: Container, settings: Settings, clock: ManualClock
) -> None:
    """Call records are written behind (up to a second late); a crash in a call's first
    second leaves a recording without one. The recording knows its node itself."""
    pcm = os.urandom(140_000)  # two whole chunks
    rid, _w = _writing(container, "call-too-young", pcm)
    after = _restarted(settings, clock)
    [outcome] = after.services["vault"].recover_interrupted("node-1")
    assert (outcome.recording_id, outcome.outcome, outcome.chunks) == (rid, "recovered", 2)
    assert after.services["vault"].recover_interrupted("node-2") == []


def test_a_crash_after_the_final_chunk_was_written_keeps_the_whole_recording(
    container: Container, settings: Settings, clock: ManualClock
) -> None:
    _live_call(container, "call-final")
    pcm = os.urandom(150_000)  # two whole chunks and a short final one
    rid, w = _writing(container, "call-final", pcm)
    w._blob.write(w._sealer.finish())  # type: ignore[attr-defined]
    w._blob._f.flush()  # type: ignore[attr-defined]  # on disk; then the process died
    after = _restarted(settings, clock)
    [outcome] = after.services["vault"].recover_interrupted("node-1")
    assert (outcome.outcome, outcome.chunks) == ("completed", 2)
    assert b"".join(after.services["vault"].pcm_chunks(rid)) == pcm  # nothing lost
    assert after.services["vault"].verify(rid) == len(pcm)


async def test_a_failed_start_gives_the_node_back(
    container: Container, settings: Settings, clock: ManualClock
) -> None:
    async def port_in_use() -> None:
        raise OSError("address already in use")

    container.on_start(port_in_use)
    with pytest.raises(OSError):
        await container.start()
    try:
        assert not container.owns_node
        other = _restarted(settings, clock)
        await other.start()
        try:
            assert other.owns_node
        finally:
            await other.stop()
    finally:
        await container.stop()


async def test_the_lease_survives_its_database_session_dying_unless_taken_meanwhile(
    container: Container, settings: Settings, clock: ManualClock, tmp_path: Path
) -> None:
    """PostgreSQL's advisory lock dies with its session (a restart, a network cut): the
    node takes it again on a new connection, or learns another process has the node."""
    if not settings.effective_database_url.startswith("postgresql"):
        pytest.skip("the advisory lock is PostgreSQL's; SQLite has only the file lock")
    from sqlalchemy import text

    def kill_lease_session(lease: object) -> None:
        conn = lease._conn  # type: ignore[attr-defined]
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        conn.commit()
        with container.db.engine.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
            other.commit()

    await container.start()
    try:
        lease = container.services["node_lease"]
        assert lease.check()
        kill_lease_session(lease)
        assert lease.check()  # taken again on a new connection
        kill_lease_session(lease)
        elsewhere = _restarted(
            settings.model_copy(update={"data_dir": tmp_path / "elsewhere"}), clock
        )
        await elsewhere.start()  # another machine, same node id, got in first
        try:
            assert elsewhere.owns_node
            assert not lease.check() and lease.lost
        finally:
            await elsewhere.stop()
    finally:
        await container.stop()
