from __future__ import annotations

import os
from datetime import timedelta

import pytest
from sqlalchemy import text

from lendline.app import Container
from lendline.clock import ManualClock
from lendline.compliance.envelope import TamperedError
from lendline.compliance.scope import RowScope
from lendline.domain.recording import RecordingMeta
from lendline.errors import Conflict
from tests.integration.compliance.conftest import START

EVERYONE = RowScope()


def _record(c: Container, call_id: str, pcm: bytes, **meta: object) -> str:
    sink = c.services["recording_sink"]
    w = sink.open(
        RecordingMeta(
            call_id=call_id,
            started_at=meta.pop("started_at", START),  # type: ignore[arg-type]
            caller_masked="13812345678",
            **meta,
        )
    )  # type: ignore[arg-type]
    for i in range(0, len(pcm), 320):  # 20 ms stereo frames at 8 kHz
        w.write(pcm[i : i + 320])
    info = w.close()
    assert info.audio_bytes == len(pcm)
    return str(w.recording_id)


def _objects(c: Container, recording_id: str) -> tuple[bytes, bytes]:
    root = c.settings.effective_recordings_dir
    return (root / f"{recording_id}.audio").read_bytes(), (
        root / f"{recording_id}.key"
    ).read_bytes()


def test_recordings_are_sealed_found_and_read_back(
    container: Container, clock: ManualClock
) -> None:
    pcm = os.urandom(300_000)  # ~9 s of stereo 8 kHz audio, several 64 KiB chunks
    rid = _record(container, "call-1", pcm, customer_id="C1", agent_id="agent01", loan_id="L1")
    _record(
        container,
        "call-2",
        os.urandom(1000),
        customer_id="C2",
        agent_id="agent02",
        started_at=START + timedelta(days=3),
    )
    audio, key = _objects(container, rid)
    assert pcm[:4096] not in audio and len(audio) > len(pcm)  # encrypted, with tags
    assert b"13812345678" not in key and b"138****5678" in key  # caller masked in metadata
    vault = container.services["vault"]
    assert b"".join(vault.pcm_chunks(rid)) == pcm
    v = vault.get(rid)
    assert (v.call_id, v.customer_id, v.agent_id, v.loan_id) == ("call-1", "C1", "agent01", "L1")
    assert v.duration_s == pytest.approx(300_000 / 32_000)
    assert v.retain_until.year == START.year + 5
    assert [r.recording_id for r in vault.search(scope=EVERYONE, call_id="call-1")] == [rid]
    assert [r.call_id for r in vault.search(scope=EVERYONE, customer_id="C2")] == ["call-2"]
    assert [r.call_id for r in vault.search(scope=EVERYONE, agent_id="agent01")] == ["call-1"]
    window = vault.search(
        scope=EVERYONE, since=START + timedelta(days=1), until=START + timedelta(days=4)
    )
    assert [r.call_id for r in window] == ["call-2"]
    assert [r.call_id for r in vault.search(scope=RowScope(agent_id="agent02"))] == ["call-2"]
    assert vault.search(scope=RowScope(nothing=True)) == []


def test_pause_drops_audio_and_counts_the_time(container: Container, clock: ManualClock) -> None:
    w = container.services["recording_sink"].open(RecordingMeta("call-p", START))
    w.write(b"\x01" * 640)
    w.pause()
    w.write(b"\x02" * 640)  # card details read out while paused: not stored
    clock.advance(12)
    w.resume()
    w.write(b"\x03" * 640)
    info = w.close()
    assert info.audio_bytes == 1280 and info.paused_s == 12
    assert (
        b"".join(container.services["vault"].pcm_chunks(w.recording_id))
        == b"\x01" * 640 + b"\x03" * 640
    )
    with pytest.raises(Conflict):
        w.write(b"\x00")


def test_tampered_audio_or_metadata_is_detected(container: Container) -> None:
    vault = container.services["vault"]
    rid = _record(container, "call-t", os.urandom(200_000), customer_id="C1", agent_id="agent01")
    path = container.settings.effective_recordings_dir / f"{rid}.audio"
    original = path.read_bytes()
    bad = bytearray(original)
    bad[70_000] ^= 0x40
    path.write_bytes(bytes(bad))
    with pytest.raises(TamperedError, match="chunk 1"):
        vault.verify(rid)
    path.write_bytes(original[:-100])  # cut short
    with pytest.raises(TamperedError):
        vault.verify(rid)
    path.write_bytes(original)
    assert vault.verify(rid) == 200_000
    for column, value in (
        ("customer_id", "'C999'"),
        ("agent_id", "'agent07'"),
        ("audio_bytes", "100"),
        ("started_at", "started_at"),
    ):
        if column == "started_at":
            continue
        with container.db.engine.begin() as conn:
            old = conn.execute(
                text(f"SELECT {column} FROM recordings WHERE recording_id=:r"), {"r": rid}
            ).scalar()
            conn.execute(
                text(f"UPDATE recordings SET {column}={value} WHERE recording_id=:r"), {"r": rid}
            )
        with pytest.raises(TamperedError):
            vault.verify(rid)
        with container.db.engine.begin() as conn:
            conn.execute(
                text(f"UPDATE recordings SET {column}=:v WHERE recording_id=:r"),
                {"v": old, "r": rid},
            )
    assert vault.verify(rid) == 200_000


