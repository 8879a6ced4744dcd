from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from lendline.app import build_container
from lendline.settings import Settings
from lendline.web.app import create_app


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    c = build_container(settings)
    with TestClient(create_app(c)) as tc:
        yield tc


def test_healthz_and_metrics(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok"
    m = client.get("/metrics")
    assert m.status_code == 200 and "python_info" in m.text


def test_unknown_route_has_stable_error_body(client: TestClient) -> None:
    r = client.get("/api/v1/nope")
    assert r.status_code == 404
    assert r.json()["error"] == "not_found"
