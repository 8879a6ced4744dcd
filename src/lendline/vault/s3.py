"""S3-compatible object storage for the vault (MinIO, Ceph RGW, cloud S3), via the ``minio``
client (``pip install 'lendline[s3]'``).

Objects are already sealed by the vault, so the store sees only ciphertext. A recording is
spooled to a local temporary file while it is written (bounded memory) and uploaded on
close, multipart for large files.

Status: not exercised against a real server in this repository's CI — no S3-compatible
server installs here from PyPI or Debian. ``tests/integration/compliance/test_s3_store.py``
runs when ``LENDLINE_TEST_S3_ENDPOINT`` (+ ``_ACCESS_KEY``, ``_SECRET_KEY``) names one.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

from lendline.errors import ConfigError, NotFound, UpstreamError
from lendline.vault.blobs import BlobWriter, check_name

PART_BYTES = 16 * 1024 * 1024


class _S3Writer:
    def __init__(self, store: S3BlobStore, name: str) -> None:
        self._store = store
        self._name = name
        self._spool = tempfile.NamedTemporaryFile(prefix="lendline-s3-", delete=False)  # noqa: SIM115

    def write(self, data: bytes) -> None:
        self._spool.write(data)

    def close(self) -> None:
        self._spool.close()
        try:
            self._store._client.fput_object(
                self._store.bucket, self._name, self._spool.name, part_size=PART_BYTES
            )
        except Exception as exc:
            raise UpstreamError(f"S3 upload of {self._name} failed: {exc}") from exc
        finally:
            os.unlink(self._spool.name)

    def abort(self) -> None:
        self._spool.close()
        os.unlink(self._spool.name)


class S3BlobStore:
    def __init__(
        self, *, endpoint: str, bucket: str, access_key: str, secret_key: str, region: str = ""
    ) -> None:
        try:
            from minio import Minio
        except ImportError as exc:
            raise ConfigError("vault_store=s3 needs: pip install 'lendline[s3]'") from exc
        url = urlparse(endpoint)
        if url.scheme not in ("http", "https") or not url.netloc:
            raise ConfigError(f"vault_s3_endpoint must be http(s)://host:port, not {endpoint!r}")
        self.bucket = bucket
        self._client: Any = Minio(
            url.netloc,
            access_key=access_key,
            secret_key=secret_key,
            secure=url.scheme == "https",
            region=region or None,
        )
        if not self._client.bucket_exists(bucket):
            self._client.make_bucket(bucket)

    def open_write(self, name: str) -> BlobWriter:
        return _S3Writer(self, check_name(name))

    def _get(self, name: str) -> Any:
        from minio.error import S3Error

        try:
            return self._client.get_object(self.bucket, check_name(name))
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject"):
                raise NotFound(f"no object {name}", code="recording_missing") from exc
            raise UpstreamError(f"S3 read of {name} failed: {exc.code}") from exc

    def read_blocks(self, name: str, block_bytes: int) -> Iterator[bytes]:
        resp = self._get(name)
        try:
            buf = b""
            while chunk := resp.read(block_bytes):
                buf += chunk
                while len(buf) >= block_bytes:
                    yield buf[:block_bytes]
                    buf = buf[block_bytes:]
            if buf:
                yield buf
        finally:
            resp.close()
            resp.release_conn()

    def read_range(self, name: str, offset: int, length: int) -> bytes:
        from minio.error import S3Error

        try:
            resp = self._client.get_object(
                self.bucket, check_name(name), offset=offset, length=length
            )
        except S3Error as exc:
            raise UpstreamError(f"S3 read of {name} failed: {exc.code}") from exc
        try:
            return bytes(resp.read())
        finally:
            resp.close()
            resp.release_conn()

    def put(self, name: str, data: bytes) -> None:
        import io

        self._client.put_object(self.bucket, check_name(name), io.BytesIO(data), len(data))

    def get(self, name: str) -> bytes:
        resp = self._get(name)
        try:
            return bytes(resp.read())
        finally:
            resp.close()
            resp.release_conn()

    def delete(self, name: str) -> None:
        self._client.remove_object(self.bucket, check_name(name))

    def exists(self, name: str) -> bool:
        from minio.error import S3Error

        try:
            self._client.stat_object(self.bucket, check_name(name))
            return True
        except S3Error:
            return False
