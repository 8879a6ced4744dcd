"""The S3 adapter against a real S3-compatible server, when one is named in the environment.

No S3-compatible server installs on this machine (checked: PyPI and Debian offer MinIO only
as client libraries; Debian's rclone 1.60 predates ``rclone serve s3``), so in CI this test
is skipped and the adapter is untested. A fake (moto) would not count as a real server.
"""

from __future__ import annotations

import os
import uuid

import pytest

from lendline.errors import NotFound

ENDPOINT = os.environ.get("LENDLINE_TEST_S3_ENDPOINT", "")

pytestmark = pytest.mark.skipif(
    not ENDPOINT, reason="no S3-compatible server here: set LENDLINE_TEST_S3_ENDPOINT to run"
)


def test_round_trip_against_a_real_server() -> None:
    from lendline.vault.s3 import S3BlobStore

    store = S3BlobStore(
        endpoint=ENDPOINT,
        bucket=f"lendline-test-{uuid.uuid4().hex[:8]}",
        access_key=os.environ.get("LENDLINE_TEST_S3_ACCESS_KEY", "minioadmin"),
        secret_key=os.environ.get("LENDLINE_TEST_S3_SECRET_KEY", "minioadmin"),
    )
    data = os.urandom(300_000)
    w = store.open_write("rec-1.audio")
    for i in range(0, len(data), 4096):
        w.write(data[i : i + 4096])
    w.close()
    assert b"".join(store.read_blocks("rec-1.audio", 65_552)) == data
    assert [len(b) for b in store.read_blocks("rec-1.audio", 65_552)][:4] == [65_552] * 4
    store.put("rec-1.key", b"{}")
    assert store.get("rec-1.key") == b"{}" and store.exists("rec-1.key")
    store.delete("rec-1.audio")
    with pytest.raises(NotFound):
        store.get("rec-1.audio")
