from __future__ import annotations

import os
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lendline.compliance.envelope import (
    ChunkSealer,
    Header,
    TamperedError,
    new_header,
    open_chunks,
    sealed_chunk_bytes,
    unwrap_key,
)
from lendline.compliance.keys import Keyring, key_id_of

MASTER = bytes(range(32))
KID = key_id_of(MASTER)
META = {"call_id": "call-1", "customer_id": "C1", "started_at": "2026-01-05T01:00:00+00:00"}


def _seal(data: bytes, chunk: int = 1024, feed: int = 333) -> tuple[Header, bytes, list[bytes]]:
    header, dek = new_header("rec-1", META, KID, MASTER)
    header = Header(
        header.recording_id, header.meta, header.nonce_prefix, chunk, KID, header.wrapped_dek
    )
    sealer = ChunkSealer(header, dek)
    stream = b""
    for i in range(0, len(data), feed):
        stream += b"".join(sealer.feed(data[i : i + feed]))
    stream += sealer.finish()
    size = sealed_chunk_bytes(header)
    return header, dek, [stream[i : i + size] for i in range(0, len(stream), size)]


def _open(header: Header, chunks: list[bytes]) -> bytes:
    dek = unwrap_key(MASTER, header.key_id, header.recording_id, header.wrapped_dek)
    return b"".join(open_chunks(header, dek, chunks))


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=5000), st.integers(min_value=1, max_value=700))
def test_round_trip_any_size_any_feed(data: bytes, feed: int) -> None:
    header, _, chunks = _seal(data, feed=feed)
    assert _open(header, chunks) == data


@pytest.mark.parametrize("size", [0, 1024, 2048, 2049])
def test_round_trip_on_chunk_boundaries(size: int) -> None:
    data = os.urandom(size)
    header, _, chunks = _seal(data)
    assert _open(header, chunks) == data
    assert len(chunks) == max(1, -(-size // 1024))


def test_flipped_bit_is_detected() -> None:
    header, _, chunks = _seal(os.urandom(5000))
    bad = bytearray(chunks[1])
    bad[10] ^= 1
    chunks[1] = bytes(bad)
    with pytest.raises(TamperedError, match="chunk 1"):
        _open(header, chunks)


def test_truncation_reordering_and_appending_are_detected() -> None:
    header, _, chunks = _seal(os.urandom(5000))
    with pytest.raises(TamperedError):
        _open(header, chunks[:-1])  # the last chunk dropped: the new last is not flagged last
    with pytest.raises(TamperedError):
        _open(header, [chunks[1], chunks[0], *chunks[2:]])
    with pytest.raises(TamperedError):
        _open(header, [*chunks, chunks[0]])
    with pytest.raises(TamperedError):
        _open(header, [])


def test_sealed_metadata_cannot_be_edited() -> None:
    header, dek, _ = _seal(b"abc")
    with pytest.raises(TamperedError):
        header.check_meta(dek)  # not sealed yet
    sealed = header.sealed(dek, {**META, "audio_bytes": 3})
    sealed.check_meta(dek)
    forged = replace(sealed, meta={**sealed.meta, "customer_id": "C2"})
    with pytest.raises(TamperedError):
        forged.check_meta(dek)
    with pytest.raises(TamperedError):
        sealed.check_meta(os.urandom(32))  # a tag made with another data key


def test_chunks_of_another_recording_fail() -> None:
    header, _, chunks = _seal(os.urandom(3000))
    other = replace(header, recording_id="rec-2")
    with pytest.raises(TamperedError):
        _open_with(other, header, chunks)


def _open_with(header: Header, key_header: Header, chunks: list[bytes]) -> bytes:
    dek = unwrap_key(MASTER, key_header.key_id, key_header.recording_id, key_header.wrapped_dek)
    return b"".join(open_chunks(header, dek, chunks))


def test_wrong_master_key_cannot_unwrap() -> None:
    header, _, _ = _seal(b"abc")
    with pytest.raises(TamperedError):
        unwrap_key(b"x" * 32, header.key_id, header.recording_id, header.wrapped_dek)
    with pytest.raises(TamperedError):  # a wrapped key moved to another recording
        unwrap_key(MASTER, header.key_id, "rec-2", header.wrapped_dek)


def test_rewrap_changes_only_the_key_header() -> None:
    data = os.urandom(4000)
    header, _, chunks = _seal(data)
    new_master = os.urandom(32)
    new_kid = key_id_of(new_master)
    header = header.sealed(
        unwrap_key(MASTER, KID, "rec-1", header.wrapped_dek), {**META, "audio_bytes": 4000}
    )
    rotated = header.rewrapped(MASTER, new_kid, new_master)
    assert rotated.key_id == new_kid and rotated.wrapped_dek != header.wrapped_dek
    dek = unwrap_key(new_master, new_kid, "rec-1", rotated.wrapped_dek)
    assert b"".join(open_chunks(rotated, dek, chunks)) == data  # same audio bytes
    rotated.check_meta(dek)  # the metadata tag survives rotation
    assert Header.from_bytes(rotated.to_bytes()) == rotated


def test_unreadable_header_is_tampering() -> None:
    with pytest.raises(TamperedError):
        Header.from_bytes(b"{not json")
    with pytest.raises(TamperedError):
        Header.from_bytes(b'{"format": "other"}')


def test_keyring_refuses_wrong_sizes_and_mislabelled_keys() -> None:
    ring = Keyring()
    kid = ring.add(MASTER)
    assert kid == KID and ring.get(kid) == MASTER
    with pytest.raises(Exception, match="32 bytes"):
        ring.add(b"short")
    with pytest.raises(Exception, match="holds key"):
        ring.add(os.urandom(32), expected_id=KID)
    with pytest.raises(Exception, match="not available"):
        ring.get("mk-000000000000")
