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
