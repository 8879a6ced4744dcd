"""Where sealed recordings live: a ``BlobStore`` (local folder by default, S3 optional).

Objects are written once through a streaming writer (``open_write``) and read back as a
stream of byte blocks; only the small key header is ever rewritten (``put``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from lendline.errors import NotFound, ValidationError

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,200}$")


def check_name(name: str) -> str:
    if not _NAME_RE.match(name) or ".." in name:
        raise ValidationError(f"bad object name {name!r}", field="name")
    return name


class BlobWriter(Protocol):
    def write(self, data: bytes) -> None: ...

    def close(self) -> None:
        """Make the object durable and visible under its name."""
        ...

    def abort(self) -> None: ...


class BlobStore(Protocol):
    def open_write(self, name: str) -> BlobWriter: ...

    def read_blocks(self, name: str, block_bytes: int) -> Iterator[bytes]:
        """The object as consecutive blocks of ``block_bytes`` (the last may be shorter)."""
        ...

    def read_range(self, name: str, offset: int, length: int) -> bytes:
        """``length`` bytes from ``offset`` (fewer at the end of the object)."""
        ...

    def put(self, name: str, data: bytes) -> None:
        """Write (or atomically replace) a small object."""
        ...

    def get(self, name: str) -> bytes: ...

    def delete(self, name: str) -> None: ...

    def exists(self, name: str) -> bool: ...


class _LocalWriter:
    def __init__(self, final: Path) -> None:
        self._final = final
        self._tmp = final.with_name(final.name + ".part")
        final.parent.mkdir(parents=True, exist_ok=True)
        self._f = open(self._tmp, "wb")  # noqa: SIM115 - closed in close()/abort()

    def write(self, data: bytes) -> None:
        self._f.write(data)

    def close(self) -> None:
        self._f.flush()
        os.fsync(self._f.fileno())
        self._f.close()
        os.replace(self._tmp, self._final)

    def abort(self) -> None:
        self._f.close()
        self._tmp.unlink(missing_ok=True)


class LocalBlobStore:
    """Objects as files under ``root`` (written to ``.part`` then renamed: never half-seen)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def _path(self, name: str) -> Path:
        return self.root / check_name(name)

    def open_write(self, name: str) -> BlobWriter:
        return _LocalWriter(self._path(name))

    def read_blocks(self, name: str, block_bytes: int) -> Iterator[bytes]:
        path = self._path(name)
        if not path.is_file():
            raise NotFound(f"no object {name}", code="recording_missing")
        with open(path, "rb") as f:
            while block := f.read(block_bytes):
                yield block

    def read_range(self, name: str, offset: int, length: int) -> bytes:
        path = self._path(name)
        if not path.is_file():
            raise NotFound(f"no object {name}", code="recording_missing")
        with open(path, "rb") as f:
            f.seek(offset)
            return f.read(length)

    def put(self, name: str, data: bytes) -> None:
        w = _LocalWriter(self._path(name))
        w.write(data)
        w.close()

    def get(self, name: str) -> bytes:
        path = self._path(name)
        if not path.is_file():
            raise NotFound(f"no object {name}", code="recording_missing")
        return path.read_bytes()

    def delete(self, name: str) -> None:
        self._path(name).unlink(missing_ok=True)

    def exists(self, name: str) -> bool:
        return self._path(name).is_file()

    def salvage_partial(self, name: str) -> str | None:
        """The object a writer of ``name`` left unfinished (a crash before ``close``).

        Renames ``<name>.part`` to ``<name>.salvaged`` (so a new writer of ``name`` may
        start) and returns that object's name, readable with ``read_blocks`` and removed
        with ``delete``; an earlier, interrupted salvage is returned again. ``None`` when
        there is nothing to salvage.
        """
        path = self._path(name)
        salvaged = path.with_name(path.name + ".salvaged")
        part = path.with_name(path.name + ".part")
        if part.is_file() and not salvaged.is_file():
            os.replace(part, salvaged)
        return f"{name}.salvaged" if salvaged.is_file() else None
