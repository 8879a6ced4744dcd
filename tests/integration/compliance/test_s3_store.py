"""The S3 adapter (``vault/s3.py``) against a real S3-compatible server over HTTP.

The server is SeaweedFS's S3 gateway, started by the ``s3_endpoint`` fixture (or the server
named by ``LENDLINE_TEST_S3_ENDPOINT``): real SigV4 authentication, multipart uploads, ranged
GETs. What it does not prove is said in docs/compliance.md.
"""

from __future__ import annotations

import os

import pytest

from lendline.errors import LendlineError, NotFound
from lendline.vault.s3 import MIN_PART_BYTES, S3BlobStore
from tests.s3server import S3Endpoint


def _store(ep: S3Endpoint, **kw: object) -> S3BlobStore:
    return S3BlobStore(
        endpoint=ep.url,
        bucket=ep.bucket,
        access_key=ep.access_key,
        secret_key=ep.secret_key,
        **kw,  # type: ignore[arg-type]
    )


def test_streamed_write_then_block_and_range_reads(s3_endpoint: S3Endpoint) -> None:
    store = _store(s3_endpoint)
    data = os.urandom(300_000)
    w = store.open_write("rt/rec-1.audio")
    for i in range(0, len(data), 4096):
        w.write(data[i : i + 4096])
    assert not store.exists("rt/rec-1.audio")  # not visible before close
    w.close()
    blocks = list(store.read_blocks("rt/rec-1.audio", 65_552))
    assert b"".join(blocks) == data
    assert [len(b) for b in blocks] == [65_552] * 4 + [300_000 - 4 * 65_552]
    assert store.read_range("rt/rec-1.audio", 0, 10) == data[:10]
    assert store.read_range("rt/rec-1.audio", 131_104, 65_552) == data[131_104:196_656]
    assert store.read_range("rt/rec-1.audio", 299_990, 100) == data[299_990:]  # short at end
    assert store.read_range("rt/rec-1.audio", 300_000, 10) == b""  # past the end, like a file
    store.put("rt/rec-1.key", b"{}")
    store.put("rt/rec-1.key", b'{"v":2}')  # the key header is replaced on seal and rotation
    assert store.get("rt/rec-1.key") == b'{"v":2}' and store.exists("rt/rec-1.key")
    store.delete("rt/rec-1.audio")
    store.delete("rt/rec-1.audio")  # deleting twice is not an error (purge may be re-run)
    assert not store.exists("rt/rec-1.audio")


def test_a_long_recording_is_uploaded_in_parts_while_it_is_written(
    s3_endpoint: S3Endpoint,
) -> None:
    store = _store(s3_endpoint, part_bytes=MIN_PART_BYTES)
    data = os.urandom(2 * MIN_PART_BYTES + 123_457)  # three parts, the last one short
    w = store.open_write("long/rec-2.audio")
    for i in range(0, len(data), 64_000):
        w.write(data[i : i + 64_000])
    assert w.parts_sent >= 2  # type: ignore[attr-defined]  # before close: streamed
    w.close()
    stat = store._client.stat_object(store.bucket, "long/rec-2.audio")
    assert stat.size == len(data) and stat.etag.endswith("-3")  # a 3-part multipart upload
    assert b"".join(store.read_blocks("long/rec-2.audio", 1 << 20)) == data
    at = MIN_PART_BYTES - 100  # a range across the first part boundary
    assert store.read_range("long/rec-2.audio", at, 200) == data[at : at + 200]


def test_an_aborted_recording_leaves_no_object_and_no_upload(s3_endpoint: S3Endpoint) -> None:
    store = _store(s3_endpoint, part_bytes=MIN_PART_BYTES)
    w = store.open_write("abort/rec-3.audio")
    w.write(os.urandom(MIN_PART_BYTES + 10))
    w.abort()
    assert not store.exists("abort/rec-3.audio")
    uploads = store._client._list_multipart_uploads(store.bucket, prefix="abort/")
    assert [u.object_name for u in uploads.uploads] == []


def test_missing_objects_are_not_found(s3_endpoint: S3Endpoint) -> None:
    store = _store(s3_endpoint)
    for read in (
        lambda: store.get("nope.key"),
        lambda: b"".join(store.read_blocks("nope.audio", 1024)),
        lambda: store.read_range("nope.audio", 0, 10),
    ):
        with pytest.raises(NotFound) as e:
            read()
        assert e.value.code == "recording_missing"
    assert store.exists("nope.audio") is False


def test_wrong_credentials_are_an_error_not_a_missing_object(s3_endpoint: S3Endpoint) -> None:
    good = _store(s3_endpoint)
    good.put("cred/rec.key", b"{}")
    bad = S3BlobStore(  # no bucket check, to reach every call
        endpoint=s3_endpoint.url,
        bucket=s3_endpoint.bucket,
        access_key=s3_endpoint.access_key,
        secret_key="not-the-secret",
        create_bucket=False,
    )
    for call in (
        lambda: bad.exists("cred/rec.key"),
        lambda: bad.get("cred/rec.key"),
        lambda: bad.read_range("cred/rec.key", 0, 1),
        lambda: bad.put("cred/other.key", b"{}"),
        lambda: bad.delete("cred/rec.key"),
    ):
        with pytest.raises(LendlineError) as e:
            call()
        assert e.value.code == "storage_unavailable", e.value
    assert good.get("cred/rec.key") == b"{}"
    with pytest.raises(LendlineError) as e:
        _store(S3Endpoint(s3_endpoint.url, s3_endpoint.access_key, "wrong", s3_endpoint.bucket))
    assert e.value.code == "storage_unavailable"


def test_a_refused_streamed_upload_fails_at_close_and_leaves_nothing(
    s3_endpoint: S3Endpoint,
) -> None:
    bad = S3BlobStore(
        endpoint=s3_endpoint.url,
        bucket=s3_endpoint.bucket,
        access_key=s3_endpoint.access_key,
        secret_key="not-the-secret",
        part_bytes=MIN_PART_BYTES,
        create_bucket=False,
    )
    w = bad.open_write("refused/rec-4.audio")
    w.write(os.urandom(MIN_PART_BYTES + 10))  # a part goes to the uploader, which is refused
    with pytest.raises(LendlineError) as e:
        w.close()
    assert e.value.code == "storage_unavailable"
    good = _store(s3_endpoint)
    assert not good.exists("refused/rec-4.audio")
    uploads = good._client._list_multipart_uploads(good.bucket, prefix="refused/")
    assert [u.object_name for u in uploads.uploads] == []
