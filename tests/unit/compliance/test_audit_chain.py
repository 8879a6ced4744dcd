from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from lendline.compliance.audit import GENESIS, AuditEntry, first_broken, seal

KEY = b"a" * 32
T = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)


def _chain(n: int) -> list[AuditEntry]:
    out: list[AuditEntry] = []
    prev = GENESIS
    for i in range(1, n + 1):
        e = seal(KEY, AuditEntry(i, T + timedelta(seconds=i), "u", "a", f"t{i}", "ok", "", prev))
        out.append(e)
        prev = e.entry_hash
    return out


def test_intact_chain_verifies() -> None:
    assert first_broken(KEY, _chain(20)) == (20, None)
    assert first_broken(KEY, []) == (0, None)


def test_edited_entry_is_the_first_broken_link() -> None:
    chain = _chain(10)
    chain[4] = replace(chain[4], detail="edited")
    _, broken = first_broken(KEY, chain)
    assert broken is not None and broken.seq == 5 and broken.problem == "hash_mismatch"


def test_resealed_edit_breaks_the_next_link() -> None:
    chain = _chain(10)
    chain[4] = seal(KEY, replace(chain[4], detail="edited"))  # attacker with the key re-seals
    _, broken = first_broken(KEY, chain)
    assert broken is not None and broken.seq == 6 and broken.problem == "link_mismatch"


def test_deleted_entry_is_a_sequence_gap() -> None:
    chain = _chain(10)
    del chain[3]
    _, broken = first_broken(KEY, chain)
    assert broken is not None and broken.seq == 5 and broken.problem == "sequence_gap"


def test_other_key_does_not_verify() -> None:
    _, broken = first_broken(b"b" * 32, _chain(3))
    assert broken is not None and broken.seq == 1
