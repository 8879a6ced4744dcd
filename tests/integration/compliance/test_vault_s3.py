"""The recording vault with ``vault_store=s3``, end to end against a real S3 server.

The container is built from settings as in production (``LENDLINE_VAULT_STORE=s3``); the
server is the ``s3_endpoint`` fixture's SeaweedFS (or ``LENDLINE_TEST_S3_ENDPOINT``). Each
test gets its own bucket. What the local-folder tests prove about the vault's logic is not
repeated here: these check what the object store changes (multipart objects, ranged reads,
overwritten objects, deletes).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from lendline.app import Container
from lendline.clock import ManualClock
from lendline.compliance.envelope import TamperedError
from lendline.compliance.rbac import Role
from lendline.domain.recording import RecordingMeta
from lendline.errors import NotFound
from lendline.settings import Settings
from lendline.vault.s3 import PART_BYTES, S3BlobStore
from tests.conftest import make_settings
from tests.helpers import login
from tests.integration.compliance.conftest import START
from tests.s3server import S3Endpoint

SECOND = 32_000  # bytes of stereo 16-bit PCM at 8 kHz


@pytest.fixture
def settings(tmp_path: Path, database_url: str, s3_endpoint: S3Endpoint) -> Settings:
    return make_settings(
        tmp_path,
        database_url,
        vault_store="s3",
        vault_s3_endpoint=s3_endpoint.url,
        vault_s3_bucket=s3_endpoint.new_bucket_name(),
        vault_s3_access_key=s3_endpoint.access_key,
        vault_s3_secret_key=s3_endpoint.secret_key,
    )


def _store(c: Container) -> S3BlobStore:
    store = c.services["vault"].blobs
    assert isinstance(store, S3BlobStore)
    return store


def _record(c: Container, call_id: str, pcm: bytes, **meta: object) -> str:
    w = c.services["recording_sink"].open(
        RecordingMeta(call_id, meta.pop("started_at", START), **meta)  # type: ignore[arg-type]
    )
    for i in range(0, len(pcm), SECOND):  # the media engine writes about a second at a time
        w.write(pcm[i : i + SECOND])
    assert w.close().audio_bytes == len(pcm)
    return str(w.recording_id)


def test_a_long_recording_on_s3_plays_back_byte_identical_through_the_api(
    client: TestClient, container: Container, users: dict[Role, str]
) -> None:
    pcm = os.urandom(PART_BYTES + 40 * SECOND + 1234)  # ~4.9 min: a 2-part upload
    rid = _record(container, "call-long", pcm, customer_id="C1", agent_id="agent01")
    store = _store(container)
    stat = store._client.stat_object(store.bucket, f"{rid}.audio")
    assert stat.etag.endswith("-2")  # went up as a multipart upload
    raw = store.get(f"{rid}.audio")
    assert pcm[:4096] not in raw and len(raw) > len(pcm)  # only ciphertext reaches the bucket
    agent = login(client, users[Role.AGENT])
    url = f"/api/v1/recordings/{rid}/audio"
    r = client.get(url, headers=agent, params={"reason": "复核通话"})
    assert r.status_code == 200 and r.headers["content-type"] == "audio/wav"
    assert r.content[:4] == b"RIFF" and r.content[44:] == pcm
    # seeking: ranged reads of the S3 object, one across the boundary of the two parts
    cut = 44 + PART_BYTES - 5000
    for a, b in ((0, 100), (cut, cut + 20_000), (len(r.content) - 10, len(r.content))):
        part = client.get(
            url, headers={**agent, "Range": f"bytes={a}-{b - 1}"}, params={"reason": "跳到中段"}
        )
        assert part.status_code == 206 and part.content == r.content[a:b], (a, b)


def test_a_tampered_object_on_s3_is_refused(
    client: TestClient, container: Container, users: dict[Role, str]
) -> None:
    vault, store = container.services["vault"], _store(container)
    pcm = os.urandom(10 * SECOND)
    rid = _record(container, "call-t", pcm, customer_id="C1", agent_id="agent02")
    other = _record(container, "call-o", pcm, customer_id="C1", agent_id="agent02")
    officer = login(client, users[Role.COMPLIANCE_OFFICER])
    url = f"/api/v1/recordings/{rid}/download"
    original = store.get(f"{rid}.audio")
    bad = bytearray(original)
    bad[150_000] ^= 0x01  # one bit in the third chunk, rewritten in the bucket
    store.put(f"{rid}.audio", bytes(bad))
    with pytest.raises(TamperedError, match="chunk 2"):
        vault.verify(rid)
    r = client.get(url, headers=officer, params={"reason": "投诉调查"})
    assert r.status_code == 409 and r.json()["error"] == "recording_tampered"
    assert container.services["audit"].search(limit=1)[0].outcome == "tampered"
    seek = client.get(
        f"/api/v1/recordings/{rid}/audio",
        headers={**officer, "Range": "bytes=150000-150100"},
        params={"reason": "投诉调查"},
    )
    assert seek.status_code == 409 and seek.json()["error"] == "recording_tampered"
    store.put(f"{rid}.audio", original[:-500])  # cut short
    with pytest.raises(TamperedError):
        vault.verify(rid)
    store.put(f"{rid}.audio", store.get(f"{other}.audio"))  # another call's audio
    with pytest.raises(TamperedError):
        vault.verify(rid)
    store.put(f"{rid}.audio", original)
    store.put(f"{rid}.key", store.get(f"{other}.key"))  # another recording's key header
    with pytest.raises(TamperedError):
        vault.verify(rid)
    store.delete(f"{other}.audio")  # gone from the bucket: missing, not silently empty
    with pytest.raises(NotFound) as e:
        vault.verify(other)
    assert e.value.code == "recording_missing"
    gone = client.get(
        f"/api/v1/recordings/{other}/download", headers=officer, params={"reason": "投诉调查"}
    )
    assert gone.status_code == 404 and gone.json()["error"] == "recording_missing"


def test_rotation_on_s3_rewraps_keys_without_rewriting_audio(container: Container) -> None:
    vault, life, store = (
        container.services["vault"],
        container.services["vault_lifecycle"],
        _store(container),
    )
    pcm = os.urandom(3 * SECOND)
    rids = [_record(container, f"call-{i}", pcm) for i in range(3)]
    old_kid = vault.get(rids[0]).key_id

    def stat(name: str) -> tuple[str, object]:
        s = store._client.stat_object(store.bucket, name)
        return s.etag, s.last_modified

    audio_before = {r: stat(f"{r}.audio") for r in rids}
    key_before = {r: store.get(f"{r}.key") for r in rids}
    report = life.rotate(actor="root")
    assert report.rewrapped == 3 and report.new_key_id != old_kid
    assert {r: stat(f"{r}.audio") for r in rids} == audio_before  # audio objects untouched
    assert all(store.get(f"{r}.key") != key_before[r] for r in rids)
    assert all(b"".join(vault.pcm_chunks(r)) == pcm for r in rids)
    life.retire(old_kid, actor="root")
    assert b"".join(vault.pcm_chunks(rids[1])) == pcm


def test_purge_on_s3_deletes_objects_past_retention_but_keeps_held_ones(
    container: Container, clock: ManualClock
) -> None:
    vault, life, store = (
        container.services["vault"],
        container.services["vault_lifecycle"],
        _store(container),
    )
    old = _record(container, "call-old", b"\x00" * 640)
    held = _record(container, "call-held", b"\x00" * 640)
    young = _record(container, "call-young", b"\x00" * 640, started_at=START + timedelta(days=400))
    life.set_hold(held, on=True, reason="诉讼 case 2026-17", actor="officer")
    clock.advance((5 * 365 + 2) * 86400.0)
    report = life.purge(actor="officer")
    assert report.purged == [old] and report.held == 1
    assert not store.exists(f"{old}.audio") and not store.exists(f"{old}.key")
    assert store.exists(f"{held}.audio") and vault.verify(held) == 640
    assert vault.verify(young) == 640
    life.set_hold(held, on=False, reason="case closed", actor="officer")
    assert life.purge(actor="officer").purged == [held]
    assert not store.exists(f"{held}.audio")
    objects = {o.object_name for o in store._client.list_objects(store.bucket, recursive=True)}
    assert objects == {f"{young}.audio", f"{young}.key"}


def test_a_recording_cut_by_a_crash_on_s3_is_reported_lost_once(
    container: Container, settings: Settings, clock: ManualClock
) -> None:
    """S3 cannot hand back an unfinished multipart upload: the recording is reported lost,
    once, and reads say why; the call it belonged to keeps its record."""
    from lendline.app import build_container
    from lendline.errors import NotFound
    from lendline.store.models import CallRow

    with container.db.session() as s:
        s.add(CallRow(call_id="call-cut", state="connected", started_at=START, node_id="node-1"))
    w = container.services["recording_sink"].open(RecordingMeta("call-cut", START))
    w.write(os.urandom(3 * SECOND))  # then the process died
    after = build_container(settings)
    vault = after.services["vault"]
    [outcome] = vault.recover_interrupted("node-1")
    assert (outcome.recording_id, outcome.outcome) == (w.recording_id, "lost")
    assert vault.get(w.recording_id).state == "lost"
    assert vault.recover_interrupted("node-1") == []  # not reported again
    with pytest.raises(NotFound) as e:
        next(vault.pcm_chunks(w.recording_id))
    assert e.value.code == "recording_lost"
    # past retention it is purged like any other: the key header goes, the row stays
    clock.advance((5 * 365 + 2) * 86400.0)
    report = container.services["vault_lifecycle"].purge(actor="officer")
    assert report.purged == [w.recording_id]
    assert not _store(container).exists(f"{w.recording_id}.key")
    assert vault.get(w.recording_id).state == "purged"