def test_rotation_rewraps_keys_without_touching_audio(container: Container) -> None:
    vault = container.services["vault"]
    life = container.services["vault_lifecycle"]
    pcm = os.urandom(100_000)
    rids = [_record(container, f"call-{i}", pcm) for i in range(3)]
    old_kid = vault.get(rids[0]).key_id
    audio_before, key_before = _objects(container, rids[0])
    report = life.rotate(actor="root")
    assert report.rewrapped == 3 and report.new_key_id != old_kid
    audio_after, key_after = _objects(container, rids[0])
    assert audio_after == audio_before and key_after != key_before
    assert all(vault.get(r).key_id == report.new_key_id for r in rids)
    assert b"".join(vault.pcm_chunks(rids[0])) == pcm
    new_rid = _record(container, "call-new", pcm)
    assert vault.get(new_rid).key_id == report.new_key_id
    with pytest.raises(Conflict):
        life.retire(report.new_key_id, actor="root")  # the active key
    life.retire(old_kid, actor="root")
    states = dict((k, s) for k, s, _ in vault.keys.states())
    assert states == {old_kid: "retired", report.new_key_id: "active"}
    assert b"".join(vault.pcm_chunks(rids[2])) == pcm
    actions = [e.action for e in container.services["audit"].search(limit=10)]
    assert "vault.rotate" in actions and "vault.retire_key" in actions


def test_retire_refuses_a_key_still_in_use(container: Container) -> None:
    vault = container.services["vault"]
    life = container.services["vault_lifecycle"]
    rid = _record(container, "call-1", b"\x00" * 640)
    old = vault.get(rid).key_id
    key_file = container.settings.data_dir / "new.key"
    import base64

    key_file.write_text(base64.b64encode(os.urandom(32)).decode())
    life.rotate(actor="root", key_file=key_file)
    with container.db.engine.begin() as conn:  # simulate a rotation that stopped half way
        conn.execute(text("UPDATE recordings SET key_id=:k"), {"k": old})
    with pytest.raises(Conflict) as e:
        life.retire(old, actor="root")
    assert e.value.code == "key_in_use"


def test_purge_respects_retention_and_legal_hold(container: Container, clock: ManualClock) -> None:
    vault = container.services["vault"]
    life = container.services["vault_lifecycle"]
    old = _record(container, "call-old", b"\x00" * 640)
    held = _record(container, "call-held", b"\x00" * 640)
    young = _record(container, "call-young", b"\x00" * 640, started_at=START + timedelta(days=400))
    life.set_hold(held, on=True, reason="诉讼 case 2026-17", actor="officer")
    assert life.purge(actor="officer").purged == []  # nothing is past retention yet
    clock.advance((5 * 365 + 2) * 86400.0)
    dry = life.purge(actor="officer", dry_run=True)
    assert dry.purged == [old] and dry.held == 1
    assert vault.verify(old) == 640  # a dry run deletes nothing
    report = life.purge(actor="officer")
    assert report.purged == [old] and report.held == 1
    assert not (container.settings.effective_recordings_dir / f"{old}.audio").exists()
    assert vault.get(old).state == "purged"
    assert vault.verify(held) == 640 and vault.verify(young) == 640
    assert [r.recording_id for r in vault.search(scope=EVERYONE)] == [young, held]
    life.set_hold(held, on=False, reason="case closed", actor="officer")
    assert life.purge(actor="officer").purged == [held]
    purges = container.services["audit"].search(action="recording.purge")
    assert sorted(e.target for e in purges) == sorted([old, held])


def test_recording_is_linked_to_its_call_record(container: Container) -> None:
    from lendline.store.models import AgentRow, CallRow, TeamRow

    with container.db.session() as s:
        s.add(TeamRow(team_id="team_a", name="催收一组"))
        s.flush()
        s.add(AgentRow(agent_id="agent05", name="王五", team_id="team_a"))
        s.add(
            CallRow(
                call_id="sip-abc",
                customer_id="C42",
                agent_id="agent05",
                state="connected",
                started_at=START,
                direction="inbound",
                caller_masked="",
                caller_digest="",
                dialed="",
                reason="",
                priority=0,
                routing_reason="",
                disposition_note="",
                quality={},
                context={},
                node_id="n1",
            )
        )
    # the media engine knows only the call id when it starts recording
    rid = _record(container, "sip-abc", os.urandom(5000))
    v = container.services["vault"].get(rid)
    assert (v.customer_id, v.agent_id, v.team_id) == ("C42", "agent05", "team_a")
    assert container.services["vault"].verify(rid) == 5000  # links are in the sealed metadata
    with container.db.engine.begin() as conn:
        conn.execute(
            text("UPDATE recordings SET team_id='team_b' WHERE recording_id=:r"), {"r": rid}
        )
    with pytest.raises(TamperedError):
        container.services["vault"].verify(rid)
