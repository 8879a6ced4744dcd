"""Every endpoint of the OpenAPI schema, fed generated payloads, paths and queries
(schemathesis): a wrong input is a 4xx with a stable error body, never a 500.

Bounded for CI (a few examples per operation); `make bench` is not the place for it either:
run it longer with ``LENDLINE_FUZZ_EXAMPLES=200``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from lendline.app import build_container
from lendline.demo.seed import seed_demo_data
from lendline.web.app import create_app
from tests.conftest import make_settings

EXAMPLES = int(os.environ.get("LENDLINE_FUZZ_EXAMPLES", "6"))


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    from lendline.store.migrate import upgrade

    tmp = tmp_path_factory.mktemp("fuzz")
    url = f"sqlite:///{tmp / 'lendline.db'}"
    upgrade(url)
    c = build_container(make_settings(Path(tmp), url, demo_customers=40))
    seed_demo_data(c)
    yield create_app(c, manage_lifecycle=False)
    c.db.dispose()


@pytest.fixture(scope="module")
def token(app: FastAPI) -> str:
    r = TestClient(app).post(
        "/api/v1/session/login", json={"username": "admin", "password": "demo-Passw0rd!"}
    )
    assert r.status_code == 200, r.text
    return str(r.json()["token"])


def test_no_input_makes_a_server_error(app: FastAPI, token: str) -> None:
    from hypothesis import given

    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @hypothesis_settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def call(case: schemathesis.Case) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
            response = case.call()
            where = f"{case.method} {case.formatted_path}"
            if response.status_code >= 500:
                failures.append(f"{where} -> {response.status_code}: {response.text[:200]}")
            elif response.status_code >= 400 and "json" in response.headers.get("content-type", ""):
                body = response.json()
                if not (isinstance(body.get("error"), str) and "detail" in body):
                    failures.append(f"{where} -> {response.status_code} without a stable body")

        call()
    assert operations > 50  # the whole API was walked
    assert not failures, "\n".join(failures[:20])
