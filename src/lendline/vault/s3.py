"""S3-compatible object storage for the vault (MinIO, Ceph RGW, SeaweedFS, cloud S3), via the
``minio`` client (``pip install 'lendline[s3]'``).

Objects are already sealed by the vault, so the store sees only ciphertext. A recording goes
up as a multipart upload *while the call goes on*: each full part (``part_bytes``, 8 MiB by
default, 5 MiB at least as S3 requires) is spooled to a local temporary file and sent by a
small pool of uploader threads, so ``write`` never waits for the network and ``close`` only
sends the last part and completes the upload. A recording shorter than one part is a single
PUT. ``abort`` aborts the upload, so no parts linger on the server.

Errors: a missing object is ``NotFound`` (``recording_missing``), like the local store; any
other failure (refused credentials, unreachable server, a 5xx after the client's retries) is
``UpstreamError`` with code ``storage_unavailable`` — never mistaken for a missing object.

Tested against a real S3 server (SeaweedFS's gateway, started by the tests) in
``tests/integration/compliance/test_s3_store.py`` and ``test_vault_s3.py``.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import IO, Any, TypeVar
from urllib.parse import urlparse

from lendline.errors import ConfigError, NotFound, UpstreamError
from lendline.vault.blobs import BlobWriter, check_name

MIN_PART_BYTES = 5 * 1024 * 1024  # S3's minimum for every part but the last
PART_BYTES = 8 * 1024 * 1024  # 8 MiB ≈ 4.4 min of stereo 8 kHz 16-bit audio
UPLOAD_THREADS = 4
_MISSING = ("NoSuchKey", "NoSuchObject", "ResourceNotFound")
T = TypeVar("T")


def _unavailable(what: str, exc: BaseException) -> UpstreamError:
    detail = getattr(exc, "code", None) or type(exc).__name__
    return UpstreamError(f"S3 {what} failed: {detail}", code="storage_unavailable")


class _S3Writer:
    """One recording being uploaded; used by one media task (not thread-safe itself)."""

    def __init__(self, store: S3BlobStore, name: str) -> None:
        self._store = store
        self._name = name
        self._part: IO[bytes] = tempfile.TemporaryFile(prefix="lendline-s3-")  # noqa: SIM115
        self._part_len = 0
        self._upload_id: Future[str] | None = None
        self._sent: list[Future[tuple[int, str]]] = []

    @property
    def parts_sent(self) -> int:
        """Parts handed to the uploader so far (the last one goes on ``close``)."""
        return len(self._sent)

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            room = self._store.part_bytes - self._part_len
            self._part.write(view[:room])
            self._part_len += min(room, len(view))
            view = view[room:]
            if self._part_len == self._store.part_bytes:
                self._send_part()

    def _send_part(self) -> None:
        """Hand the spooled part to the uploader threads and start a new one."""
        store, part = self._store, self._part
        if self._upload_id is None:
            self._upload_id = store._pool.submit(store._create_upload, self._name)
        upload_id, number = self._upload_id, len(self._sent) + 1
        # FIFO pool: the create job starts before any part job that waits on its result
        self._sent.append(
            store._pool.submit(store._upload_part, self._name, upload_id, number, part)
        )
        self._part = tempfile.TemporaryFile(prefix="lendline-s3-")  # noqa: SIM115
        self._part_len = 0

    def close(self) -> None:
        store = self._store
        if self._upload_id is None:  # shorter than one part: a single PUT
            self._part.seek(0)
            data = self._part.read()
            self._part.close()
            store._call("upload", lambda: store._put(self._name, data))
            return
        if self._part_len:
            self._send_part()
        self._part.close()
        try:
            parts = [f.result() for f in self._sent]
            upload_id = self._upload_id.result()
        except Exception as exc:
            self.abort()
            if isinstance(exc, UpstreamError):
                raise
            raise _unavailable(f"upload of {self._name}", exc) from exc
        store._call("upload", lambda: store._complete(self._name, upload_id, parts))

    def abort(self) -> None:
        self._part.close()
        for f in self._sent:
            f.cancel()
        if self._upload_id is None:
            return
        try:
            upload_id = self._upload_id.result()
            for f in self._sent:  # let running part uploads end before aborting
                if not f.cancelled():
                    f.exception()
            self._store._client._abort_multipart_upload(self._store.bucket, self._name, upload_id)
        except Exception:  # best effort: a bucket lifecycle rule mops up what is left
            pass


class S3BlobStore:
    """``BlobStore`` on an S3 bucket (created when missing, unless ``create_bucket=False``)."""

    def __init__(
        self,
        *,
        endpoint: str,
        bucket: str,
        access_key: str,
        secret_key: str,
        region: str = "",
        part_bytes: int = PART_BYTES,
        create_bucket: bool = True,
    ) -> None:
        try:
            from minio import Minio
        except ImportError as exc:
            raise ConfigError("vault_store=s3 needs: pip install 'lendline[s3]'") from exc
        url = urlparse(endpoint)
        if url.scheme not in ("http", "https") or not url.netloc:
            raise ConfigError(f"vault_s3_endpoint must be http(s)://host:port, not {endpoint!r}")
        if part_bytes < MIN_PART_BYTES:
            raise ConfigError(f"S3 parts are {MIN_PART_BYTES} bytes at least, not {part_bytes}")
        self.bucket = bucket
        self.part_bytes = part_bytes
        self._client: Any = Minio(
            url.netloc,
            access_key=access_key,
            secret_key=secret_key,
            secure=url.scheme == "https",
            region=region or None,
        )
        self._pool = ThreadPoolExecutor(UPLOAD_THREADS, thread_name_prefix="s3-upload")
        if create_bucket:
            self._call(f"bucket check of {bucket}", self._ensure_bucket)

    def _ensure_bucket(self) -> None:
        if not self._client.bucket_exists(self.bucket):
            self._client.make_bucket(self.bucket)

    def _call(self, what: str, fn: Callable[[], T], name: str = "") -> T:
        """Run one client call, mapping its errors onto ours."""
        from minio.error import MinioException, S3Error
        from urllib3.exceptions import HTTPError

        try:
            return fn()
        except S3Error as exc:
            if exc.code in _MISSING:
                raise NotFound(f"no object {name}", code="recording_missing") from exc
            raise _unavailable(f"{what} {name}".rstrip(), exc) from exc
        except (MinioException, HTTPError, OSError) as exc:  # refused, reset, retries spent
            raise _unavailable(f"{what} {name}".rstrip(), exc) from exc

    # --- the multipart calls (minio 7's methods for the S3 operations of the same name) ---
    def _create_upload(self, name: str) -> str:
        return str(self._client._create_multipart_upload(self.bucket, name, {}))

    def _upload_part(
        self, name: str, upload_id: Future[str], number: int, part: IO[bytes]
    ) -> tuple[int, str]:
        try:
            part.seek(0)
            data = part.read()
        finally:
            part.close()
        uid = upload_id.result()
        etag = self._call(
            "part upload",
            lambda: self._client._upload_part(self.bucket, name, data, None, uid, number),
            name,
        )
        return number, str(etag)

    def _complete(self, name: str, upload_id: str, parts: list[tuple[int, str]]) -> None:
        from minio.datatypes import Part

        done = [Part(n, etag) for n, etag in sorted(parts)]
        self._client._complete_multipart_upload(self.bucket, name, upload_id, done)

    def _put(self, name: str, data: bytes) -> None:
        self._client.put_object(self.bucket, name, io.BytesIO(data), len(data))

    # --- BlobStore ---
    def open_write(self, name: str) -> BlobWriter:
        return _S3Writer(self, check_name(name))

    def _get(self, name: str, offset: int = 0, length: int = 0) -> Any:
        return self._call(
            "read",
            lambda: self._client.get_object(self.bucket, name, offset=offset, length=length),
            name,
        )

    def read_blocks(self, name: str, block_bytes: int) -> Iterator[bytes]:
        resp = self._get(check_name(name))
        try:
            buf = bytearray()
            while True:
                chunk = self._call("read", lambda: resp.read(block_bytes), name)
                if not chunk:
                    break
                buf += chunk
                while len(buf) >= block_bytes:
                    yield bytes(buf[:block_bytes])
                    del buf[:block_bytes]
            if buf:
                yield bytes(buf)
        finally:
            resp.close()
            resp.release_conn()

    def read_range(self, name: str, offset: int, length: int) -> bytes:
        from minio.error import S3Error

        check_name(name)
        if length <= 0:  # minio reads to the end for length 0
            return b""
        try:
            resp = self._get(name, offset, length)
        except UpstreamError as exc:
            cause = exc.__cause__
            if isinstance(cause, S3Error) and cause.code == "InvalidRange":
                return b""  # starts past the end: like reading a file there
            raise
        try:
            return bytes(self._call("read", resp.read, name))
        finally:
            resp.close()
            resp.release_conn()

    def put(self, name: str, data: bytes) -> None:
        self._call("write", lambda: self._put(check_name(name), data), name)

    def get(self, name: str) -> bytes:
        resp = self._get(check_name(name))
        try:
            return bytes(self._call("read", resp.read, name))
        finally:
            resp.close()
            resp.release_conn()

    def delete(self, name: str) -> None:
        self._call("delete", lambda: self._client.remove_object(self.bucket, check_name(name)))

    def exists(self, name: str) -> bool:
        try:
            self._call("stat", lambda: self._client.stat_object(self.bucket, check_name(name)))
        except NotFound:
            return False
        return True
