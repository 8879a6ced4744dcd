from __future__ import annotations

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from lendline.app import Container
from lendline.cli import app as cli_app
from lendline.settings import Settings


def _fill(c: Container, n: int) -> None:
    for i in range(n):
        c.services["audit"].record(
            actor="officer",
            action="recordings.play",
            target=f"rec-{i}",
            detail=f"reason {i}; caller 13812345678",
        )


def test_chain_is_intact_and_masks_personal_data(container: Container) -> None:
    _fill(container, 6)
    report = container.services["audit"].verify()
    assert report.ok and report.checked == 6
    entries = container.services["audit"].search()
    assert [e.seq for e in entries] == [6, 5, 4, 3, 2, 1]
    assert all("13812345678" not in e.detail and "138****5678" in e.detail for e in entries)


@pytest.mark.parametrize(
    ("sql", "seq", "problem"),
    [
        ("UPDATE audit_log SET detail='nothing to see' WHERE seq=3", 3, "hash_mismatch"),
        ("UPDATE audit_log SET actor='someone_else' WHERE seq=5", 5, "hash_mismatch"),
        ("DELETE FROM audit_log WHERE seq=2", 3, "sequence_gap"),
        ("DELETE FROM audit_log WHERE seq=6", 6, "truncated"),
    ],
)
def test_an_edited_row_is_caught(container: Container, sql: str, seq: int, problem: str) -> None:
    _fill(container, 6)
    with container.db.engine.begin() as conn:
        conn.execute(text(sql))
    report = container.services["audit"].verify()
    assert report.broken is not None
    assert (report.broken.seq, report.broken.problem) == (seq, problem)


def test_cli_audit_verify_reports_the_first_broken_link(
    container: Container, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill(container, 4)
    for name, value in (
        ("DATABASE_URL", settings.database_url),
        ("DATA_DIR", str(settings.data_dir)),
        ("MASTER_KEY", settings.master_key),
    ):
        monkeypatch.setenv(f"LENDLINE_{name}", value)
    runner = CliRunner()
    ok = runner.invoke(cli_app, ["audit", "verify"])
    assert ok.exit_code == 0 and "4 entries" in ok.output
    with container.db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET target='rec-x' WHERE seq=2"))
    broken = runner.invoke(cli_app, ["audit", "verify"])
    assert broken.exit_code == 1 and "seq 2" in broken.output


def test_concurrent_appends_keep_one_chain(container: Container) -> None:
    """Threads of this node, and on PostgreSQL a second node's log, append to one chain."""
    from concurrent.futures import ThreadPoolExecutor

    from lendline.compliance.keys import derive_key
    from lendline.store.compliance.audit import AuditLog

    logs = [container.services["audit"]]
    if container.db.engine.dialect.name == "postgresql":  # a second node: its own lock
        logs.append(
            AuditLog(
                container.db,
                container.clock,
                derive_key(container.master_key, "lendline/audit-chain/v1"),
            )
        )

    def work(i: int) -> int:
        return int(logs[i % len(logs)].record(actor=f"u{i}", action="test.append", target=str(i)))

    with ThreadPoolExecutor(max_workers=4) as pool:
        seqs = list(pool.map(work, range(40)))
    assert sorted(seqs) == list(range(1, 41))
    report = container.services["audit"].verify()
    assert report.ok and report.checked == 40


def test_face_verification_is_off_by_default_and_the_stub_is_for_tests(
    tmp_path: object, sqlite_url: str
) -> None:
    from pathlib import Path

    from lendline.app import build_container
    from tests.conftest import make_settings

    base = Path(str(tmp_path))
    c = build_container(make_settings(base / "a", sqlite_url))
    assert "face_verifier" not in c.services
    c.db.dispose()
    c = build_container(make_settings(base / "b", sqlite_url, face_verifier="stub-for-tests"))
    stub = c.services["face_verifier"]
    stub.enroll("C1", b"face-bytes")
    assert stub.verify("C1", b"face-bytes").matched
    assert not stub.verify("C1", b"someone else").matched
    assert stub.verify("C1", b"x").provider == "stub-for-tests"
    c.db.dispose()


async def test_the_policy_in_force_is_audited_at_start(
    container: Container, settings: Settings, tmp_path: object
) -> None:
    from pathlib import Path

    from lendline.app import build_container
    from lendline.wiring.compliance import REPO_POLICY

    async def start_node(s: Settings) -> None:  # a node starting (and stopping) on this database
        node = build_container(s, clock=container.clock)
        await node.start()
        await node.stop()

    await start_node(settings)
    first = container.services["audit"].search(action="config.policy")
    assert first[0].outcome == "changed" and first[0].target == str(REPO_POLICY)
    await start_node(settings)  # the same file again: recorded, not a change
    assert container.services["audit"].search(action="config.policy")[0].outcome == "ok"
    edited = Path(str(tmp_path)) / "policy.yaml"
    edited.write_text(REPO_POLICY.read_text(encoding="utf-8").replace('value: "2"', 'value: "1.5"'))
    await start_node(settings.model_copy(update={"policy_file": edited}))
    latest = container.services["audit"].search(action="config.policy")[0]
    assert latest.outcome == "changed" and latest.target == str(edited)
    assert container.services["audit"].verify().ok
